"""python -m mlel.ratings as a user runs it."""

from __future__ import annotations

import json
import shutil
import subprocess

from mlel.ratings import metric_specs


def run(python_exe, cli_env, repo_root, *args):
    return subprocess.run([python_exe, "-m", "mlel.ratings", *map(str, args)], cwd=repo_root, env=cli_env,
                          capture_output=True, text=True, timeout=120)


def test_json_output_for_the_mlee_logs(python_exe, cli_env, repo_root, reference_dir, tmp_path):
    saved = tmp_path / "b.json"
    proc = run(python_exe, cli_env, repo_root, "--results", reference_dir, "--task", "inference",
               "--reference", "ResNet101", "--json", "--save-boundaries", saved)
    assert proc.returncode == 0, proc.stderr
    records = json.loads(proc.stdout)
    assert len(records) == 176
    names = {s.name for s in metric_specs("infer")}
    for r in records:
        assert set(r) >= {"environment", "model", "dataset", "metrics", "compound_rating"}
        assert set(r["metrics"]) == names and 0 <= r["compound_rating"] <= 4
        assert set(r["metrics"]["accuracy"]) >= {"value", "index", "rating"}
    refs = [r for r in records if r["model"] == "ResNet101"]
    assert len(refs) == 8 and all(m["index"] == 1.0 for r in refs for m in r["metrics"].values())
    assert json.loads(saved.read_text())["task"] == "infer"
    # rating again with the saved boundaries gives the same result
    again = run(python_exe, cli_env, repo_root, "--results", reference_dir, "--task", "infer",
                "--reference", "ResNet101", "--json", "--boundaries", saved)
    assert json.loads(again.stdout) == records


def test_boundaries_in_mlee_names_rate_the_mlee_logs(python_exe, cli_env, repo_root, reference_dir, tmp_path):
    # MLEE's boundaries.json names its metrics its own way and has some we do not rate (gflops, top-5).
    # Hand-set parameter boundaries between EfficientNetB0's indices against ResNet101: 8.39 for the
    # TensorFlow weights (44.7e6 / 5.3e6 parameters), 8.42 for PyTorch's (44.5e6 / 5.3e6)
    mlee = {"parameters": [8.40, 4, 2, 1], "gflops": [9, 8, 7, 6], "fsize": [8, 4, 2, 1],
            "inference_power_draw": [2, 1.5, 1, 0.5], "inference_time": [2, 1.5, 1, 0.5],
            "top1_val": [1.05, 1.0, 0.95, 0.9], "top5_val": [1.05, 1.0, 0.95, 0.9]}
    path = tmp_path / "boundaries.json"
    path.write_text(json.dumps(mlee))
    proc = run(python_exe, cli_env, repo_root, "--results", reference_dir, "--task", "inference",
               "--reference", "ResNet101", "--json", "--boundaries", path)
    assert proc.returncode == 0, proc.stderr
    b0 = {r["environment"]: r["metrics"] for r in json.loads(proc.stdout) if r["model"] == "EfficientNetB0"}
    assert len(b0) == 8
    for environment, metrics in b0.items():
        tensorflow = "TensorFlow" in environment or "TF export" in environment
        assert metrics["parameters"]["rating"] == (1 if tensorflow else 0), environment
        # top-1 indices: 0.948 with the TensorFlow weights (D, below 0.95), 1.01 with PyTorch's (B)
        assert metrics["accuracy"]["rating"] == (3 if tensorflow else 1), environment


def test_table_output_and_weights(python_exe, cli_env, repo_root, reference_dir, tmp_path):
    weights = tmp_path / "w.json"
    weights.write_text(json.dumps({"energy_j": 1.0, "accuracy": 0.0}))
    proc = run(python_exe, cli_env, repo_root, "--results", reference_dir, "--task", "training",
               "--reference", "ResNet50", "--weights", weights, "--mode", "pessimistic mean")
    assert proc.returncode == 0, proc.stderr
    assert "Quadro RTX 5000 - TensorFlow 2.4.1 (imagenet)" in proc.stdout
    assert "ResNet50 (ref)" in proc.stdout and "pessimistic mean" in proc.stdout
    # the weights are used: with all of it on energy, every compound rating is the energy rating
    weights.write_text(json.dumps({"energy_j": 1.0, "time_s": 0, "accuracy": 0, "parameters": 0, "model_size_bytes": 0}))
    proc = run(python_exe, cli_env, repo_root, "--results", reference_dir, "--task", "training",
               "--reference", "ResNet50", "--weights", weights, "--json")
    records = json.loads(proc.stdout)
    assert records and all(r["compound_rating"] == r["metrics"]["energy_j"]["rating"] for r in records)
    assert any(r["compound_rating"] != r["metrics"]["accuracy"]["rating"] for r in records)


