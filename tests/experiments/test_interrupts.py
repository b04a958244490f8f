"""A run stopped mid-way (signal, kill, crash) leaves its folder incomplete, with the power log so far."""

import csv
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from experiments.conftest import ROOT, cli_environment, last_line, read, run_script

LONG_TRAINING = ["--model", "mlp", "--backend", "torch", "--dataset", "synthetic", "--n-samples", "2000",
                 "--epochs", "100000", "--threads", "1", "--monitor-interval", "0.1", "--no-progress"]
MIN_ROWS = 5


def power_rows(folder: Path) -> int:
    logs = list((folder / "power").glob("*.csv"))
    return min((sum(1 for _ in log.open()) - 1 for log in logs), default=0)


def start_training(out: Path) -> tuple[subprocess.Popen, Path]:
    """Start a long training and wait until its power log holds a few flushed rows."""
    proc = subprocess.Popen([sys.executable, str(ROOT / "train.py"), *LONG_TRAINING, "--output-dir", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_environment())
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        folders = list(out.glob("train_*"))
        if folders and (folders[0] / "run.log").exists() and power_rows(folders[0]) >= MIN_ROWS \
                and "training torch mlp" in (folders[0] / "run.log").read_text():
            return proc, folders[0]
        if proc.poll() is not None:
            pytest.fail(f"training ended early: {proc.communicate()[1][-2000:]}")
        time.sleep(0.1)
    proc.kill()
    pytest.fail("training did not start logging power within 90 s")


def assert_incomplete_with_power_log(folder: Path) -> None:
    assert not (folder / "COMPLETE").exists() and not (folder / "results.json").exists()
    assert read(folder, "config.json")["model"] == "mlp"
    assert power_rows(folder) >= MIN_ROWS
    for log in (folder / "power").glob("*.csv"):
        rows = list(csv.reader(log.open()))
        assert rows[0][:4] == ["timestamp_s", "elapsed_s", "power_w", "energy_j"]
        energies = [float(r[3]) for r in rows[1:] if r[3]]
        assert energies == sorted(energies) and energies[-1] > 0


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_marks_the_folder_interrupted(signum, tmp_path):
    proc, folder = start_training(tmp_path)
    proc.send_signal(signum)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signum, stderr
    assert "Traceback" not in stderr
    assert f"interrupted by {signal.Signals(signum).name}; incomplete experiment folder" in stderr
    assert last_line(stdout) == str(folder)
    status = read(folder, "status.json")
    assert status["state"] == "interrupted" and signal.Signals(signum).name in status["reason"]
    assert_incomplete_with_power_log(folder)


def test_an_interrupted_repeat_still_names_the_runs_that_finished(tmp_path):
    args = [a if a != "100000" else "2000" for a in LONG_TRAINING]  # about 7 s per run here
    proc = subprocess.Popen([sys.executable, str(ROOT / "train.py"), *args, "--repeat", "3", "--output-dir", str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_environment())
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        folders = sorted(tmp_path.glob("train_*"))
        done = [f for f in folders if (f / "COMPLETE").exists()]
        running = [f for f in folders if f not in done and power_rows(f) >= MIN_ROWS]
        if done and running:
            break
        if proc.poll() is not None:
            pytest.fail(f"training ended early: {proc.communicate()[1][-2000:]}")
        time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("the second run did not start within 180 s")
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM and "Traceback" not in stderr, stderr
    lines = stdout.strip().splitlines()
    assert lines[-1] == str(running[0])          # the interrupted folder, last, as for a single run
    assert str(done[0]) in lines[:-1]             # and before it the run that finished
    assert any(line.startswith("train mlp (torch, cpu) on synthetic: accuracy ") for line in lines)  # its summary
    assert read(running[0], "status.json")["state"] == "interrupted"


def test_a_killed_run_is_recognisably_incomplete(tmp_path):
    proc, folder = start_training(tmp_path)
    proc.kill()
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert read(folder, "status.json")["state"] == "running"      # nobody could say otherwise
    assert_incomplete_with_power_log(folder)
    infer = run_script("infer.py", "--model", folder, "--output-dir", tmp_path / "infer")
    assert infer.returncode == 2 and "is incomplete (no COMPLETE; status running)" in infer.stderr


def test_a_crash_mid_run_marks_the_folder_failed(tmp_path, monkeypatch):
    from mlel.experiments.models.sklearn_models import SklearnTrainer
    from mlel.experiments.train import TrainConfig, run_training

    def crash(self, X, y, *, progress=False):
        time.sleep(0.6)  # a few samples into the power log (about six at 0.1 s; two are asserted)
        raise RuntimeError("out of memory, say")

    monkeypatch.setattr(SklearnTrainer, "fit", crash)
    with pytest.raises(RuntimeError, match="out of memory"):
        run_training(TrainConfig(model="svm", dataset="iris", monitor_interval_s=0.1, output_dir=tmp_path, progress=False))
    (folder,) = tmp_path.glob("train_svm_iris_sklearn_*")
    assert read(folder, "status.json")["reason"] == "RuntimeError: out of memory, say"
    assert read(folder, "status.json")["state"] == "failed" and not (folder / "COMPLETE").exists()
    assert power_rows(folder) >= 2
    assert "run failed: RuntimeError" in (folder / "run.log").read_text()


def test_a_signal_stops_a_run_while_its_fit_is_still_busy(tmp_path, monkeypatch):
    """A fit that spends minutes in C (libsvm) used to hold Ctrl-C back until it returned: the fit
    runs on a worker thread, and the main thread handles the signal at once."""
    import os
    import threading

    from mlel.experiments.folder import RunInterrupted
    from mlel.experiments.models.sklearn_models import SklearnTrainer
    from mlel.experiments.train import TrainConfig, run_training

    started, release, fit_threads = threading.Event(), threading.Event(), []

    def busy(self, X, y, *, progress=False):
        fit_threads.append(threading.current_thread())
        started.set()
        release.wait(120)  # stands for a long C call that never looks at signals

    def interrupt_when_busy():
        started.wait(60)
        os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(SklearnTrainer, "fit", busy)
    threading.Thread(target=interrupt_when_busy, daemon=True).start()
    try:
        with pytest.raises(RunInterrupted):
            run_training(TrainConfig(model="svm", dataset="iris", monitor_interval_s=0.1, output_dir=tmp_path,
                                     progress=False))
        assert not release.is_set() and fit_threads[0] is not threading.main_thread()  # stopped mid-fit
        # a later fit in this process waits for the abandoned one, so as not to share its measurement
        from mlel.experiments.common import run_interruptibly

        threading.Timer(0.3, release.set).start()
        assert run_interruptibly(lambda: release.is_set()) is True
    finally:
        release.set()
    (folder,) = tmp_path.glob("train_svm_iris_sklearn_*")
    assert read(folder, "status.json") | {"updated": None} == {"state": "interrupted", "reason": "interrupted by SIGINT",
                                                               "updated": None}
    assert not (folder / "COMPLETE").exists()


def test_the_fit_thread_keeps_the_thread_limit():
    """OpenMP's thread count is per thread: --threads must hold on the worker that runs the fit."""
    from sklearn.utils._openmp_helpers import _openmp_effective_n_threads

    from mlel.experiments.common import limit_threads, run_interruptibly

    with limit_threads(1) as on_this_thread:
        assert run_interruptibly(_openmp_effective_n_threads, on_this_thread) == 1
