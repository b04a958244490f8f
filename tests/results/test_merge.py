"""merge_results: complete and damaged folders, idempotence, incremental runs, --strict, archives, kills."""

from __future__ import annotations

import json
import os
import subprocess
import tarfile

import pytest

from mlel.results import load_results
from mlel.results.merge import TRACE_POINTS, merge_experiments, read_experiment
from mlel.results.schema import RESULTS_SCHEMA, atomic_write_json
from mlel.results.synthetic import DAMAGES, write_experiment_folder

EXPECTED_REASONS = {
    "truncated_results": "truncated or invalid JSON in results.json",
    "missing_power_log": "missing power log",
    "missing_complete": "missing COMPLETE marker (state 'running': still running, or killed (last update ",
    "wrong_schema": "schema 'mlel.experiment/99'",
    "killed_mid_write": "missing COMPLETE marker",
    "unparsable_csv": "unparsable power log power/estimate_cpu.csv",
    "failed": "state 'failed' (out of memory)",
    "nan_metric": "invalid content (ValueError: Out of range float values are not JSON compliant",
    "bad_platform_value": "invalid content (ValueError: invalid literal for int()",
}


@pytest.fixture
def runs(tmp_path):
    root = tmp_path / "runs"
    good = [write_experiment_folder(root, i, task=("infer", "train")[i % 2]) for i in range(3)]
    bad = {d: write_experiment_folder(root, 100 + j, damage=d) for j, d in enumerate(DAMAGES)}
    return root, good, bad


def test_good_folders_merge_and_every_damaged_one_is_named(runs, tmp_path):
    root, good, bad = runs
    report = merge_experiments([root], tmp_path / "results")
    assert report.merged == 3 and report.present == 0
    reasons = {folder: reason for folder, reason in report.skipped}
    assert set(reasons) == set(bad.values())
    for damage, folder in bad.items():
        assert EXPECTED_REASONS[damage] in reasons[folder], (damage, reasons[folder])
    files = sorted(p.name for p in (tmp_path / "results").iterdir())
    assert files == sorted(f"{g.name}.json" for g in good)


def test_merged_record_content(runs, tmp_path):
    _, good, _ = runs
    record = read_experiment(write_experiment_folder(tmp_path / "long", 7, samples=1000))
    assert record["schema_version"] == RESULTS_SCHEMA
    assert set(record) >= {"config", "platform", "results", "monitoring", "trace", "status", "completed"}
    stats = record["monitoring"]["estimate:cpu"]
    assert set(stats) == {"elapsed_s", "power_w", "energy_j", "cpu_load_pct"}
    assert stats["elapsed_s"] == {"min": 0.0, "max": 499.5, "mean": pytest.approx(249.75), "std": pytest.approx(144.3374, rel=1e-5),
                                  "count": 1000}
    assert 20 <= stats["power_w"]["min"] <= stats["power_w"]["mean"] <= stats["power_w"]["max"] <= 25
    trace = record["trace"]["estimate:cpu"]
    assert len(trace["elapsed_s"]) == len(trace["power_w"]) == TRACE_POINTS and trace["samples"] == 1000
    # bin means keep the mean power (equal bins of 1000/300 samples, up to rounding of the bin sizes)
    assert sum(trace["power_w"]) / TRACE_POINTS == pytest.approx(stats["power_w"]["mean"], rel=2e-3)
    small = read_experiment(good[0])["trace"]["estimate:cpu"]
    assert len(small["power_w"]) == 40  # short logs are kept whole