def test_missing_reference_somewhere_is_a_note_everywhere_an_error(python_exe, cli_env, repo_root, reference_dir):
    proc = run(python_exe, cli_env, repo_root, "--results", reference_dir, "--task", "train", "--reference", "DenseNet121")
    assert proc.returncode == 0
    assert "'Quadro RTX 5000 - PyTorch 1.10.2+cu113' (imagenet) has no train run of 'DenseNet121'" in proc.stderr
    assert "references there: EfficientNetB0" in proc.stderr
    proc = run(python_exe, cli_env, repo_root, "--results", reference_dir, "--task", "train", "--reference", "NoSuchNet")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "'NoSuchNet' has no train run in any environment; models there: DenseNet121" in proc.stderr


def test_user_mistakes_are_one_line_and_exit_2(python_exe, cli_env, repo_root, reference_dir, tmp_path):
    bad_json, negative, zeros = tmp_path / "bad.json", tmp_path / "negative.json", tmp_path / "zeros.json"
    bad_json.write_text("{ weights")
    negative.write_text(json.dumps({"accuracy": -1}))
    zeros.write_text(json.dumps({s.name: 0 for s in metric_specs("infer")}))
    train_only = tmp_path / "train-only"
    train_only.mkdir()
    for log in sorted(reference_dir.glob("train_*.json"))[:3]:
        shutil.copy(log, train_only)
    cases = [
        (["--task", "predict", "--reference", "x", "--results", reference_dir], "'task' parameter must be one of"),
        (["--task", "infer", "--reference", "ResNet101", "--results", reference_dir, "--mode", "majority"], "'mode'"),
        (["--task", "infer", "--reference", "ResNet101", "--results", tmp_path / "nope"], "results path not found"),
        (["--task", "infer", "--reference", "ResNet101", "--results", reference_dir, "--boundaries", tmp_path / "b.json"],
         "boundaries file not found"),
        (["--task", "infer"], "required"),
        (["--task", "train", "--reference", "ResNet101", "--results", reference_dir / "nothing-here"], "results path not found"),
        (["--task", "infer", "--reference", "ResNet101", "--results", reference_dir, "--weights", tmp_path / "w.json"],
         "weights file not found"),
        (["--task", "infer", "--reference", "ResNet101", "--results", reference_dir, "--weights", bad_json], "not valid JSON"),
        (["--task", "infer", "--reference", "ResNet101", "--results", reference_dir, "--weights", negative],
         "the weight of 'accuracy' must be a finite non-negative number; got -1.0"),
        (["--task", "infer", "--reference", "ResNet101", "--results", reference_dir, "--weights", zeros],
         "at least one metric weight must be positive"),
        (["--task", "infer", "--reference", "ResNet101", "--results", train_only], "no infer runs in"),
    ]
    for args, message in cases:
        proc = run(python_exe, cli_env, repo_root, *args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert message in proc.stderr and "Traceback" not in proc.stderr
        assert proc.stderr.count("\n") == 1, proc.stderr


def test_damaged_files_are_skipped_and_provenance_is_in_every_output(python_exe, cli_env, repo_root, reference_dir, tmp_path):
    results = tmp_path / "results"
    shutil.copytree(reference_dir, results)
    (results / "zz_broken.json").write_text('{"config": {"model": ')
    proc = run(python_exe, cli_env, repo_root, "--results", results, "--task", "infer", "--reference", "ResNet101", "--json")
    assert proc.returncode == 0, proc.stderr
    assert "zz_broken.json" in proc.stderr  # named, and the other logs rated
    records = json.loads(proc.stdout)
    assert len(records) > 100
    assert {r["energy_provenance"] for r in records} == {"sampled power"}
    assert all(r["energy_provenance_text"].startswith("measured (sampled power): ") for r in records)
    named = run(python_exe, cli_env, repo_root, "--results", results / "zz_broken.json", "--task", "infer",
                "--reference", "ResNet101")
    assert named.returncode == 2 and named.stderr.count("\n") == 1 and "zz_broken.json" in named.stderr
    table = run(python_exe, cli_env, repo_root, "--results", results, "--task", "infer", "--reference", "ResNet101")
    assert "runs; energy measured (sampled power): GPU (NVML)" in table.stdout


def test_writing_boundaries_where_they_cannot_go_is_one_line(python_exe, cli_env, repo_root, reference_dir, tmp_path):
    for target, message in ((tmp_path, "is a folder; pass a file name"), (tmp_path / "no" / "b.json", "does not exist")):
        proc = run(python_exe, cli_env, repo_root, "--results", reference_dir, "--task", "infer", "--reference",
                   "ResNet101", "--save-boundaries", target)
        assert proc.returncode == 2 and message in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr
