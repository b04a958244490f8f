"""scikit-learn models. ``params`` are the estimator's own constructor arguments."""

from __future__ import annotations

import contextlib
import importlib
import logging
import pickle
import warnings
from pathlib import Path

import numpy as np

from mlel.errors import ModelError, SchemaError, UserInputError, first_line
from mlel.experiments.models.base import DataShape, ModelStats, Trainer
from mlel.experiments.params import flag_or_param, json_safe, positive_ints
from mlel.experiments.registry import SKLEARN

log = logging.getLogger(__name__)

# name -> (module, class, our defaults where scikit-learn's do not suit small benchmarks)
ESTIMATORS: dict[str, tuple[str, str, dict]] = {
    "logistic_regression": ("sklearn.linear_model", "LogisticRegression", {"max_iter": 1000}),
    "random_forest": ("sklearn.ensemble", "RandomForestClassifier", {}),
    "svm": ("sklearn.svm", "SVC", {}),
    "knn": ("sklearn.neighbors", "KNeighborsClassifier", {}),
    "naive_bayes": ("sklearn.naive_bayes", "GaussianNB", {}),
    "gradient_boosting": ("sklearn.ensemble", "GradientBoostingClassifier", {}),
    "mlp": ("sklearn.neural_network", "MLPClassifier", {}),
}
# Estimators that take n_jobs but ignore it (LogisticRegression's has had no effect since scikit-learn
# 1.8, which warns on every fit when it is set); their threads follow --threads through the BLAS/OpenMP
# limits.
IGNORES_N_JOBS = frozenset({"logistic_regression"})

# Attributes that hold what a fitted estimator learned (counted as its parameters).
# KNN's model *is* its stored training set, so _fit_X counts too.
LEARNED_ATTRIBUTES = ("coef_", "intercept_", "coefs_", "intercepts_", "support_vectors_", "dual_coef_",
                      "theta_", "var_", "class_prior_", "estimators_", "init_", "_fit_X", "tree_")


def estimator_class(model: str):
    module, name, _ = ESTIMATORS[model]
    return getattr(importlib.import_module(module), name)


def count_parameters(obj) -> int:
    """Learned numbers in a fitted estimator: weights and intercepts, support vectors and their
    coefficients, class means and variances, stored training samples (KNN); a decision tree
    counts a feature and a threshold per split node plus the values of each leaf."""
    from sklearn.tree._tree import Tree

    if isinstance(obj, Tree):
        leaves = int(np.count_nonzero(obj.children_left == -1))
        splits = int(obj.node_count) - leaves
        per_leaf = int(np.prod(obj.value.shape[1:]))
        return 2 * splits + per_leaf * leaves
    if isinstance(obj, np.ndarray):
        if obj.dtype == object:
            return sum(count_parameters(v) for v in obj.ravel())
        return int(obj.size)
    if isinstance(obj, (list, tuple)):
        return sum(count_parameters(v) for v in obj)
    if hasattr(obj, "get_params"):
        return sum(count_parameters(getattr(obj, attr)) for attr in LEARNED_ATTRIBUTES if hasattr(obj, attr))
    return 0


