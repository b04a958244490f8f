"""The search space: model families and their hyperparameters, declared in one place.

``FAMILIES`` below is the whole space. Each family is a model name that ``train.py`` knows
(scikit-learn backend) and the hyperparameters worth searching for it, each with its range and
scale. Integers and reals on a log scale are searched uniformly in log space.

Encoding (what the optimiser sees), kept deliberately simple:

* column 0 is the family, a categorical held as its index ``0 .. k-1`` in the order of the
  families searched;
* then one column per (family, hyperparameter) pair, the "union vector": every hyperparameter
  of every family has its own column, normalised to ``[0, 1]`` (log scale where declared).
  A row uses only its own family's columns; the others are fixed at ``0.0``, so two configurations
  of one family differ only in that family's columns.

``decode`` turns a row back into a ``Candidate`` (family name and constructor kwargs as ``train.py``
gets them); integer hyperparameters are rounded and the row is snapped to what was evaluated, so a
candidate and its encoding always agree.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import numpy as np

from mlel.errors import UserInputError, choices_message

UNUSED_VALUE = 0.0  # what a row holds in the columns of the families it does not belong to


@dataclass(frozen=True)
class Hyperparameter:
    """One searched hyperparameter: a name, a closed range, integer or real, linear or log scale."""

    name: str
    low: float
    high: float
    integer: bool = False
    log: bool = False

    def __post_init__(self):
        if not self.low < self.high:
            raise ValueError(f"{self.name}: low must be below high")
        if self.log and self.low <= 0:
            raise ValueError(f"{self.name}: a log-scaled range must be positive")

    def to_unit(self, value: float) -> float:
        lo, hi, v = self.low, self.high, float(value)
        if self.log:
            lo, hi, v = math.log(lo), math.log(hi), math.log(v)
        return float(min(1.0, max(0.0, (v - lo) / (hi - lo))))

    def from_unit(self, u: float) -> float | int:
        u = float(min(1.0, max(0.0, u)))
        if self.log:
            value = math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        else:
            value = self.low + u * (self.high - self.low)
        if self.integer:
            return int(min(self.high, max(self.low, round(value))))
        return float(min(self.high, max(self.low, value)))  # exp(log(x)) can overshoot by an ulp


def _identity(values: Mapping[str, float | int]) -> dict:
    return dict(values)


def _mlp_params(values: Mapping[str, float | int]) -> dict:
    """scikit-learn's MLP takes the layer sizes as one tuple: search width and depth instead."""
    out = {k: v for k, v in values.items() if k not in ("hidden_units", "hidden_layers")}
    out["hidden_layer_sizes"] = [int(values["hidden_units"])] * int(values["hidden_layers"])
    return out


@dataclass(frozen=True)
class Family:
    """A model family: the model name ``train.py`` knows, its hyperparameters, and how they become kwargs."""

    model: str
    hyperparameters: tuple[Hyperparameter, ...]
    to_params: Callable[[Mapping[str, float | int]], dict] = field(default=_identity, compare=False)
    fixed_params: Mapping[str, object] = field(default_factory=dict, compare=False)


H = Hyperparameter

# The search space. Ranges are wide on purpose: energy spans orders of magnitude across them.
FAMILIES: dict[str, Family] = {
    f.model: f
    for f in (
        Family("random_forest", (H("n_estimators", 5, 300, integer=True, log=True),
                                 H("max_depth", 1, 30, integer=True, log=True))),
        Family("gradient_boosting", (H("n_estimators", 5, 300, integer=True, log=True),
                                     H("max_depth", 1, 8, integer=True),
                                     H("learning_rate", 1e-2, 1.0, log=True))),
        Family("mlp", (H("hidden_units", 4, 256, integer=True, log=True),
                       H("hidden_layers", 1, 3, integer=True),
                       H("learning_rate_init", 1e-4, 1e-1, log=True),
                       H("alpha", 1e-6, 1e-1, log=True),
                       H("max_iter", 20, 500, integer=True, log=True)),
               to_params=_mlp_params),
        Family("knn", (H("n_neighbors", 1, 50, integer=True, log=True),)),
        Family("svm", (H("C", 1e-2, 1e3, log=True), H("gamma", 1e-4, 10.0, log=True))),
        Family("logistic_regression", (H("C", 1e-3, 1e3, log=True),
                                       H("max_iter", 20, 1000, integer=True, log=True))),
        Family("naive_bayes", (H("var_smoothing", 1e-12, 1e-2, log=True),)),
    )
}

DEFAULT_MODELS = ("random_forest", "gradient_boosting", "mlp", "knn", "svm", "logistic_regression")


@dataclass(frozen=True)
class Candidate:
    """One configuration to evaluate: a family and its hyperparameter values (as searched)."""

    model: str
    values: Mapping[str, float | int]

    @property
    def key(self) -> tuple:
        """Hashable identity: two candidates with the same key are the same evaluation."""
        return (self.model, tuple(sorted(self.values.items())))

    def params(self, space: "SearchSpace") -> dict:
        """Constructor kwargs for ``train.py``."""
        fam = space.families[self.model]
        return {**dict(fam.fixed_params), **fam.to_params(self.values)}

    def to_dict(self) -> dict:
        return {"model": self.model, "values": dict(self.values)}

    @classmethod
    def from_dict(cls, d: Mapping) -> "Candidate":
        return cls(model=str(d["model"]), values=dict(d["values"]))


