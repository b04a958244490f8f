"""What monitoring costs: mlel's Sampler beside CodeCarbon's OfflineEmissionsTracker.

    python bench/monitoring_overhead.py [--seconds 8] [--repeats 2] [--pairs 9] [--no-write]

(a) The monitor's own CPU cost: process CPU time per wall second while the main thread only
    sleeps, at 10 Hz and 1 Hz, each in a fresh process (nothing else runs in it).
(b) Wall time of a CPU-bound training (a single-threaded scikit-learn random forest) with
    the monitor at 10 Hz versus none: paired runs in one process, alternating which goes
    first, and the median ratio over the pairs with its range.

Both use the meters this machine has (``discover_meters("cpu")``) and CodeCarbon in its
default machine mode, offline, at the same interval. Results go into docs/benchmarks.md
between the "monitoring-overhead" markers. Takes about three minutes.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as `python bench/monitoring_overhead.py` from anywhere
    sys.path.insert(0, str(ROOT))
DOC = ROOT / "docs" / "benchmarks.md"
MARKER = "monitoring-overhead"
logger = logging.getLogger("bench.monitoring_overhead")


# -- the monitors, as context managers started *before* anything is timed ------------------
class MlelMonitor:
    def __init__(self, hz: float, log_dir: Path):
        from mlel.measurement import Sampler, discover_meters

        self.sampler = Sampler(discover_meters("cpu"), interval_s=1.0 / hz, log_dir=log_dir)

    def __enter__(self):
        self.sampler.start()
        return self

    def __exit__(self, *exc):
        self.sampler.stop()


class CodeCarbonMonitor:
    def __init__(self, hz: float, log_dir: Path):
        from codecarbon import OfflineEmissionsTracker

        self.tracker = OfflineEmissionsTracker(
            country_iso_code="CAN", measure_power_secs=1.0 / hz, save_to_file=False, log_level="error", tracking_mode="machine"
        )

    def __enter__(self):
        self.tracker.start()
        return self

    def __exit__(self, *exc):
        self.tracker.stop()


class NoMonitor:
    def __init__(self, hz: float, log_dir: Path):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass


MONITORS = {"none": NoMonitor, "mlel": MlelMonitor, "codecarbon": CodeCarbonMonitor}


# -- child processes ----------------------------------------------------------------------
def child_idle(monitor: str, hz: float, seconds: float, log_dir: Path) -> dict:
    with MONITORS[monitor](hz, log_dir):
        time.sleep(1.0)  # let the monitor settle (CodeCarbon measures once at start)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        time.sleep(seconds)
        cpu1, wall1 = time.process_time(), time.perf_counter()
    return {"cpu_per_wall_s": (cpu1 - cpu0) / (wall1 - wall0)}


def make_training():
    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier

    x, y = make_classification(n_samples=4000, n_features=30, n_informative=12, random_state=0)

    def fit() -> tuple[float, float]:
        """(wall s, process CPU s): CPU time includes the monitor's thread, and other
        processes on the machine do not inflate it, so it is the steadier of the two."""
        wall, cpu = time.perf_counter(), time.process_time()
        RandomForestClassifier(n_estimators=30, n_jobs=1, random_state=0).fit(x, y)
        return time.perf_counter() - wall, time.process_time() - cpu

    return fit


def child_train(monitor: str, hz: float, pairs: int, log_dir: Path) -> dict:
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        fit = make_training()
        fit()  # warm-up: imports, caches, allocator
        ratios, cpu_ratios, plain, monitored = [], [], [], []
        for i in range(pairs):
            times = {}
            for which in (("none", "with") if i % 2 == 0 else ("with", "none")):
                if which == "none":
                    times["none"] = fit()
                else:
                    with MONITORS[monitor](hz, log_dir):
                        times["with"] = fit()
            plain.append(times["none"][0])
            monitored.append(times["with"][0])
            ratios.append(times["with"][0] / times["none"][0])
            cpu_ratios.append(times["with"][1] / times["none"][1])
    return {"ratios": ratios, "cpu_ratios": cpu_ratios, "plain_s": plain, "monitored_s": monitored}


def run_child(args: list[str]) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", *args], capture_output=True, text=True, env=env, cwd=ROOT)
    if proc.returncode != 0:
        raise RuntimeError(f"child {args} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# -- report -------------------------------------------------------------------------------
def machine_line() -> str:
    from mlel.measurement.estimate import read_cpu_model

    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    return f"{read_cpu_model()}, {os.cpu_count()} logical CPUs, {memory_gib:.0f} GiB, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def load_line() -> str:
    try:
        return "load average " + " / ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "load average unknown"


def pct(x: float) -> str:
    return f"{100 * x:.3f} %"


def meters_line() -> str:
    """What mlel's discovery finds here, as measured or estimated (not a fixed sentence: RAPL or a GPU change it)."""
    import warnings

    from mlel.measurement import discover_meters

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        meters = discover_meters(device="cpu")
    try:
        return " + ".join(f"{m.name} ({m.provenance.value})" for m in meters)
    finally:
        for m in meters:
            getattr(m, "close", lambda: None)()


