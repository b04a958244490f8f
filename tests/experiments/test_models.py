import numpy as np
import pytest

from mlel.errors import HardwareUnavailableError, UserInputError
from mlel.experiments.datasets import load_dataset
from mlel.experiments.models import DataShape, make_trainer
from mlel.experiments.models.sklearn_models import ESTIMATORS
from mlel.experiments.registry import MODELS

IRIS = DataShape(n_features=4, n_classes=3)
TINY = {"random_forest": {"n_estimators": 3}, "gradient_boosting": {"n_estimators": 3}, "mlp": {"max_iter": 20}}


@pytest.fixture(scope="module")
def iris():
    return load_dataset("iris")


def test_the_registry_and_the_builders_agree():
    assert set(ESTIMATORS) == {m for m, backends in MODELS.items() if "sklearn" in backends}
    assert {m for m, backends in MODELS.items() if "torch" in backends} == {"logistic_regression", "mlp", "cnn"}


@pytest.mark.parametrize("model", sorted(ESTIMATORS))
def test_every_sklearn_model_fits_counts_and_saves(model, iris, tmp_path):
    trainer = make_trainer(model, "sklearn", shape=IRIS, params=TINY.get(model, {}))
    trainer.fit(iris.X_train, iris.y_train)
    assert (trainer.predict(iris.X_test) == iris.y_test).mean() > 0.6
    stats = trainer.stats()
    assert stats.parameters > 0 and stats.size_bytes > 0
    assert trainer.save(tmp_path).is_file()
    assert trainer.params and trainer.params.get("random_state", 0) == 0  # seeded where the estimator takes a seed


def test_parameter_counts_are_the_learned_numbers(iris):
    lr = make_trainer("logistic_regression", "sklearn", shape=IRIS)
    lr.fit(iris.X_train, iris.y_train)
    assert lr.stats().parameters == 4 * 3 + 3
    knn = make_trainer("knn", "sklearn", shape=IRIS)
    knn.fit(iris.X_train, iris.y_train)
    assert knn.stats().parameters == iris.X_train.size                   # KNN stores its training set


def test_torch_and_sklearn_mlp_have_the_same_shape(iris):
    expected = 4 * 100 + 100 + 100 * 3 + 3
    sk = make_trainer("mlp", "sklearn", shape=IRIS, params={"max_iter": 5})
    sk.fit(iris.X_train, iris.y_train)
    th = make_trainer("mlp", "torch", shape=IRIS, epochs=1)
    th.fit(iris.X_train, iris.y_train)
    assert sk.stats().parameters == th.stats().parameters == expected
    assert th.params["hidden_layer_sizes"] == [100] and th.params["learning_rate_init"] == 1e-3


def test_torch_models_train_and_reload(iris, tmp_path):
    from mlel.experiments.models.torch_models import load_torch_model, predict_torch

    trainer = make_trainer("mlp", "torch", shape=IRIS, params={"hidden_layer_sizes": (16, 8), "learning_rate_init": 0.01},
                           epochs=30, seed=0)
    trainer.fit(iris.X_train, iris.y_train)
    before = trainer.predict(iris.X_test)
    assert (before == iris.y_test).mean() > 0.8
    network, arch = load_torch_model(trainer.save(tmp_path))
    assert arch["hidden_layer_sizes"] == [16, 8]
    assert np.array_equal(predict_torch(network, iris.X_test, "cpu", batch_size=7), before)


def test_cnn_trains_on_digits_and_refuses_tabular_data():
    digits = load_dataset("digits")
    cnn = make_trainer("cnn", "torch", shape=DataShape(64, 10, (8, 8)), epochs=1, params={"channels": (4, 8)})
    cnn.fit(digits.X_train[:300], digits.y_train[:300])
    assert cnn.predict(digits.X_test).shape == digits.y_test.shape
    with pytest.raises(UserInputError, match="the cnn needs image data"):
        make_trainer("cnn", "torch", shape=IRIS)


@pytest.mark.parametrize("kwargs, message", [
    ({"model": "svm", "backend": "sklearn", "params": {"Cx": 1}}, "unknown parameter.*'Cx'.*valid: C, "),
    ({"model": "svm", "backend": "sklearn", "params": {"C": -1}}, "'C' parameter of SVC"),
    ({"model": "svm", "backend": "sklearn", "epochs": 3}, "--epochs applies to torch models"),
    ({"model": "mlp", "backend": "torch", "params": {"n_estimators": 3}}, "valid: batch_size, epochs"),
    ({"model": "mlp", "backend": "torch", "params": {"hidden_layer_sizes": (0,)}}, "positive integers"),
    ({"model": "random_forest", "backend": "torch"}, "not available with backend 'torch'"),
    ({"model": "svm", "backend": "sklearn", "device": "cuda"}, "CPU only"),
])
def test_bad_hyperparameters_are_user_errors_before_training(kwargs, message):
    with pytest.raises(UserInputError, match=message):
        make_trainer(shape=IRIS, **kwargs)


def test_cuda_without_gpu_is_a_hardware_error():
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU")
    with pytest.raises(HardwareUnavailableError, match="use --device cpu"):
        make_trainer("mlp", "torch", shape=IRIS, device="cuda")


@pytest.mark.parametrize("model, backend", [(m, b) for m, backends in MODELS.items() for b in backends])
def test_every_model_converts_to_onnx_and_predicts_the_same(model, backend, iris):
    from mlel.experiments.onnx_backend import OnnxPredictor, sklearn_to_onnx, torch_to_onnx

    data = load_dataset("digits") if model == "cnn" else iris
    shape = DataShape(data.n_features, data.n_classes, data.image_shape)
    trainer = make_trainer(model, backend, shape=shape, params=TINY.get(model, {}) if backend == "sklearn" else {},
                           epochs=1 if backend == "torch" else None)
    trainer.fit(data.X_train[:400], data.y_train[:400])
    onnx_bytes = (sklearn_to_onnx(trainer.estimator, data.n_features) if backend == "sklearn"
                  else torch_to_onnx(trainer.network, data.n_features))
    predictor = OnnxPredictor(onnx_bytes, threads=1)
    assert np.array_equal(predictor.predict(predictor.prepare(data.X_test)), trainer.predict(data.X_test))


def test_thread_limits_apply_and_are_restored():
    import torch
    from threadpoolctl import threadpool_info

    from mlel.experiments.common import limit_threads

    before = torch.get_num_threads()
    with limit_threads(1, torch_used=True):
        assert torch.get_num_threads() == 1
        assert all(pool["num_threads"] == 1 for pool in threadpool_info())
    assert torch.get_num_threads() == before


def test_torch_warm_up_pays_the_optimisers_first_import_outside_the_window():
    """The first torch.optim.Adam of a process imports torch._dynamo (about a second): warm_up, which
    run_training calls before the measured window, must be where that happens, and must not change
    what the fit learns."""
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent("""
        import sys
        import numpy as np
        from mlel.experiments.models import DataShape, make_trainer
        X = np.random.default_rng(0).normal(size=(30, 4)).astype(np.float32)
        y = np.arange(30) % 3
        trainer = make_trainer("mlp", "torch", shape=DataShape(4, 3, None), params={}, seed=0, epochs=3)
        assert "torch._dynamo" not in sys.modules
        trainer.warm_up(X, y)
        assert "torch._dynamo" in sys.modules
        trainer.fit(X, y)
        cold = make_trainer("mlp", "torch", shape=DataShape(4, 3, None), params={}, seed=0, epochs=3)
        cold.fit(X, y)
        assert (trainer.predict(X) == cold.predict(X)).all()
        print("ok")
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
