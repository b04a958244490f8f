"""Helpers for the experiment tests: run train.py / infer.py as a user would, in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FAST = ["--monitor-interval", "0.1", "--no-progress"]


def cli_environment() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT)
    env["MLEL_NO_PROGRESS"] = "1"
    return env


def run_script(script: str, *args, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / script), *map(str, args)], capture_output=True, text=True,
                          env=cli_environment(), cwd=cwd, timeout=timeout)


def last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert lines, "no output"
    return lines[-1]


def read(folder: Path, name: str) -> dict:
    return json.loads((Path(folder) / name).read_text())


def assert_ok(proc: subprocess.CompletedProcess) -> Path:
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    folder = Path(last_line(proc.stdout))
    assert folder.is_dir(), proc.stdout
    return folder


@pytest.fixture(scope="session")
def trained_sklearn(tmp_path_factory) -> Path:
    """A random forest trained on iris by the real train.py (shared by the inference tests)."""
    out = tmp_path_factory.mktemp("runs")
    return assert_ok(run_script("train.py", "--model", "random_forest", "--dataset", "iris", "--param", "n_estimators=5",
                                "--threads", "1", "--output-dir", out, *FAST))


@pytest.fixture(scope="session")
def trained_torch(tmp_path_factory) -> Path:
    """A torch MLP trained on digits by the real train.py."""
    out = tmp_path_factory.mktemp("runs")
    return assert_ok(run_script("train.py", "--model", "mlp", "--backend", "torch", "--dataset", "digits", "--epochs", "2",
                                "--threads", "1", "--output-dir", out, *FAST))