def main(argv=None) -> int:
    from mlel.cli import ArgumentParser, positive_float, positive_int

    parser = ArgumentParser(prog="bench/monitoring_overhead.py", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=positive_float, default=8.0, help="wall seconds per CPU-cost measurement (a)")
    parser.add_argument("--repeats", type=positive_int, default=2, help="fresh processes per configuration in (a)")
    parser.add_argument("--pairs", type=positive_int, default=9, help="paired trainings per monitor in (b), at least 5")
    parser.add_argument("--no-write", action="store_true", help="print the tables, leave docs/benchmarks.md alone")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        kind, monitor, hz, amount, log_dir = args.child
        logging.basicConfig(level=logging.ERROR)
        result = child_idle(monitor, float(hz), float(amount), Path(log_dir)) if kind == "idle" else child_train(monitor, float(hz), int(amount), Path(log_dir))
        print(json.dumps(result))
        return 0

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.pairs < 5:
        parser.error("--pairs must be at least 5")
    from tempfile import TemporaryDirectory

    from tqdm import tqdm

    idle_configs = [("none", 10.0), ("mlel", 10.0), ("codecarbon", 10.0), ("mlel", 1.0), ("codecarbon", 1.0)]
    train_configs = [("mlel", 10.0), ("codecarbon", 10.0)]
    started = time.perf_counter()
    load_before = load_line()
    with TemporaryDirectory() as tmp:
        cpu_cost: dict[tuple[str, float], list[float]] = {c: [] for c in idle_configs}
        steps = [(c, r) for r in range(args.repeats) for c in idle_configs]
        for (monitor, hz), _ in tqdm(steps, desc="(a) CPU cost, idle main thread", unit="run"):
            cpu_cost[(monitor, hz)].append(run_child(["idle", monitor, str(hz), str(args.seconds), tmp])["cpu_per_wall_s"])
        training = {}
        for monitor, hz in tqdm(train_configs, desc="(b) paired trainings", unit="monitor"):
            training[(monitor, hz)] = run_child(["train", monitor, str(hz), str(args.pairs), tmp])
    elapsed = time.perf_counter() - started

    lines = [
        f"Run on {date.today().isoformat()}: {machine_line()}; {load_before} at the start "
        f"(a shared machine: other work runs beside the benchmark). Meters: {meters_line()}. "
        f"CodeCarbon {__import__('codecarbon').__version__} `OfflineEmissionsTracker(measure_power_secs=interval, tracking_mode='machine')`. "
        f"Command: `python bench/monitoring_overhead.py --seconds {args.seconds:g} --repeats {args.repeats} --pairs {args.pairs}` ({elapsed:.0f} s).",
        "",
        f"**(a) The monitor's own CPU cost**: process CPU time per wall second while the main thread sleeps, {args.seconds:g} s per fresh process, "
        f"{args.repeats} processes per row (median, min-max). Target for mlel at 10 Hz: at most 0.2 % of one core.",
        "",
        "| monitor | interval | CPU, % of one core (median) | min - max |",
        "|---|---:|---:|---:|",
    ]
    for (monitor, hz), values in cpu_cost.items():
        lines.append(f"| {monitor} | {1 / hz:g} s ({hz:g} Hz) | {pct(statistics.median(values))} | {pct(min(values))} - {pct(max(values))} |")
    lines += [
        "",
        f"**(b) Wall time of a CPU-bound training** (scikit-learn RandomForestClassifier, 30 trees, 4000 x 30, one thread) with the monitor at 10 Hz "
        f"versus none: {args.pairs} pairs in one process, order alternating, monitor started before the timer. Target for mlel: at most 1 % (ratio <= 1.01).",
        "",
        "| monitor | wall time ratio, median | min - max | quartiles | process CPU time ratio, median | min - max | fit without monitor (s, median) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for (monitor, hz), result in training.items():
        r, c = result["ratios"], result["cpu_ratios"]
        q = statistics.quantiles(r, n=4)
        lines.append(
            f"| {monitor} @ {hz:g} Hz | {statistics.median(r):.4f} | {min(r):.4f} - {max(r):.4f} | {q[0]:.4f} - {q[2]:.4f} "
            f"| {statistics.median(c):.4f} | {min(c):.4f} - {max(c):.4f} | {statistics.median(result['plain_s']):.2f} |"
        )
    lines += [
        "",
        "Reading the figures: (a) is stable on a busy machine because it counts only this process's CPU time; "
        "(b) measures wall time and so also carries the noise of other processes on the machine, which is why "
        "it is reported as a median of paired ratios with its spread, beside the process CPU time ratio, which other processes do not inflate.",
    ]
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        from bench.docwriter import write_section

        write_section(MARKER, "Monitoring overhead (`bench/monitoring_overhead.py`)", body)
        logger.info("wrote the 'Monitoring overhead' section of %s", DOC)
    return 0


if __name__ == "__main__":
    sys.exit(main())