def test_merging_again_adds_nothing_and_new_folders_are_added(runs, tmp_path):
    root, _, _ = runs
    out = tmp_path / "results"
    merge_experiments([root], out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    second = merge_experiments([root], out)
    assert second.merged == 0 and second.present == 3
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    write_experiment_folder(root, 50)
    third = merge_experiments([root], out)
    assert third.merged == 1 and third.present == 3
    assert len(load_results(out)) == 4


def test_the_same_run_given_twice_is_merged_once(runs, tmp_path):
    root, good, _ = runs
    report = merge_experiments([root, good[0], root], tmp_path / "results")
    assert report.merged == 3 and report.present == 0


def test_a_merge_killed_mid_write_leaves_no_half_file(tmp_path, monkeypatch):
    target = tmp_path / "x.json"
    atomic_write_json(target, {"old": True})

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_json(target, {"new": True})
    monkeypatch.undo()
    assert json.loads(target.read_text()) == {"old": True}
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]   # the temporary file was removed


def test_a_leftover_temp_file_is_ignored_and_the_run_merged_next_time(runs, tmp_path):
    root, good, _ = runs
    out = tmp_path / "results"
    out.mkdir()
    (out / f".{good[0].name}.json.abc.tmp").write_text('{"schema_version": "mlel.res')  # SIGKILL before os.replace
    report = merge_experiments([root], out)
    assert report.merged == 3
    assert len(load_results(out)) == 3


def test_archives_are_complete_tarballs_made_once(runs, tmp_path):
    root, good, _ = runs
    report = merge_experiments([root], tmp_path / "results", archive_dir=tmp_path / "archives")
    assert report.archived == 3
    with tarfile.open(tmp_path / "archives" / f"{good[0].name}.tar.gz") as tar:
        names = tar.getnames()
    assert f"{good[0].name}/COMPLETE" in names and f"{good[0].name}/power/estimate_cpu.csv" in names
    assert merge_experiments([root], tmp_path / "results", archive_dir=tmp_path / "archives").archived == 0


def run_script(python_exe, cli_env, repo_root, *args):
    return subprocess.run([python_exe, "merge_results.py", *map(str, args)], cwd=repo_root, env=cli_env,
                          capture_output=True, text=True, timeout=120)


def test_script_exit_codes_and_summary(runs, tmp_path, python_exe, cli_env, repo_root):
    root, good, bad = runs
    proc = run_script(python_exe, cli_env, repo_root, root, "--output-dir", tmp_path / "results")
    assert proc.returncode == 0, proc.stderr
    assert "merge summary" in proc.stdout and "skipped folders" in proc.stdout
    assert "missing power log" in proc.stdout.replace("\n", " ") or "missing power log" in proc.stderr
    assert "merged now, by task / model / hardware" in proc.stdout
    assert all((tmp_path / "results" / f"{folder.name}.json").is_file() for folder in good)
    assert not any((tmp_path / "results" / f"{folder.name}.json").exists() for folder in bad.values())
    strict = run_script(python_exe, cli_env, repo_root, root, "--output-dir", tmp_path / "results", "--strict")
    assert strict.returncode == 1
    clean = tmp_path / "clean"
    write_experiment_folder(clean, 1)
    assert run_script(python_exe, cli_env, repo_root, clean, "--output-dir", tmp_path / "r2", "--strict").returncode == 0
    missing = run_script(python_exe, cli_env, repo_root, tmp_path / "nope", "--output-dir", tmp_path / "r3")
    assert missing.returncode == 2 and "not a folder" in missing.stderr and "Traceback" not in missing.stderr
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a folder should be")
    for option in ("--output-dir", "--archive-dir"):
        args = ["--output-dir", tmp_path / "r4", option, blocker] if option == "--archive-dir" else [option, blocker]
        proc = run_script(python_exe, cli_env, repo_root, clean, *args)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
        assert proc.stderr.strip() == f"merge_results.py: error: {option} {str(blocker)!r} is a file, not a folder; " \
                                      "pass a folder (it is created if needed)"
    empty = tmp_path / "empty"
    empty.mkdir()
    nothing = run_script(python_exe, cli_env, repo_root, empty, "--output-dir", tmp_path / "r5")
    assert nothing.returncode == 0 and f"no experiment folders found in {empty}" in nothing.stderr