class SearchSpace:
    """The families searched, in order, and the encoding described in the module docstring."""

    def __init__(self, families: Sequence[Family]):
        if not families:
            raise ValueError("a search space needs at least one family")
        self.families: dict[str, Family] = {f.model: f for f in families}
        self.names: tuple[str, ...] = tuple(self.families)
        self.columns: list[tuple[str, Hyperparameter]] = []
        self._family_columns: dict[str, list[int]] = {}
        for f in families:
            cols = []
            for hp in f.hyperparameters:
                self.columns.append((f.model, hp))
                cols.append(len(self.columns))  # +1 for the family column at 0
            self._family_columns[f.model] = cols
        self.dim = 1 + len(self.columns)

    @classmethod
    def from_models(cls, models: Sequence[str] | None = None, catalogue: Mapping[str, Family] = FAMILIES) -> "SearchSpace":
        """The space restricted to ``models`` (``--models``); unknown names are a ``UserInputError``."""
        names = list(models) if models else list(DEFAULT_MODELS)
        for name in names:
            if name not in catalogue:
                raise UserInputError(choices_message("models", name, catalogue))
        return cls([catalogue[n] for n in dict.fromkeys(names)])

    # -- encoding --------------------------------------------------------------------------
    def family_columns(self, model: str) -> list[int]:
        return list(self._family_columns[model])

    def bounds(self) -> np.ndarray:
        lo = np.zeros(self.dim)
        hi = np.ones(self.dim)
        hi[0] = len(self.names) - 1
        return np.stack([lo, hi])

    def fixed_features(self, model: str) -> dict[int, float]:
        """Columns fixed while the optimiser works on ``model``: the family and every other family's columns."""
        own = set(self._family_columns[model])
        fixed = {0: float(self.names.index(model))}
        fixed.update({c: UNUSED_VALUE for c in range(1, self.dim) if c not in own})
        return fixed

    def encode(self, cand: Candidate) -> np.ndarray:
        x = np.full(self.dim, UNUSED_VALUE)
        x[0] = self.names.index(cand.model)
        for col in self._family_columns[cand.model]:
            _, hp = self.columns[col - 1]
            x[col] = hp.to_unit(cand.values[hp.name])
        return x

    def decode(self, x: Sequence[float]) -> Candidate:
        x = np.asarray(x, dtype=float)
        idx = int(round(float(x[0])))
        idx = min(len(self.names) - 1, max(0, idx))
        model = self.names[idx]
        values = {}
        for col in self._family_columns[model]:
            _, hp = self.columns[col - 1]
            values[hp.name] = hp.from_unit(x[col])
        return Candidate(model, values)

    def snap(self, x: Sequence[float]) -> np.ndarray:
        """The encoding of what ``x`` decodes to (integers rounded, other families' columns reset)."""
        return self.encode(self.decode(x))

    # -- designs ---------------------------------------------------------------------------
    def from_unit_row(self, family_index: int, unit: Sequence[float]) -> Candidate:
        """A candidate of family ``family_index`` from a unit vector long enough for its columns."""
        model = self.names[family_index % len(self.names)]
        x = np.full(self.dim, UNUSED_VALUE)
        x[0] = self.names.index(model)
        for j, col in enumerate(self._family_columns[model]):
            x[col] = unit[j]
        return self.decode(x)

    @property
    def max_family_dim(self) -> int:
        return max(len(c) for c in self._family_columns.values()) or 1

    def sobol_design(self, n: int, seed: int) -> list[Candidate]:
        """``n`` initial points: families in turn (so each is tried), hyperparameters from a scrambled Sobol sequence."""
        from scipy.stats import qmc

        if n <= 0:
            return []
        sobol = qmc.Sobol(d=self.max_family_dim, scramble=True, seed=seed)
        m = max(1, math.ceil(math.log2(max(n, 2))))
        unit = sobol.random_base2(m)[:n]
        return [self.from_unit_row(i, unit[i]) for i in range(n)]

    def random_candidate(self, rng: np.random.Generator) -> Candidate:
        family_index = int(rng.integers(len(self.names)))
        return self.from_unit_row(family_index, rng.random(self.max_family_dim))

    def grid(self, budget: int, seed: int) -> list[Candidate]:
        """A full-factorial grid per family with about ``budget / families`` points each.

        Levels per hyperparameter: the largest ``L >= 2`` with ``L ** d`` within the family's share.
        Families are interleaved and each family's points come in a seeded order, so a budget
        that stops mid-grid still covers every family evenly.
        """
        rng = np.random.default_rng(seed)
        share = max(1, budget // len(self.names))
        per_family = []
        for model in self.names:
            d = len(self._family_columns[model])
            levels = max(2, int(math.floor(share ** (1.0 / d) + 1e-9))) if d else 1
            axis = np.linspace(0.0, 1.0, levels)
            points = [self.from_unit_row(self.names.index(model), np.array(p)) for p in itertools.product(axis, repeat=d)]
            unique = list({c.key: c for c in points}.values())  # integer rounding can merge levels
            order = rng.permutation(len(unique))
            per_family.append([unique[i] for i in order])
        out = []
        for row in itertools.zip_longest(*per_family):
            out.extend(c for c in row if c is not None)
        return out
