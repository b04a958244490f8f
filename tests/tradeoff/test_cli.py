"""``python -m mlel.tradeoff``: a tiny real search as a subprocess, resume, and one-line errors for bad input."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mlel.cli import run_main
from mlel.tradeoff.cli import PROG, default_init, main
from mlel.tradeoff.space import DEFAULT_MODELS, SearchSpace


def _run(argv):
    return run_main(main, argv, prog=PROG)


def test_tiny_real_search_on_iris_then_resume(tmp_path, repo_root, cli_env, capsys):
    out = tmp_path / "search"
    cmd = [sys.executable, "-m", "mlel.tradeoff", "--dataset", "iris", "--budget", "4", "--init", "3",
           "--models", "knn,naive_bayes", "--output-dir", str(out), "--no-progress"]
    proc = subprocess.run(cmd, cwd=repo_root, env=cli_env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().splitlines()[-1] == str(out)
    assert "energy spent by the search" in proc.stdout
    assert "on the Pareto front, hypervolume " in proc.stdout and "(accuracy x decades of energy)" in proc.stdout
    recs = [json.loads(line) for line in (out / "evaluations.jsonl").read_text().splitlines()]
    assert len(recs) == 4 and all(r["status"] == "complete" for r in recs)
    meta = json.loads((out / "search.json").read_text())
    for r in recs:
        assert r["candidate"]["model"] in ("knn", "naive_bayes")
        assert 0.0 <= r["utility"] <= 1.0 and r["energy_j"] > 0
        assert r["provenance"] in ("hardware counter", "sampled power", "estimate")
        folder = Path(r["folders"][0])  # absolute: --output-dir was absolute
        assert (folder / "COMPLETE").is_file()
        config = json.loads((folder / "config.json").read_text())
        assert config["search_id"] == meta["search_id"] and config["search_index"] == r["index"]
        assert config["search_energy"] == "train" and config["search_predictions"] is None
        results = json.loads((folder / "results.json").read_text())
        assert results["energy"]["total_j"] == pytest.approx(r["energy_j"])
        assert results["metrics"]["accuracy"] == pytest.approx(r["utility"])
    front = json.loads((out / "front.json").read_text())
    assert front["front"] and front["search_energy"]["evaluations_j"] > 0
    assert front["search_energy"]["optimiser_time_s"] > 0
    assert (out / "front.png").is_file() and (out / "hypervolume.png").is_file()

    # --resume with a larger budget runs only the missing evaluation (in-process: no second interpreter start)
    assert _run(["--dataset", "iris", "--budget", "5", "--init", "3", "--models", "knn,naive_bayes",
                 "--output-dir", str(out), "--no-progress", "--resume"]) == 0
    recs2 = [json.loads(line) for line in (out / "evaluations.jsonl").read_text().splitlines()]
    assert recs2[:4] == recs and len(recs2) == 5

    # what would change the measurement (or the reference point) cannot change on resume
    base = ["--dataset", "iris", "--budget", "6", "--init", "3", "--models", "knn,naive_bayes",
            "--output-dir", str(out), "--no-progress", "--resume"]
    capsys.readouterr()
    for extra, message in ((["--threads", "2"], "--resume: threads is 2 but the search in"),
                           (["--train-min-duration", "0"], "--resume: train_min_duration_s is 0.0 but"),
                           (["--reference", "0.5,1"], "keeps its own reference point")):
        assert _run([*base, *extra]) == 2, extra
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0], err
    assert len((out / "evaluations.jsonl").read_text().splitlines()) == 5


def test_bad_input_is_one_line_and_exit_code_2_as_a_subprocess(tmp_path, repo_root, cli_env):
    cmd = [sys.executable, "-m", "mlel.tradeoff", "--dataset", "iris", "--models", "random_forest,resnet",
           "--output-dir", str(tmp_path / "x")]
    proc = subprocess.run(cmd, cwd=repo_root, env=cli_env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "resnet" in lines[0] and "'knn'" in lines[0] and "Traceback" not in proc.stderr
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("extra, expected", [
    (["--models", "knn,xgboost"], "xgboost"),
    (["--budget", "4", "--init", "8"], "--init"),
    (["--method", "anneal"], "'bo'"),
    (["--objective", "auc"], "'f1'"),
    (["--energy", "inference"], "'train+infer'"),
    (["--reference", "high"], "UTILITY,ENERGY_J"),
    (["--train-min-duration", "-1"], "--train-min-duration"),
    (["--infer-min-duration", "-0.5"], "--infer-min-duration"),
    (["--validation-size", "1"], "--validation-size"),
    (["--models", " , "], "--models is empty; choose from random_forest"),
    (["--threads", "0"], "'threads' parameter must be an integer >= 1"),
    (["--monitor-interval", "0"], "'monitor_interval' parameter must be a number > 0"),
    (["--seed", "-3"], "'seed' parameter (--seed) must be an integer from 0"),
    (["--n-samples", "50"], "--n-samples and --n-features apply to --dataset synthetic only"),
    (["--budget", "0"], "'budget' parameter must be at least 1; got 0"),
    (["--init", "-1"], "--init must be an integer >= 0"),
    (["--validation-size", "0.99"], "--validation-size 0.99: cannot split"),
    (["--energy", "train+infer", "--predictions", "0"], "'predictions' parameter must be at least 1; got 0"),
    (["--reference", "0.5,0"], "--reference: the energy must be positive"),
])
def test_bad_arguments(tmp_path, capsys, extra, expected):
    assert _run(["--dataset", "iris", "--output-dir", str(tmp_path / "s"), *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and expected in err[0]
    assert not (tmp_path / "s").exists()


def test_an_output_dir_that_is_a_file_or_an_unknown_data_set_is_named_first(tmp_path, capsys):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the search folder should be")
    assert _run(["--dataset", "iris", "--budget", "4", "--init", "4", "--output-dir", str(blocker)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--output-dir" in err[0] and "is a file, not a folder" in err[0]
    # the unknown data set is the mistake to name, not the budget below the default initial design
    assert _run(["--dataset", "nope", "--budget", "4", "--output-dir", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "The 'dataset' parameter must be one of" in err[0]
    assert not (tmp_path / "s").exists()


def test_resume_keeps_the_searchs_method_and_says_when_there_is_nothing_to_resume(tmp_path, caplog):
    out = tmp_path / "r"
    args = ["--dataset", "iris", "--models", "naive_bayes", "--init", "1", "--output-dir", str(out), "--no-progress",
            "--train-min-duration", "0"]
    assert _run([*args, "--budget", "1", "--method", "random", "--resume"]) == 0
    assert "nothing to resume" in caplog.text
    assert _run([*args, "--budget", "2", "--resume"]) == 0  # --method left out: the search's own, random
    assert json.loads((out / "search.json").read_text())["method"] == "random"
    assert len((out / "evaluations.jsonl").read_text().splitlines()) == 2
    assert _run([*args, "--budget", "3", "--resume", "--method", "bo"]) == 2  # a different method is refused


def test_default_initial_design_is_one_point_per_family_or_the_resumed_searchs(tmp_path, capsys):
    assert default_init(SearchSpace.from_models(list(DEFAULT_MODELS))) == len(DEFAULT_MODELS) == 6
    assert default_init(SearchSpace.from_models(["knn"])) == 4  # at least 4
    (tmp_path / "search.json").write_text(json.dumps({"init": 8}))
    assert default_init(SearchSpace.from_models(["knn"]), tmp_path) == 8
    assert _run(["--dataset", "iris", "--budget", "5", "--output-dir", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--budget (5) must be at least --init (6)" in err[0]


def test_unreadable_data_sets(tmp_path, capsys):
    assert _run(["--dataset", f"csv:{tmp_path / 'missing.csv'}", "--output-dir", str(tmp_path / "s")]) == 2
    assert "missing.csv" in capsys.readouterr().err
    garbage = tmp_path / "garbage.csv"
    garbage.write_bytes(b"\x00\xff\xfe" * 50)
    assert _run(["--dataset", f"csv:{garbage}", "--output-dir", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "garbage.csv" in err[0]
    assert _run(["--dataset", "imagenet", "--output-dir", str(tmp_path / "s")]) == 2
    assert "'iris'" in capsys.readouterr().err


def test_synthetic_size_reaches_every_run(tmp_path):
    out = tmp_path / "syn"
    assert _run(["--dataset", "synthetic", "--n-samples", "80", "--n-features", "5", "--budget", "2", "--init", "2",
                 "--method", "random", "--models", "naive_bayes", "--output-dir", str(out), "--no-progress",
                 "--train-min-duration", "0.1"]) == 0
    recs = [json.loads(line) for line in (out / "evaluations.jsonl").read_text().splitlines()]
    assert len(recs) == 2
    for r in recs:
        config = json.loads((Path(r["folders"][0]) / "config.json").read_text())
        assert config["dataset_info"]["n_samples"] == 80 and config["dataset_info"]["n_features"] == 5
        # a naive Bayes fit on 60 rows takes about a millisecond: repeated, one fit's share is the objective
        results = json.loads((Path(r["folders"][0]) / "results.json").read_text())
        assert config["min_duration_s"] == 0.1 and results["fits"]["count"] > 1
        assert r["energy_j"] == pytest.approx(results["energy"]["total_j"])
        assert r["spent_energy_j"] == pytest.approx(results["fits"]["window_energy_j"]) and r["spent_energy_j"] > r["energy_j"]
    search = json.loads((out / "search.json").read_text())
    assert search["n_samples"] == 80 and search["train_min_duration_s"] == 0.1 and search["infer_min_duration_s"] is None


def test_validation_size_chooses_on_a_validation_part_and_reports_the_test_split(tmp_path, capsys):
    out = tmp_path / "val"
    args = ["--dataset", "synthetic", "--n-samples", "80", "--n-features", "5", "--budget", "3", "--init", "2",
            "--method", "random", "--models", "naive_bayes,knn", "--output-dir", str(out), "--no-progress",
            "--train-min-duration", "0", "--validation-size", "0.25"]
    assert _run(args) == 0
    assert "on the test split: hypervolume" in capsys.readouterr().out
    recs = [json.loads(line) for line in (out / "evaluations.jsonl").read_text().splitlines()]
    for r in recs:
        results = json.loads((Path(r["folders"][0]) / "results.json").read_text())
        # 80 rows: 20 test, 60 training, of which 15 validation (held out before fitting) and 45 fitted
        assert results["n_samples"] == {"train": 45, "test": 20, "measured": 45, "validation": 15}
        assert results["validation"]["size"] == 0.25 and results["validation"]["n_samples"] == 15
        assert r["utility"] == pytest.approx(results["validation"]["metrics"]["accuracy"])
        assert r["test_utility"] == pytest.approx(results["metrics"]["accuracy"])
    front = json.loads((out / "front.json").read_text())
    assert front["settings"]["validation_size"] == 0.25
    assert all(p["test_utility"] is not None for p in front["front"])
    curve = front["test_hypervolume_after_each_evaluation"]
    assert len(curve) == 3 and front["test_hypervolume"] == curve[-1] is not None
    # resuming with another validation part would mix two objectives: refused in one line
    assert _run([*args[:-1], "0.2", "--budget", "4", "--resume"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "validation_size" in err[0]


def test_train_plus_infer_energy_and_the_f1_objective_are_what_the_runs_measured(tmp_path, capsys):
    out = tmp_path / "search"
    assert _run(["--dataset", "iris", "--budget", "1", "--init", "1", "--models", "naive_bayes", "--energy", "train+infer",
                 "--predictions", "1000", "--objective", "f1", "--infer-min-duration", "0.2", "--output-dir", str(out),
                 "--no-progress"]) == 0
    (record,) = [json.loads(line) for line in (out / "evaluations.jsonl").read_text().splitlines()]
    train_folder, infer_folder = (Path(f) for f in record["folders"])
    train = json.loads((train_folder / "results.json").read_text())
    infer = json.loads((infer_folder / "results.json").read_text())
    assert json.loads((infer_folder / "config.json").read_text())["task"] == "infer"
    # the objective: training energy plus 1000 predictions at the measured energy per prediction
    assert record["energy_j"] == pytest.approx(train["energy"]["total_j"] + 1000 * infer["per_sample"]["energy_j"])
    assert record["time_s"] == pytest.approx(train["durations_s"]["measured"] + 1000 * infer["per_sample"]["time_s"])
    assert record["utility"] == pytest.approx(train["metrics"]["f1_weighted"])
    # what the search spent: the whole training window and the whole inference run
    assert record["spent_energy_j"] == pytest.approx(train["fits"]["window_energy_j"] + infer["energy"]["total_j"])
    # the console says which energy and time it shows, and where the files are
    stdout = capsys.readouterr().out
    assert stdout.startswith("1 evaluation\n")  # no hypervolume before a reference point exists
    assert "Pareto front (f1; energy and time: training + 1,000 predictions):" in stdout
    assert f"every evaluation are in {out}" in stdout and stdout.strip().splitlines()[-1] == str(out)
    # --resume cannot take the budget below what is done
    assert _run(["--dataset", "iris", "--budget", "0", "--init", "0", "--models", "naive_bayes", "--energy", "train+infer",
                 "--predictions", "1000", "--objective", "f1", "--output-dir", str(out), "--resume"]) == 2
