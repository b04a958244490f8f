"""Shared data for the ELEx tests: a small synthetic table and a folder of merged logs with traces."""

from __future__ import annotations

import pytest

from mlel.elex.synthetic import synthetic_results, write_demo_logs


@pytest.fixture(scope="session")
def demo_logs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo-logs")
    write_demo_logs(folder)
    return folder


@pytest.fixture(scope="session")
def small_table():
    return synthetic_results(400, seed=3)
