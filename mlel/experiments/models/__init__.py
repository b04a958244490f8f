"""Models, one registry for both training backends (names in ``mlel.experiments.registry``).

``make_trainer(...)`` validates the hyperparameters *before* anything is measured or written,
and returns a :class:`~mlel.experiments.models.base.Trainer` for the chosen backend.
"""

from __future__ import annotations

from mlel.experiments.models.base import DataShape, ModelStats, Trainer
from mlel.experiments.registry import SKLEARN, TORCH, validate_backend, validate_device, validate_model

__all__ = ["DataShape", "ModelStats", "Trainer", "make_trainer"]


def make_trainer(
    model: str,
    backend: str,
    *,
    shape: DataShape,
    params: dict | None = None,
    seed: int = 0,
    threads: int | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    device: str = "cpu",
) -> Trainer:
    validate_backend(backend)
    validate_model(model, backend)
    validate_device(device)
    params = dict(params or {})
    if backend == SKLEARN:
        from mlel.experiments.models.sklearn_models import SklearnTrainer

        return SklearnTrainer(model, shape=shape, params=params, seed=seed, threads=threads, epochs=epochs,
                              batch_size=batch_size, device=device)
    assert backend == TORCH
    from mlel.experiments.models.torch_models import TorchTrainer

    return TorchTrainer(model, shape=shape, params=params, seed=seed, threads=threads, epochs=epochs,
                        batch_size=batch_size, device=device)