class SklearnTrainer(Trainer):
    backend = SKLEARN
    model_file = "model.joblib"

    def __init__(self, model: str, *, shape: DataShape, params: dict, seed: int = 0, threads: int | None = None,
                 epochs: int | None = None, batch_size: int | None = None, device: str = "cpu"):
        if device != "cpu":
            raise UserInputError(f"the sklearn backend runs on the CPU only; got --device {device!r} "
                                 "(use --backend torch for cuda)")
        self.model_name = model
        self.shape = shape
        self._user_params = dict(params)
        self._seed, self._threads, self._epochs, self._batch_size = seed, threads, epochs, batch_size
        cls = estimator_class(model)
        valid = set(cls().get_params())
        unknown = sorted(set(params) - valid)
        if unknown:
            raise UserInputError(
                f"unknown parameter(s) {', '.join(map(repr, unknown))} for {model} ({cls.__name__}); "
                f"valid: {', '.join(sorted(valid))}"
            )
        kwargs = dict(ESTIMATORS[model][2])
        if "random_state" in valid:
            kwargs["random_state"] = seed
        if "n_jobs" in valid and threads and model not in IGNORES_N_JOBS:
            kwargs["n_jobs"] = threads
        if "n_jobs" in params:
            raise UserInputError("--param n_jobs is set by --threads (it decides the run's environment); "
                                 "use --threads N instead")
        for flag, value, target in (("--epochs", epochs, "max_iter"), ("--batch-size", batch_size, "batch_size")):
            if value is None:
                continue
            if model != "mlp":
                raise UserInputError(f"{flag} applies to torch models and the sklearn mlp; "
                                     f"{model} has no {flag[2:]} (use --param)")
            flag_or_param(flag, target, params)
            kwargs[target] = value
        params = dict(params)
        if "hidden_layer_sizes" in params:
            params["hidden_layer_sizes"] = positive_ints("hidden_layer_sizes", params["hidden_layer_sizes"])
        kwargs.update(params)
        self.estimator = cls(**kwargs)
        self._validate()

    def _validate(self) -> None:
        from sklearn.utils._param_validation import InvalidParameterError

        validate = getattr(self.estimator, "_validate_params", None)
        if validate is None:
            return
        try:
            validate()
        except InvalidParameterError as exc:
            raise UserInputError(str(exc)) from exc

    @property
    def params(self) -> dict:
        return json_safe(self.estimator.get_params(deep=False))

    def fit(self, X, y, *, progress: bool = False) -> None:
        log.info("fitting %s on %d samples x %d features", type(self.estimator).__name__, X.shape[0], X.shape[1])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with self._refusals("fit"):
                self.estimator.fit(X, y)
        for message in {str(w.message).splitlines()[0] for w in caught if not issubclass(w.category, DeprecationWarning)}:
            log.warning("%s: %s", self.model_name, message)

    def predict(self, X) -> np.ndarray:
        with self._refusals("predict"):
            predicted = self.estimator.predict(X)
        return np.asarray(predicted, dtype=np.int64)

    @contextlib.contextmanager
    def _refusals(self, step: str):
        """scikit-learn's ValueError about parameters or data -> ``ModelError``, one line. (Parameter
        types are checked when the trainer is made; any other exception is a bug and keeps its traceback.)"""
        try:
            yield
        except ValueError as exc:
            given = ", ".join(f"{k}={v!r}" for k, v in self._user_params.items()) or "default parameters"
            raise ModelError(f"{self.model_name} ({type(self.estimator).__name__}, {given}) failed to {step}: "
                             f"{first_line(exc)}") from exc

    def stats(self) -> ModelStats:
        return ModelStats(parameters=count_parameters(self.estimator),
                          size_bytes=len(pickle.dumps(self.estimator, protocol=pickle.HIGHEST_PROTOCOL)))

    def save(self, folder: Path) -> Path:
        import joblib

        path = Path(folder) / self.model_file
        joblib.dump(self.estimator, path)
        return path

    def fresh(self) -> "SklearnTrainer":
        return SklearnTrainer(self.model_name, shape=self.shape, params=self._user_params, seed=self._seed,
                              threads=self._threads, epochs=self._epochs, batch_size=self._batch_size)


def load_sklearn_model(path: Path):
    import joblib

    try:
        return joblib.load(path)
    except MemoryError:
        raise
    except Exception as exc:  # joblib/pickle raise many types for a damaged or foreign file
        import sklearn

        raise SchemaError(f"cannot read model {str(path)!r} (damaged, not written by train.py, or written with "
                          f"another scikit-learn than this {sklearn.__version__}): {type(exc).__name__}: {first_line(exc)}") from exc
