"""The interface every training backend implements."""

from __future__ import annotations

import abc
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class DataShape:
    """What a model needs to know about its data before it is built."""

    n_features: int
    n_classes: int
    image_shape: tuple[int, int] | None = None


@dataclass(frozen=True)
class ModelStats:
    parameters: int     # learned numbers (weights, split thresholds, support vectors, stored samples)
    size_bytes: int     # serialised size (pickle for scikit-learn, state_dict for torch)


class Trainer(abc.ABC):
    """Builds, fits, evaluates and saves one model. Constructed with validated parameters:
    a bad hyperparameter is a ``UserInputError`` from the constructor, never from :meth:`fit`."""

    backend: str
    model_name: str
    model_file: str    # file name inside the experiment folder

    @property
    @abc.abstractmethod
    def params(self) -> dict:
        """The effective hyperparameters (defaults filled in), JSON-safe, for config.json."""

    @abc.abstractmethod
    def fit(self, X: np.ndarray, y: np.ndarray, *, progress: bool = False) -> None:
        """Train on ``X, y`` (the measured phase)."""

    @abc.abstractmethod
    def predict(self, X: np.ndarray) -> np.ndarray:
        """Class indices for ``X``."""

    @abc.abstractmethod
    def stats(self) -> ModelStats: ...

    @abc.abstractmethod
    def save(self, folder: Path) -> Path:
        """Write the fitted model into ``folder``; returns the file."""

    @abc.abstractmethod
    def fresh(self) -> "Trainer":
        """An unfitted copy with the same configuration (for cross-validation folds)."""

    def warm_up(self, X: np.ndarray, y: np.ndarray) -> None:
        """Pay one-time costs (lazy imports, kernel set-up) before the measured window; the fitted state
        must not change. Nothing to do for most libraries."""

    def synchronize(self):
        """A callable that waits for queued device work (CUDA), or None on the CPU."""
        return None
