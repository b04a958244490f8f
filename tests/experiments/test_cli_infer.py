"""infer.py end to end on each backend: sklearn, torch and ONNX Runtime."""

import pytest

from experiments.conftest import FAST, assert_ok, read, run_script
from experiments.test_cli_train import check_complete_folder

INFER_FAST = ["--min-duration-s", "0.2", "--threads", "1", *FAST]


def check_inference(folder, train_folder, backend):
    config, results = check_complete_folder(folder, "infer")
    train_config, train_results = read(train_folder, "config.json"), read(train_folder, "results.json")
    assert config["backend"] == backend and config["train_folder"] == str(train_folder.resolve())
    assert (config["model"], config["dataset"]) == (train_config["model"], train_config["dataset"])
    assert config["min_duration_s"] == 0.2
    n_test = train_results["n_samples"]["test"]
    assert results["n_samples"]["measured"] == results["passes"] * n_test and results["passes"] >= 1
    assert results["durations_s"]["measured"] >= 0.2
    per = results["per_sample"]
    assert per["energy_j"] == pytest.approx(results["energy"]["total_j"] / results["n_samples"]["measured"])
    assert per["time_s"] == pytest.approx(results["durations_s"]["measured"] / results["n_samples"]["measured"])
    assert results["model"]["parameters"] == train_results["model"]["parameters"]
    return config, results


def test_infer_sklearn_reuses_the_model_and_its_split(trained_sklearn, tmp_path):
    folder = assert_ok(run_script("infer.py", "--model", trained_sklearn, "--output-dir", tmp_path, "--batch-size", "10",
                                  *INFER_FAST))
    config, results = check_inference(folder, trained_sklearn, "sklearn")
    assert config["batch_size"] == 10
    assert results["metrics"] == read(trained_sklearn, "results.json")["metrics"]
    assert folder.name.startswith("infer_random_forest_iris_sklearn_")


def test_infer_onnx_converts_a_sklearn_model(trained_sklearn, tmp_path):
    folder = assert_ok(run_script("infer.py", "--model", trained_sklearn, "--backend", "onnx", "--output-dir", tmp_path,
                                  *INFER_FAST))
    config, results = check_inference(folder, trained_sklearn, "onnx")
    assert (folder / "model.onnx").is_file() and results["model"]["size_bytes"] == (folder / "model.onnx").stat().st_size
    train_accuracy = read(trained_sklearn, "results.json")["metrics"]["accuracy"]
    assert results["metrics"]["accuracy"] == pytest.approx(train_accuracy, abs=0.03)   # float32 thresholds


def test_infer_torch_and_onnx_agree_on_a_torch_model(trained_torch, tmp_path):
    folder = assert_ok(run_script("infer.py", "--model", trained_torch, "--backend", "torch", "--batch-size", "64",
                                  "--output-dir", tmp_path, *INFER_FAST))
    _, torch_results = check_inference(folder, trained_torch, "torch")
    assert torch_results["metrics"] == read(trained_torch, "results.json")["metrics"]

    from mlel.experiments.infer import InferConfig, run_inference  # in-process: what the search calls

    outcome = run_inference(InferConfig(train_folder=trained_torch, backend="onnx", min_duration_s=0.1, threads=1,
                                        monitor_interval_s=0.1, output_dir=tmp_path, progress=False))
    assert outcome.results["metrics"]["accuracy"] == pytest.approx(torch_results["metrics"]["accuracy"], abs=1e-9)
    assert outcome.config["train_backend"] == "torch" and (outcome.folder / "model.onnx").is_file()
