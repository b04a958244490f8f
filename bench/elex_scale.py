#!/usr/bin/env python
"""ELEx at scale: synthetic results tables of 10,000 and 100,000 runs.

Measures, through the app's own callback endpoint (Flask test client, POST /_dash-update-component):
start-up (app factory + the first trade-off callback, which rates the whole task), and the median and
95th-percentile server time of the filter callback, the axis callback and the point click (the
experiment view with its energy label). Writes a section "ELEx scale" into docs/benchmarks.md.

    python bench/elex_scale.py [--sizes 10000 100000] [--repeats 30] [--no-write]
"""

from __future__ import annotations

import logging
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mlel.cli import ArgumentParser, run_main, setup_logging  # noqa: E402

log = logging.getLogger("elex_scale")
SECTION = "ELEx scale"
TARGETS = {"startup_s": 10.0, "filter_ms": 150.0, "axis_ms": 150.0, "click_ms": 100.0}


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def measure(n_runs: int, repeats: int, seed: int = 0) -> dict:
    import numpy as np

    from mlel.elex import create_app, ids
    from mlel.elex.client import CallbackClient, page_defaults
    from mlel.elex.data import ResultsData
    from mlel.elex.synthetic import synthetic_results

    table = synthetic_results(n_runs, seed=seed)
    rng = np.random.default_rng(seed)

    start = time.perf_counter()
    app = create_app(data=ResultsData(table))
    cb = CallbackClient(app)
    task = "infer"
    v = cb.values
    # what the page does first: the task callback fills choices and widgets, then the trade-off view
    page_defaults(cb, task)
    cb.post("scatter.figure", f"{ids.FILTER_TASK}.value")
    startup = time.perf_counter() - start
    log.info("%d runs: start-up %.2f s", n_runs, startup)

    models = sorted(table.loc[table["task"] == task, "model"].unique())
    envs = sorted(table.loc[table["task"] == task, "environment"].unique())
    filter_times, axis_times, click_times, label_times = [], [], [], []
    from mlel.elex.data import LABEL_PNG_DPI
    from mlel.labels import label_data_from_row, render_label

    from tqdm import tqdm

    for i in tqdm(range(repeats), desc=f"{n_runs:,} runs", disable=bool(os.environ.get("MLEL_NO_PROGRESS"))):
        # filter: a different selection each time (nothing to reuse from the previous request)
        v[(ids.FILTER_MODEL, "value")] = list(rng.choice(models, size=int(rng.integers(0, 4)), replace=False))
        v[(ids.FILTER_ENVIRONMENT, "value")] = list(rng.choice(envs, size=int(rng.integers(0, 3)), replace=False))
        elapsed, _ = cb.post("scatter.figure", f"{ids.FILTER_MODEL}.value")
        filter_times.append(elapsed)
        # axis: another x metric, alternating real values and indices
        v[(ids.AXIS_X, "value")] = ["energy_per_sample_j", "time_per_sample_s", "parameters", "model_size_bytes"][i % 4]
        v[(ids.AXIS_VALUES, "value")] = "index" if i % 2 else "value"
        elapsed, _ = cb.post("scatter.figure", f"{ids.AXIS_X}.value")
        axis_times.append(elapsed)
        # click: one random run -> the experiment view (label PNG, metrics, trace)
        v[(ids.STORE_SELECTED, "data")] = str(table.loc[table["task"] == task, "run_id"].sample(1, random_state=i).iloc[0])
        elapsed, response = cb.post("experiment-label.src", f"{ids.STORE_SELECTED}.data")
        if not str(response["response"][ids.EXPERIMENT_LABEL]["src"]).startswith("data:image/png"):
            raise RuntimeError("the click did not produce a label")
        click_times.append(elapsed)
        # the label drawing alone (mlel.labels), for the same row, uncached
        row = app.server.config["ELEX_DATA"].rated(_settings_of(cb, task))
        row = row[row["run_id"] == v[(ids.STORE_SELECTED, "data")]].iloc[0]
        t0 = time.perf_counter()
        render_label(label_data_from_row(row), "png", dpi=LABEL_PNG_DPI)
        label_times.append(time.perf_counter() - t0)
    ms = lambda xs, q: 1000 * (statistics.median(xs) if q == 50 else percentile(xs, q))  # noqa: E731
    return {"runs": n_runs, "startup_s": startup,
            "filter_ms": ms(filter_times, 50), "filter_p95_ms": ms(filter_times, 95),
            "axis_ms": ms(axis_times, 50), "axis_p95_ms": ms(axis_times, 95),
            "click_ms": ms(click_times, 50), "click_p95_ms": ms(click_times, 95),
            "label_ms": ms(label_times, 50), "repeats": repeats}


