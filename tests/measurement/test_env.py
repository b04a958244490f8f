"""``python -m mlel.env`` as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys

from .fakes import make_powercap_tree


def run_env(args, cli_env, repo_root):
    return subprocess.run([sys.executable, "-m", "mlel.env", *args], capture_output=True, text=True, env=cli_env, cwd=repo_root, timeout=60)


def test_table_says_what_works_and_why_not(cli_env, repo_root, tmp_path):
    cli_env["CUDA_VISIBLE_DEVICES"] = ""
    proc = run_env(["--powercap-root", str(tmp_path / "absent")], cli_env, repo_root)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    rows = {line.split()[0]: line for line in lines[2:5]}
    assert set(rows) == {"NVML", "RAPL", "Estimate"}
    assert "unavailable" in rows["NVML"]
    assert "unavailable" in rows["RAPL"] and "not present" in rows["RAPL"]
    assert " ok " in rows["Estimate"] and "TDP" in rows["Estimate"]
    assert "estimate:cpu" in proc.stdout and "estimate:ram" in proc.stdout
    assert "gCO2eq/kWh" in proc.stdout


def test_json_report_with_rapl(cli_env, repo_root, tmp_path):
    root = make_powercap_tree(tmp_path / "powercap")
    proc = run_env(["--json", "--powercap-root", str(root)], cli_env, repo_root)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["backends"]["RAPL"]["available"] is True
    names = [m["meter"] for m in report["meters"]]
    assert "rapl:package-0" in names and "rapl:dram-0" in names and "estimate:cpu" not in names
    assert report["carbon"]["intensity_g_per_kwh"] > 0


def test_bad_option_is_one_line_and_exit_code_2(cli_env, repo_root):
    proc = run_env(["--frobnicate"], cli_env, repo_root)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
