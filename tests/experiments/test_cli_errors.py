"""User mistakes: one line on stderr naming the problem (and the choices), exit code 2, no traceback,
no experiment folder."""

import json
import shutil

import pytest

from experiments.conftest import FAST, run_script
from experiments.test_datasets import HEADED_CSV


def torch_has_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


@pytest.mark.parametrize("args, message", [
    (["--model", "transformer", "--dataset", "iris"], "The 'model' parameter must be one of 'cnn', "),
    (["--model", "svm", "--dataset", "imagenet"], "The 'dataset' parameter must be one of 'breast_cancer', "),
    (["--model", "svm", "--dataset", "iris", "--backend", "tensorflow"], "The 'backend' parameter must be one of 'sklearn', 'torch'"),
    (["--model", "svm", "--dataset", "iris", "--device", "tpu"], "The 'device' parameter must be one of 'cpu', 'cuda'"),
    (["--model", "svm", "--dataset", "csv:does/not/exist.csv"], "CSV file not found: 'does/not/exist.csv'"),
    (["--model", "svm", "--dataset", "csv:{heart}", "--target", "outcome"], "target column 'outcome' not found; the columns are"),
    (["--model", "random_forest", "--dataset", "iris", "--param", "n_trees=3"], "unknown parameter(s) 'n_trees'"),
    (["--model", "cnn", "--backend", "torch", "--dataset", "iris"], "the cnn needs image data"),
    (["--model", "svm", "--dataset", "iris", "--cv-folds", "1"], "'cv_folds' parameter must be an integer >= 2"),
    (["--model", "svm", "--dataset", "iris", "--country", "XYZ"], "'country' parameter must be an ISO 3166"),
    (["--model", "svm", "--dataset", "iris", "--epochs", "many"], "argument --epochs: invalid int value"),
    (["--model", "knn", "--dataset", "iris", "--min-duration-s", "-1"], "'min_duration_s' parameter must be a number >= 0"),
    (["--dataset", "iris"], "--model and --dataset are required"),
    (["--model", "svm", "--dataset", "iris", "--output-dir", "{blocker}/runs"], "is not writable"),
    (["--model", "svm", "--dataset", "iris", "--output-dir", "{blocker}"], "is a file, not a folder"),
    (["--model", "svm", "--dataset", "iris", "--output-dir", ""], "argument --output-dir: must name a folder; got an empty string"),
    (["--model", "mlp", "--dataset", "iris", "--param", "hidden_layer_sizes=100,x"],
     "'hidden_layer_sizes' parameter must be positive integers like 100 or 100,50; got (100, 'x')"),
    (["--model", "random_forest", "--dataset", "iris", "--param", "n_jobs=4"], "--param n_jobs is set by --threads"),
    (["--model", "mlp", "--dataset", "iris", "--epochs", "5", "--param", "max_iter=9"],
     "--epochs and --param max_iter set the same thing"),
    (["--model", "mlp", "--backend", "torch", "--dataset", "iris", "--epochs", "2", "--param", "epochs=5"],
     "--epochs and --param epochs set the same thing"),
    (["--model", "svm", "--dataset", "iris", "--n-samples", "50"], "--n-samples and --n-features apply to --dataset synthetic only"),
    (["--model", "svm", "--dataset", "iris", "--seed", "-1"], "'seed' parameter (--seed) must be an integer from 0"),
    (["--model", "svm", "--dataset", "iris", "--seed", "4294967295", "--repeat", "2"], "got 4294967296"),
    (["--model", "svm", "--dataset", "csv:{folder}"], "is a folder, not a CSV file"),
    (["--model", "svm", "--dataset", "csv:{measurements}", "--target", "reading"], "(numbers with fractions)"),
    (["--model", "svm", "--dataset", "csv:{measurements}", "--target", "id"], "(a different value in every row)"),
])
def test_train_user_errors(args, message, tmp_path):
    heart, blocker, measurements = tmp_path / "heart.csv", tmp_path / "blocker", tmp_path / "measurements.csv"
    heart.write_text(HEADED_CSV)
    blocker.write_text("a file where a folder should be")
    # a regression target (fractions) and an id column: classifiers cannot learn either
    measurements.write_text("id,x,reading\n" + "".join(f"{i},{i % 3},{0.37 * i:.2f}\n" for i in range(12)))
    args = [a.format(heart=heart, blocker=blocker, folder=tmp_path, measurements=measurements) for a in args]
    if "--output-dir" not in args:
        args += ["--output-dir", str(tmp_path / "runs")]
    assert_one_line_error(run_script("train.py", *args, *FAST, cwd=tmp_path), "train.py", message)
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())  # no folder left behind


