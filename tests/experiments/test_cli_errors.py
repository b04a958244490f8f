"""User mistakes: one line on stderr naming the problem (and the choices), exit code 2, no traceback,
no experiment folder."""

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
])
def test_train_user_errors(args, message, tmp_path):
    heart, blocker = tmp_path / "heart.csv", tmp_path / "blocker"
    heart.write_text(HEADED_CSV)
    blocker.write_text("a file where a folder should be")
    args = [a.format(heart=heart, blocker=blocker) for a in args]
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


def test_infer_user_errors(trained_sklearn, tmp_path):
    cases = [
        (["--model", tmp_path / "missing"], "experiment folder not found"),
        (["--model", tmp_path], "is not an experiment folder (no config.json)"),
        (["--model", trained_sklearn, "--backend", "torch"], "a model trained with sklearn runs on 'sklearn' or 'onnx'"),
        (["--model", trained_sklearn, "--backend", "tflite"], "The 'backend' parameter must be one of 'onnx', 'sklearn', 'torch'"),
        (["--model", trained_sklearn, "--batch-size", "0"], "'batch_size' parameter must be an integer >= 1"),
        ([], "the following arguments are required: --model"),
    ]
    for args, message in cases:
        proc = run_script("infer.py", *args, "--output-dir", tmp_path / "runs", *FAST)
        assert_one_line_error(proc, "infer.py", message)
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def assert_one_line_error(proc, prog: str, message: str) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(errors) == 1, proc.stderr
    assert errors[0].startswith(f"{prog}: error: ") and message in errors[0], errors[0]
