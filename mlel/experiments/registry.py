"""What can be run: model, data set, backend and device names, in one place.

Only names and short descriptions live here, so that ``train.py --list`` and input validation are
instant; the model builders are in ``mlel.experiments.models`` and the loaders in
``mlel.experiments.datasets``.
"""

from __future__ import annotations

from mlel.errors import UserInputError, choices_message

SKLEARN = "sklearn"
TORCH = "torch"
ONNX = "onnx"

BACKENDS: tuple[str, ...] = (SKLEARN, TORCH)
"""Backends that can train."""

INFER_BACKENDS: tuple[str, ...] = (SKLEARN, TORCH, ONNX)
"""Backends that can run inference on a trained model."""

DEVICES: tuple[str, ...] = ("cpu", "cuda")

MODELS: dict[str, tuple[str, ...]] = {
    "logistic_regression": (SKLEARN, TORCH),
    "random_forest": (SKLEARN,),
    "svm": (SKLEARN,),
    "knn": (SKLEARN,),
    "naive_bayes": (SKLEARN,),
    "gradient_boosting": (SKLEARN,),
    "mlp": (SKLEARN, TORCH),
    "cnn": (TORCH,),
}
"""Model name -> the training backends that implement it."""

MODEL_DESCRIPTIONS: dict[str, str] = {
    "logistic_regression": "multinomial logistic regression",
    "random_forest": "random forest (scikit-learn RandomForestClassifier)",
    "svm": "support vector machine, RBF kernel (scikit-learn SVC)",
    "knn": "k nearest neighbours",
    "naive_bayes": "Gaussian naive Bayes",
    "gradient_boosting": "gradient-boosted trees (scikit-learn GradientBoostingClassifier)",
    "mlp": "multi-layer perceptron, one hidden layer of 100 by default (same in both backends)",
    "cnn": "small convolutional network for image data (digits, 8x8)",
}

DATASETS: dict[str, str] = {
    "iris": "150 flowers, 4 features, 3 classes (bundled with scikit-learn)",
    "wine": "178 wines, 13 features, 3 classes (bundled with scikit-learn)",
    "breast_cancer": "569 tumours, 30 features, 2 classes (bundled with scikit-learn)",
    "digits": "1797 8x8 images of digits, 10 classes (bundled with scikit-learn)",
    "synthetic": "make_classification with --n-samples and --n-features, 2 classes",
    "csv:PATH": "a CSV file, header detected, --target COLUMN (default: last column)",
}
"""Data set name -> description. ``csv:PATH`` stands for any ``csv:<path>``."""

CSV_PREFIX = "csv:"
IMAGE_DATASETS = frozenset({"digits"})


def validate_backend(backend: str, choices=BACKENDS) -> str:
    if backend not in choices:
        raise UserInputError(choices_message("backend", backend, choices))
    return backend


def validate_device(device: str) -> str:
    if device not in DEVICES:
        raise UserInputError(choices_message("device", device, DEVICES))
    return device


def validate_model(model: str, backend: str) -> str:
    if model not in MODELS:
        raise UserInputError(choices_message("model", model, MODELS))
    if backend not in MODELS[model]:
        names = [name for name, backends in MODELS.items() if backend in backends]
        raise UserInputError(
            f"model {model!r} is not available with backend {backend!r} "
            f"(it is with {', '.join(MODELS[model])}); {backend} models: {', '.join(names)}"
        )
    return model


def validate_dataset(dataset: str) -> str:
    if dataset in DATASETS and dataset != "csv:PATH":
        return dataset
    if dataset.startswith(CSV_PREFIX) and len(dataset) > len(CSV_PREFIX):
        return dataset
    raise UserInputError(choices_message("dataset", dataset, DATASETS))


def listing() -> str:
    """The text ``train.py --list`` prints."""
    lines = ["models (backends):"]
    width = max(map(len, MODELS))
    for name, backends in MODELS.items():
        lines.append(f"  {name:<{width}}  {', '.join(backends):<14}  {MODEL_DESCRIPTIONS[name]}")
    lines.append("data sets:")
    width = max(map(len, DATASETS))
    for name, text in DATASETS.items():
        lines.append(f"  {name:<{width}}  {text}")
    lines.append(f"training backends: {', '.join(BACKENDS)}")
    lines.append(f"inference backends: {', '.join(INFER_BACKENDS)}")
    lines.append(f"devices: {', '.join(DEVICES)}")
    return "\n".join(lines)
