"""Pieces shared by training and inference runs: thread limits, metrics, energy records, summary."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
from typing import Callable, Iterator, TypeVar

import numpy as np

from mlel.cli import FIT_THREAD_NAME
from mlel.errors import UserInputError
from mlel.measurement import Measurement

T = TypeVar("T")
log = logging.getLogger(__name__)

METRIC_NAMES = ("accuracy", "balanced_accuracy", "f1_weighted", "precision_weighted", "recall_weighted")
NO_PROGRESS_ENV = "MLEL_NO_PROGRESS"


def show_progress(requested: bool) -> bool:
    """Progress bars on a terminal, unless turned off by the caller or ``MLEL_NO_PROGRESS=1``; never into
    a file or a pipe, where each redraw would be one more line of noise."""
    return (bool(requested) and os.environ.get(NO_PROGRESS_ENV, "") in ("", "0") and sys.stderr is not None
            and sys.stderr.isatty())


def validate_threads(threads) -> int | None:
    if threads is None:
        return None
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise UserInputError(f"The 'threads' parameter must be an integer >= 1; got {threads!r}")
    return threads


def validate_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
        raise UserInputError(f"The 'seed' parameter (--seed) must be an integer from 0 to 2**32 - 1; got {seed!r}")
    return seed


def validate_positive(name: str, value, *, allow_zero: bool = False) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and (value >= 0 if allow_zero else value > 0)
    if not ok:
        bound = ">= 0" if allow_zero else "> 0"
        raise UserInputError(f"The {name!r} parameter must be a number {bound}; got {value!r}")
    return float(value)


@contextlib.contextmanager
def limit_threads(threads: int | None, *, torch_used: bool = False) -> Iterator[Callable[[], contextlib.AbstractContextManager]]:
    """Limit every BLAS/OpenMP pool (threadpoolctl) and, where torch is used, torch's intra-op
    threads to ``threads``; restored afterwards (in-process callers run many experiments).

    Yields ``on_this_thread()``: the same limit for another thread (OpenMP's is per thread), for
    ``run_interruptibly``'s worker. The libraries are looked up here, once, before any measurement
    window: looking them up takes milliseconds, applying a known limit a tenth of one."""
    if threads is None:
        yield contextlib.nullcontext
        return
    from threadpoolctl import ThreadpoolController

    torch = None
    if torch_used or "torch" in sys.modules:
        import torch
    previous = torch.get_num_threads() if torch is not None else None
    if torch is not None:
        torch.set_num_threads(threads)
    controller = ThreadpoolController()
    limits = controller.limit(limits=threads)
    try:
        yield lambda: controller.limit(limits=threads)
    finally:
        # not under a fit that a signal abandoned (run_interruptibly): resizing the pools it runs on
        # makes PyTorch abort; the process ends, or the next run waits for that fit first
        if not fit_abandoned():
            limits.restore_original_limits()
            if torch is not None:
                torch.set_num_threads(previous)


def fit_abandoned() -> bool:
    """Whether a fit still runs on a worker thread that ``run_interruptibly`` stopped waiting for."""
    return bool(_running_fits())


def _running_fits() -> list[threading.Event]:
    # Not Thread.is_alive(): on Python 3.11 a join(timeout) cut short by a signal handler's exception
    # marks the joined thread stopped while it still runs (the bpo-45274 fix releases the lock the
    # running thread holds). Each fit says itself when it is done.
    return [t._mlel_done for t in threading.enumerate()
            if t.name == FIT_THREAD_NAME and hasattr(t, "_mlel_done") and not t._mlel_done.is_set()]


def classification_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict:
    from sklearn import metrics

    kw = {"average": "weighted", "zero_division": 0}
    return {
        "accuracy": float(metrics.accuracy_score(y_true, y_pred)),
        "balanced_accuracy": float(metrics.balanced_accuracy_score(y_true, y_pred)),
        "f1_weighted": float(metrics.f1_score(y_true, y_pred, **kw)),
        "precision_weighted": float(metrics.precision_score(y_true, y_pred, **kw)),
        "recall_weighted": float(metrics.recall_score(y_true, y_pred, **kw)),
    }


def energy_record(measurement: Measurement) -> dict:
    """``results.json`` "energy": totals, provenance, and per meter (docs/experiment-folder.md)."""
    d = measurement.to_dict()
    d.pop("duration_s", None)
    return d


def measurement_records(measurement: Measurement, baseline: Measurement | None, country: str | None,
                        interval_s: float, folder) -> dict:
    """The parts of ``results.json`` that training and inference share: energy, carbon, the idle
    baseline and where the power logs are (docs/experiment-folder.md)."""
    return {
        "energy": energy_record(measurement),
        "carbon": carbon_record(measurement.total_energy_j, country),
        "baseline": baseline_record(baseline),
        "monitoring": {"interval_s": interval_s,
                       "power_logs": sorted(str(p.relative_to(folder.path)) for p in folder.power_dir.glob("*.csv"))},
    }


def baseline_record(baseline: Measurement | None) -> dict | None:
    if baseline is None:
        return None
    return {"duration_s": baseline.duration_s,
            "idle_power_w": {m.meter: (m.energy_j / baseline.duration_s if baseline.duration_s else None)
                             for m in baseline.meters},
            "energy": energy_record(baseline)}


def carbon_record(energy_j: float, country: str | None) -> dict:
    from mlel.measurement.carbon import co2eq

    return co2eq(energy_j, country).to_dict()


def validate_country(country: str | None) -> str | None:
    if country is None:
        return None
    from mlel.measurement.carbon import intensity_g_per_kwh

    intensity_g_per_kwh(country)  # raises UserInputError naming the valid codes
    return country.strip().upper()


def run_interruptibly(call: Callable[[], T],
                      on_this_thread: Callable[[], contextlib.AbstractContextManager] = contextlib.nullcontext) -> T:
    """``call()`` on a worker thread while the main thread waits for it, so that Ctrl-C and SIGTERM
    stop a run at once. Python runs signal handlers in the main thread only, between bytecodes: a fit
    that spends a minute inside C (libsvm, BLAS) would hold them back for that minute. On a signal the
    run stops and its folder is marked interrupted; the abandoned fit ends with the process
    (``mlel.cli.exit_process``), and a later run in the same process waits for it first, so that it
    does not share that run's measurement. ``on_this_thread``: what ``limit_threads`` yields, so that
    its limit holds on the worker too (OpenMP's is per thread). Off the main thread (no signals to
    wait for) ``call`` simply runs."""
    if threading.current_thread() is not threading.main_thread():
        return call()
    for earlier in _running_fits():
        log.warning("waiting for the fit an earlier interrupt left running, so that it does not share this measurement")
        earlier.wait()
    outcome: dict = {}
    done = threading.Event()

    def work() -> None:
        try:
            with on_this_thread():
                outcome["value"] = call()
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread, raised there
            outcome["error"] = exc
        finally:
            done.set()

    worker = threading.Thread(target=work, name=FIT_THREAD_NAME, daemon=True)
    worker._mlel_done = done
    worker.start()
    while not done.wait(0.05):  # the main thread wakes to run signal handlers (not join: see _running_fits)
        pass
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
