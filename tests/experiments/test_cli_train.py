"""train.py end to end, as a user runs it: real subprocesses, real folders."""

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from experiments.conftest import FAST, assert_ok, cli_environment, last_line, read, run_script
from experiments.test_datasets import HEADED_CSV, UCI_CSV
from mlel.experiments.registry import MODELS

CONFIG_KEYS = {"schema", "task", "model", "backend", "device", "dataset", "params", "seed", "threads",
               "monitor_interval_s", "baseline_s", "country", "argv", "started"}
PLATFORM_KEYS = {"hostname", "os", "python", "cpu_model", "cpu_cores_physical", "cpu_cores_logical", "memory_bytes",
                 "gpus", "packages"}
RESULTS_KEYS = {"metrics", "model", "durations_s", "n_samples", "per_sample", "energy", "carbon"}
METRICS = {"accuracy", "balanced_accuracy", "f1_weighted", "precision_weighted", "recall_weighted"}


def check_complete_folder(folder: Path, task: str) -> tuple[dict, dict]:
    names = {p.name for p in folder.iterdir()}
    assert {"status.json", "config.json", "platform.json", "results.json", "run.log", "power", "COMPLETE"} <= names
    assert read(folder, "status.json")["state"] == "complete"
    config, results = read(folder, "config.json"), read(folder, "results.json")
    assert CONFIG_KEYS <= set(config) and config["schema"] == "mlel.experiment/1" and config["task"] == task
    assert PLATFORM_KEYS <= set(read(folder, "platform.json"))
    assert RESULTS_KEYS <= set(results) and set(results["metrics"]) == METRICS
    assert all(0.0 <= v <= 1.0 for v in results["metrics"].values())
    energy = results["energy"]
    assert energy["total_j"] > 0 and energy["provenance"] in ("hardware counter", "sampled power", "estimate")
    assert energy["total_j"] == pytest.approx(sum(m["energy_j"] for m in energy["meters"]))
    assert results["carbon"]["co2eq_g"] == pytest.approx(energy["total_j"] / 3.6e6 * results["carbon"]["intensity_g_per_kwh"])
    logs = sorted((folder / "power").glob("*.csv"))
    assert len(logs) == len(energy["meters"])
    for log in logs:
        rows = list(csv.reader(log.open()))
        assert rows[0][:4] == ["timestamp_s", "elapsed_s", "power_w", "energy_j"] and len(rows) >= 3
    complete = (folder / "COMPLETE").stat().st_mtime_ns
    assert all(p.stat().st_mtime_ns <= complete for p in folder.iterdir())
    return config, results


def test_list_names_models_data_sets_backends_and_devices():
    proc = run_script("train.py", "--list")
    assert proc.returncode == 0 and proc.stderr == ""
    for name in [*MODELS, "iris", "digits", "synthetic", "csv:PATH", "sklearn", "torch", "onnx", "cuda"]:
        assert name in proc.stdout


def test_train_py_writes_a_complete_self_describing_folder(trained_sklearn):
    config, results = check_complete_folder(trained_sklearn, "train")
    assert (config["model"], config["dataset"], config["backend"], config["device"]) == ("random_forest", "iris", "sklearn", "cpu")
    assert config["params"]["n_estimators"] == 5 and config["params"]["n_jobs"] == 1 and config["threads"] == 1
    assert config["monitor_interval_s"] == 0.1 and "--param" in config["argv"]
    assert results["n_samples"] == {"train": 112, "test": 38, "measured": 112} and results["per_sample"] is None
    assert results["model"]["parameters"] > 0 and results["model"]["size_bytes"] > 0
    assert results["durations_s"]["measured"] <= results["durations_s"]["total"]
    assert (trained_sklearn / "model.joblib").is_file() and (trained_sklearn / "split.npz").is_file()
    assert trained_sklearn.name.startswith("train_random_forest_iris_sklearn_")


def test_torch_training_folder(trained_torch):
    config, results = check_complete_folder(trained_torch, "train")
    assert config["params"]["hidden_layer_sizes"] == [100] and config["params"]["epochs"] == 2
    assert results["model"]["parameters"] == 64 * 100 + 100 + 100 * 10 + 10
    assert (trained_torch / "model.pt").is_file()


GROUP_SCRIPT = """
import sys
from mlel.cli import run_main
from mlel.experiments.cli import train_main
for argv in {runs!r}:
    code = run_main(train_main, argv, prog="train.py")
    if code:
        sys.exit(code)
"""


