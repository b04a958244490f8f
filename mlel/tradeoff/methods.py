"""How the next configuration is chosen: ``bo`` (multi-objective Bayesian optimisation), ``random``, ``grid``.

Every proposer is deterministic given the search seed and the evaluation index, so a resumed search
asks for the same configurations an uninterrupted one would have.

``bo`` in short: a Sobol initial design (families in turn); then one GP over the encoding of
``mlel.tradeoff.space`` with two outputs, utility and ``-log10(energy_j)`` (energy spans orders of
magnitude, so it is modelled on a log scale); a ``MixedSingleTaskGP`` (categorical kernel on the
family column) when more than one family is searched, a ``SingleTaskGP`` otherwise; the next point
maximises qLogNoisyExpectedHypervolumeImprovement with respect to the search's reference point,
optimised per family with ``optimize_acqf_mixed`` (the family and the other families' columns
fixed). Failed evaluations enter the model at the worst values seen so far, so the optimiser
steers away from them.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Protocol, Sequence

import numpy as np

from mlel.tradeoff.space import Candidate, SearchSpace, _key

log = logging.getLogger(__name__)

METHODS = ("bo", "random", "grid")
ENERGY_FLOOR_J = 1e-12  # a zero or negative energy (a meter that saw nothing) cannot go on a log scale


@dataclass(frozen=True)
class Observation:
    """One finished evaluation as the proposers see it."""

    candidate: Candidate
    utility: float | None  # None: the evaluation failed
    energy_j: float | None

    @property
    def failed(self) -> bool:
        return self.utility is None or self.energy_j is None


def model_objectives(utility: float, energy_j: float) -> tuple[float, float]:
    """Both objectives as maximised by the model: utility and ``-log10(energy_j)``."""
    return float(utility), -math.log10(max(float(energy_j), ENERGY_FLOOR_J))


class Proposer(Protocol):
    def propose(self, index: int, history: Sequence[Observation]) -> Candidate: ...


class RandomProposer:
    """Family uniformly at random, hyperparameters uniformly in their (log-)scaled range."""

    def __init__(self, space: SearchSpace, seed: int):
        self.space, self.seed = space, seed

    def propose(self, index: int, history: Sequence[Observation]) -> Candidate:
        return self.space.random_candidate(np.random.default_rng([self.seed, index]))


class GridProposer:
    """The grid of ``SearchSpace.grid``; when it is used up, random points fill the budget."""

    def __init__(self, space: SearchSpace, seed: int, budget: int):
        self.space, self.seed = space, seed
        self.points = space.grid(budget, seed)

    def propose(self, index: int, history: Sequence[Observation]) -> Candidate:
        if index < len(self.points):
            return self.points[index]
        if index == len(self.points):
            log.info("grid of %d points used up; filling the budget with random points", len(self.points))
        return self.space.random_candidate(np.random.default_rng([self.seed, index]))


@dataclass(frozen=True)
class BoOptions:
    """Kept small on purpose: a step should take seconds on two shared CPU cores."""

    num_restarts: int = 2
    raw_samples: int = 64
    mc_samples: int = 64
    maxiter: int = 60  # acquisition optimiser (L-BFGS-B) iterations per restart
    fit_maxiter: int = 100  # GP hyperparameter fit iterations


class BoProposer:
    """Sobol initial design, then qLogNEHVI on a (mixed) GP; see the module docstring."""

    def __init__(self, space: SearchSpace, seed: int, init: int, reference_model: Sequence[float] | None = None,
                 options: BoOptions = BoOptions()):
        self.space, self.seed, self.init, self.options = space, seed, init, options
        self.reference_model = reference_model  # (utility, -log10 energy); set by the search once known
        self._design = space.sobol_design(init, seed)

    def propose(self, index: int, history: Sequence[Observation]) -> Candidate:
        ok = [h for h in history if not h.failed]
        if index < self.init or len(ok) < 2 or self.reference_model is None:
            if index < len(self._design):
                return self._design[index]
            return self.space.random_candidate(np.random.default_rng([self.seed, index]))
        cand = self._optimise(index, history)
        seen = {_key(h.candidate) for h in history}
        if _key(cand) in seen:
            log.info("step %d: the optimiser chose an evaluated configuration again; taking a random one instead", index)
            rng = np.random.default_rng([self.seed, index])
            for _ in range(100):
                cand = self.space.random_candidate(rng)
                if _key(cand) not in seen:
                    break
        return cand

    def _training_data(self, history: Sequence[Observation]):
        import torch

        ok = [model_objectives(h.utility, h.energy_j) for h in history if not h.failed]
        worst = np.min(np.asarray(ok), axis=0)
        xs, ys = [], []
        for h in history:
            xs.append(self.space.encode(h.candidate))
            ys.append(worst if h.failed else model_objectives(h.utility, h.energy_j))
        return torch.tensor(np.asarray(xs), dtype=torch.double), torch.tensor(np.asarray(ys), dtype=torch.double)

    def _optimise(self, index: int, history: Sequence[Observation]) -> Candidate:
        import torch

        threads = torch.get_num_threads()
        # Tiny tensors: one thread is several times faster than many on a busy, shared CPU.
        torch.set_num_threads(1)
        try:
            return self._optimise_single_threaded(index, history)
        finally:
            torch.set_num_threads(threads)

    def _optimise_single_threaded(self, index: int, history: Sequence[Observation]) -> Candidate:
        import torch
        from botorch.acquisition.multi_objective.logei import qLogNoisyExpectedHypervolumeImprovement
        from botorch.fit import fit_gpytorch_mll
        from botorch.models import MixedSingleTaskGP, SingleTaskGP
        from botorch.optim.optimize import optimize_acqf_mixed
        from botorch.sampling.normal import SobolQMCNormalSampler
        from gpytorch.mlls import ExactMarginalLogLikelihood

        torch.manual_seed(self.seed * 100_003 + index)
        train_x, train_y = self._training_data(history)
        if len(self.space.names) > 1:
            model = MixedSingleTaskGP(train_x, train_y, cat_dims=[0])
        else:
            model = SingleTaskGP(train_x, train_y)
        fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model),
                         optimizer_kwargs={"options": {"maxiter": self.options.fit_maxiter}})
        o = self.options
        acq = qLogNoisyExpectedHypervolumeImprovement(
            model=model,
            ref_point=torch.tensor(list(self.reference_model), dtype=torch.double),
            X_baseline=train_x,
            sampler=SobolQMCNormalSampler(sample_shape=torch.Size([o.mc_samples]), seed=self.seed * 7919 + index),
            prune_baseline=True,
        )
        bounds = torch.tensor(self.space.bounds(), dtype=torch.double)
        x, _ = optimize_acqf_mixed(
            acq_function=acq,
            bounds=bounds,
            q=1,
            num_restarts=o.num_restarts,
            raw_samples=o.raw_samples,
            fixed_features_list=[self.space.fixed_features(m) for m in self.space.names],
            options={"maxiter": o.maxiter, "seed": self.seed * 31 + index},
        )
        return self.space.decode(x[0].detach().numpy())


def make_proposer(method: str, space: SearchSpace, seed: int, budget: int, init: int) -> Proposer:
    if method == "bo":
        return BoProposer(space, seed, init)
    if method == "random":
        return RandomProposer(space, seed)
    if method == "grid":
        return GridProposer(space, seed, budget)
    raise ValueError(f"unknown method {method!r}")