def _settings_of(cb, task: str):
    """The rating settings the page's controls stand for (to look the clicked row up directly)."""
    from mlel.elex import ids
    from mlel.elex.view import settings_from_controls

    v = cb.values
    widgets = [(dict(k), value) for (k, prop), value in v.items() if isinstance(k, tuple) and prop == "value"]
    weights = [(i, val) for i, val in widgets if i["type"] == ids.WEIGHT]
    bounds = [(i, val) for i, val in widgets if i["type"] == ids.BOUNDARY]
    return settings_from_controls(task, v[(ids.RATING_REFERENCE, "value")], v[(ids.RATING_MODE, "value")],
                                  [w for _, w in weights], [i for i, _ in weights], [b for _, b in bounds], [i for i, _ in bounds])


def markdown(results: list[dict]) -> str:
    import plotly

    cpu = platform.processor() or platform.machine()
    try:
        import cpuinfo

        cpu = cpuinfo.get_cpu_info().get("brand_raw", cpu)
    except Exception:  # noqa: BLE001 - a label for the table only
        pass
    ok = lambda value, key: "yes" if value <= TARGETS[key] else "**no**"  # noqa: E731
    lines = [
        f"## {SECTION}",
        "",
        "`python bench/elex_scale.py`: synthetic results tables (`mlel.elex.synthetic.synthetic_results`), "
        "requests through the app's callback endpoint (Flask test client, `POST /_dash-update-component`), "
        "so the times are server time without the network or the browser's drawing. Start-up is the app "
        "factory on the table in memory plus the page's first two callbacks (choices and widgets, then the "
        "trade-off view, which rates every run of the task); reading the JSON files is "
        "`mlel.results.load_results`' part. Sizes run in one process, so the first one also pays for "
        "importing matplotlib (the label renderer is warmed up at start-up). Filter: a random model/environment selection; axis: another x "
        "metric, alternating values and indices; click: a random run's experiment view (label PNG, metric "
        "table, trace). The scatter draws at most 4,000 points (a random sample plus the whole Pareto front).",
        "",
        f"Machine: {cpu}, {os.cpu_count()} logical CPUs (shared), Python {platform.python_version()}, "
        f"plotly {plotly.__version__}; {results[0]['repeats']} requests of each kind per size.",
        "",
        "| runs | start-up [s] | filter median / p95 [ms] | axis median / p95 [ms] | click (label) median / p95 [ms] | of which label drawing, median [ms] |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(f"| {r['runs']:,} | {r['startup_s']:.2f} | {r['filter_ms']:.0f} / {r['filter_p95_ms']:.0f} | "
                     f"{r['axis_ms']:.0f} / {r['axis_p95_ms']:.0f} | {r['click_ms']:.0f} / {r['click_p95_ms']:.0f} | "
                     f"{r['label_ms']:.0f} |")
    big = max(results, key=lambda r: r["runs"])
    lines += [
        "",
        f"Targets at {big['runs']:,} runs: start-up < 10 s ({ok(big['startup_s'], 'startup_s')}), filter and axis "
        f"median <= 150 ms ({ok(big['filter_ms'], 'filter_ms')}, {ok(big['axis_ms'], 'axis_ms')}), label click "
        f"<= 100 ms ({ok(big['click_ms'], 'click_ms')}). The original ELEx needed 137 ms (filter) and 348 ms "
        "(label) for its 232 runs.",
        "",
        f"The click is almost all label drawing: `mlel.labels.render_label` (PNG at the page's 110 dpi) alone takes "
        f"{big['label_ms']:.0f} ms for the same rows; ELEx's own part (row lookup by run id, metric table, "
        f"trace, JSON) is the remaining ~{max(big['click_ms'] - big['label_ms'], 0):.0f} ms. A faster label "
        "renderer moves the click with it; labels already drawn are cached per app (128 entries).",
        "",
    ]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = ArgumentParser(prog="elex_scale.py", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=int, default=[10_000, 100_000])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = parser.parse_args(argv)
    if any(s < 10 for s in args.sizes) or args.repeats < 1:
        parser.error("sizes must be at least 10 and repeats at least 1")
    setup_logging()
    logging.getLogger("mlel.ratings").setLevel(logging.ERROR)  # runs without a reference are expected here
    results = [measure(n, args.repeats) for n in args.sizes]
    text = markdown(results)
    print(text)
    if not args.no_write:
        from bench.docwriter import DOC, write_section

        write_section("elex-scale", SECTION, text.split("\n", 2)[2] if text.startswith("## ") else text)
        log.info("wrote section %r of %s", SECTION, DOC)
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main, prog="elex_scale.py"))