@pytest.mark.skipif("torch_has_cuda()")
def test_cuda_without_a_gpu(tmp_path):
    proc = run_script("train.py", "--model", "mlp", "--backend", "torch", "--dataset", "iris", "--device", "cuda",
                      "--output-dir", tmp_path, *FAST)
    assert_one_line_error(proc, "train.py", "--device cuda was asked for, but torch sees no CUDA GPU")
    assert list(tmp_path.iterdir()) == []


def test_parameters_the_model_refuses_while_running_fail_the_run_in_one_line(tmp_path):
    """k-NN asked for more neighbours than there are training rows: scikit-learn refuses only at predict time,
    inside the run, so the folder exists and says 'failed'; the last line of stderr says why, exit code 2."""
    proc = run_script("train.py", "--model", "knn", "--dataset", "iris", "--param", "n_neighbors=500",
                      "--output-dir", tmp_path / "runs", *FAST, cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("train.py: error: knn (KNeighborsClassifier, n_neighbors=500) failed to predict: ")
    assert "n_neighbors <= n_samples_fit" in last
    (folder,) = (tmp_path / "runs").iterdir()
    status = json.loads((folder / "status.json").read_text())
    assert status["state"] == "failed" and "ModelError" in status["reason"] and not (folder / "COMPLETE").exists()


def test_infer_user_errors(trained_sklearn, tmp_path):
    (tmp_path / "a_file").write_text("not a folder")
    cases = [
        (["--model", tmp_path / "missing"], "experiment folder not found"),
        (["--model", tmp_path / "a_file"], "is a file; pass the experiment folder that holds it"),
        (["--model", tmp_path], "is not an experiment folder (no config.json)"),
        (["--model", trained_sklearn, "--backend", "torch"], "a model trained with sklearn runs on 'sklearn' or 'onnx'"),
        (["--model", trained_sklearn, "--backend", "tflite"], "The 'backend' parameter must be one of 'onnx', 'sklearn', 'torch'"),
        (["--model", trained_sklearn, "--batch-size", "0"], "'batch_size' parameter must be an integer >= 1"),
        (["--model", trained_sklearn, "--device", "cuda"], "the sklearn backend runs on the CPU only; got --device 'cuda'"),
        ([], "the following arguments are required: --model"),
    ]
    for args, message in cases:
        proc = run_script("infer.py", *args, "--output-dir", tmp_path / "runs", *FAST)
        assert_one_line_error(proc, "infer.py", message)
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_a_damaged_model_file_is_named_in_one_line(trained_sklearn, tmp_path):
    damaged = tmp_path / "damaged"
    shutil.copytree(trained_sklearn, damaged)
    (damaged / "model.joblib").write_bytes(b"not a pickle at all")
    proc = run_script("infer.py", "--model", damaged, "--output-dir", tmp_path / "runs", *FAST)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("infer.py: error: cannot read model ") and "(damaged, not written by train.py, or written with" in last


def assert_one_line_error(proc, prog: str, message: str) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(errors) == 1, proc.stderr
    assert errors[0].startswith(f"{prog}: error: ") and message in errors[0], errors[0]


@pytest.mark.parametrize("damage", ["truncated", "flipped"])
def test_a_damaged_held_out_split_is_named_in_one_line(trained_sklearn, tmp_path, damage):
    damaged = tmp_path / "damaged"
    shutil.copytree(trained_sklearn, damaged)
    split = damaged / "split.npz"
    raw = bytearray(split.read_bytes())
    if damage == "truncated":  # no longer a zip archive
        raw = raw[:50]
    else:  # the archive's directory intact, a compressed member corrupt
        middle = len(raw) // 2
        raw[middle:middle + 64] = bytes(64)
    split.write_bytes(bytes(raw))
    proc = run_script("infer.py", "--model", damaged, "--output-dir", tmp_path / "runs", *FAST)
    assert_one_line_error(proc, "infer.py", f"cannot read the held-out split {str(split)!r}")