def test_every_model_and_csv_through_the_cli(tmp_path):
    """Every model on a bundled data set, a CSV with missing values and a text column, a headerless
    CSV, cross-validation and --repeat: the CLI entry point, grouped in one process to save start-ups."""
    headed, headerless = tmp_path / "heart.csv", tmp_path / "iris.data"
    headed.write_text(HEADED_CSV)
    headerless.write_text(UCI_CSV + "\n")
    out = tmp_path / "runs"
    common = ["--output-dir", str(out), "--threads", "1", *FAST]
    runs = [
        ["--model", "logistic_regression", "--dataset", "breast_cancer"],
        ["--model", "svm", "--dataset", "wine", "--param", "C=2.0", "--param", "gamma=scale"],
        ["--model", "knn", "--dataset", "iris", "--param", "n_neighbors=3", "--min-duration-s", "0.3"],
        ["--model", "naive_bayes", "--dataset", "wine", "--cv-folds", "3", "--repeat", "2"],
        ["--model", "gradient_boosting", "--dataset", "iris", "--param", "n_estimators=5", "--param", "max_depth=2"],
        ["--model", "mlp", "--dataset", "iris", "--epochs", "30", "--param", "hidden_layer_sizes=10,5"],
        ["--model", "logistic_regression", "--backend", "torch", "--dataset", "wine", "--epochs", "3", "--batch-size", "32"],
        ["--model", "cnn", "--backend", "torch", "--dataset", "digits", "--epochs", "1", "--param", "channels=4,8"],
        ["--model", "random_forest", "--dataset", f"csv:{headed}", "--param", "n_estimators=3", "--test-size", "0.34"],
        ["--model", "logistic_regression", "--dataset", f"csv:{headerless}"],
    ]
    proc = subprocess.run([sys.executable, "-c", GROUP_SCRIPT.format(runs=[r + common for r in runs])],
                          capture_output=True, text=True, env=cli_environment(), cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    folders = [Path(line) for line in proc.stdout.splitlines() if line.startswith(str(out))]
    assert len(folders) == len(runs) + 1                                  # --repeat 2 adds one
    configs = {}
    for folder in folders:
        config, results = check_complete_folder(folder, "train")
        configs.setdefault((config["model"], config["backend"], config["dataset"]), []).append((config, results))

    (nb1, nb1_results), (nb2, _) = configs["naive_bayes", "sklearn", "wine"]
    assert (nb1["seed"], nb2["seed"]) == (0, 1) and nb1["repeat"] == {"index": 0, "of": 2, "base_seed": 0}
    cv = nb1_results["cross_validation"]
    assert cv["folds"] == 3 and len(cv["scores"]["accuracy"]) == 3 and cv["energy"]["total_j"] > 0
    mlp, _ = configs["mlp", "sklearn", "iris"][0]
    assert mlp["params"]["hidden_layer_sizes"] == [10, 5] and mlp["params"]["max_iter"] == 30
    torch_lr, torch_lr_results = configs["logistic_regression", "torch", "wine"][0]
    assert torch_lr["batch_size"] == 32 and torch_lr_results["model"]["parameters"] == 13 * 3 + 3
    assert ("cnn", "torch", "digits") in configs

    heart, heart_results = configs["random_forest", "sklearn", "csv:heart.csv"][0]
    info = heart["dataset_info"]
    assert info["header"] is True and info["onehot_columns"] == ["sex", "city"] and info["missing_values_imputed"] == 3
    assert info["source"] == str(headed.resolve())
    uci, _ = configs["logistic_regression", "sklearn", "csv:iris.data"][0]
    assert uci["dataset_info"]["header"] is False and uci["dataset_info"]["target"] == "column_4"
    assert {m for m, b, d in configs} | {"random_forest"} == set(MODELS)

    # --min-duration-s: a millisecond k-NN fit is repeated in one window; one fit's share is reported
    knn, knn_results = configs["knn", "sklearn", "iris"][0]
    fits = knn_results["fits"]
    assert knn["min_duration_s"] == 0.3 and fits["min_duration_s"] == 0.3
    assert fits["count"] > 10 and fits["window_s"] >= 0.3
    assert knn_results["energy"]["total_j"] == pytest.approx(fits["window_energy_j"] / fits["count"])
    assert knn_results["durations_s"]["measured"] == pytest.approx(fits["window_s"] / fits["count"])
    assert f"per fit (mean of {fits['count']} fits in" in proc.stdout
    others = [r for key, group in configs.items() if key != ("knn", "sklearn", "iris") for _, r in group]
    assert all(r["fits"]["count"] == 1 and r["fits"]["window_energy_j"] == r["energy"]["total_j"] for r in others)


def test_summary_line_then_folder_as_the_last_line(tmp_path):
    proc = run_script("train.py", "--model", "naive_bayes", "--dataset", "iris", "--output-dir", tmp_path, *FAST)
    folder = assert_ok(proc)
    summary = proc.stdout.splitlines()[-2]
    assert summary.startswith("train naive_bayes (sklearn, cpu) on iris: accuracy ")
    results = read(folder, "results.json")
    assert results["energy"]["provenance_text"] in summary and "CO2eq" in summary
    # figures as the label prints them (one formatter for the console, ELEx and labels)
    from mlel.units import format_energy_j, format_mass_g

    assert f", {format_energy_j(results['energy']['total_j'])}" in summary
    assert f"{format_mass_g(results['carbon']['co2eq_g'])} CO2eq (" in summary
    assert last_line(proc.stdout) == str(folder)


def test_baseline_gives_net_energy_and_country_sets_the_carbon(tmp_path):
    from mlel.experiments.train import TrainConfig, run_training

    outcome = run_training(TrainConfig(model="naive_bayes", dataset="wine", baseline_s=0.3, country="deu",
                                       monitor_interval_s=0.1, output_dir=tmp_path, progress=False,
                                       extra_config={"search_id": "s-1"}))
    config, results = check_complete_folder(outcome.folder, "train")
    assert config["country"] == "DEU" and config["search_id"] == "s-1" and config["baseline_s"] == 0.3
    assert results["carbon"]["country"] == "DEU"
    assert results["baseline"]["duration_s"] >= 0.3
    meters = results["energy"]["meters"]
    assert all(m["idle_power_w"] is not None for m in meters)
    for m in meters:
        assert m["net_energy_j"] == pytest.approx(m["energy_j"] - m["idle_power_w"] * results["durations_s"]["measured"],
                                                  rel=1e-6, abs=1e-9)
    assert results["energy"]["net_total_j"] == pytest.approx(sum(m["net_energy_j"] for m in meters))
    assert outcome.results == results and outcome.summary.startswith("train naive_bayes (sklearn, cpu) on wine")
