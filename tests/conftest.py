"""Test-wide fixtures. Browser tests (dash_duo) run in real headless Chromium and fail, not skip,
when it is missing: `.ci/run` installs Debian's chromium and chromium-driver."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REFERENCE_DIR = ROOT.parent / "shared" / "reference" / "mlee-imagenet-results"


def pytest_setup_options():
    """dash[testing] hook: Chrome options for Debian's chromium, run as root in a sandbox-less box."""
    from selenium.webdriver.chrome.options import Options

    options = Options()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium:
        options.binary_location = chromium
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1400,1000",
    ):
        options.add_argument(arg)
    return options


def pytest_collection_modifyitems(config, items):
    wants_browser = any("dash_duo" in getattr(item, "fixturenames", ()) for item in items)
    if wants_browser and not (shutil.which("chromedriver") and (shutil.which("chromium") or shutil.which("chromium-browser"))):
        raise pytest.UsageError(
            "browser tests need Debian's chromium and chromium-driver on PATH "
            "(apt-get install chromium chromium-driver; .ci/run does this)"
        )


@pytest.fixture
def repo_root() -> Path:
    return ROOT


@pytest.fixture
def reference_dir() -> Path:
    if not REFERENCE_DIR.is_dir():
        pytest.fail(f"reference data missing: {REFERENCE_DIR} (../shared/reference beside the project)")
    return REFERENCE_DIR


@pytest.fixture
def python_exe() -> str:
    return sys.executable


@pytest.fixture
def cli_env() -> dict:
    """Environment for running the command-line tools as a user would (from the repo root)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT)
    env.setdefault("MLEL_NO_PROGRESS", "1")
    return env
