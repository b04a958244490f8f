"""How the next configuration is chosen: ``bo`` (multi-objective Bayesian optimisation), ``random``, ``grid``.

Every proposer is deterministic given the search seed and the evaluation index, so a resumed search
asks for the same configurations an uninterrupted one would have.

``bo`` in short: a Sobol initial design (families in turn); then one GP over the encoding of
``mlel.tradeoff.space`` with two outputs, utility and ``-log10(energy_j)`` (energy spans orders of
magnitude, so it is modelled on a log scale); when more than one family is searched, one GP per
output whose kernel keeps the families apart (``FamilyKernel``: a shared constant level plus, for two
points of the same family, a kernel on that family's own columns only; points of different families
share nothing else), so the union-vector columns of one family never inform another; a
``SingleTaskGP`` otherwise. The next point maximises qLogNoisyExpectedHypervolumeImprovement with
respect to the search's reference point, optimised per family with ``optimize_acqf_mixed`` (the
family and the other families' columns fixed; the best acquisition value wins). Failed evaluations
enter the model at the worst values seen so far, so the optimiser steers away from them.
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

    num_restarts: int = 4
    raw_samples: int = 128
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
        from botorch.models import SingleTaskGP
        from botorch.optim.optimize import optimize_acqf_mixed
        from botorch.sampling.normal import SobolQMCNormalSampler
        from gpytorch.mlls import ExactMarginalLogLikelihood

        torch.manual_seed(self.seed * 100_003 + index)
        train_x, train_y = self._training_data(history)
        fit_options = {"optimizer_kwargs": {"options": {"maxiter": self.options.fit_maxiter}}}
        if len(self.space.names) > 1:
            model = family_model(self.space, train_x, train_y)
            for m in model.models:
                fit_gpytorch_mll(ExactMarginalLogLikelihood(m.likelihood, m), **fit_options)
        else:
            model = SingleTaskGP(train_x, train_y)
            fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model), **fit_options)
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


def family_kernel(space: SearchSpace):
    """``FamilyKernel`` for ``space`` (built lazily: gpytorch is imported only when BO runs)."""
    import torch
    from botorch.models.utils.gpytorch_modules import get_covar_module_with_dim_scaled_prior
    from gpytorch.kernels import ConstantKernel, Kernel

    class FamilyKernel(Kernel):
        """k(x, x') = c + [family(x) == family(x') == f] * k_f(x_f, x'_f).

        ``c`` (learned) lets families share an overall level; ``k_f`` is an RBF kernel with BoTorch's
        dimension-scaled lengthscale prior on family ``f``'s own columns ``x_f``. Unlike a
        categorical kernel times a kernel over the whole union vector, nothing else couples two
        families, so a family's model is not bent by columns that mean something else elsewhere.
        """

        def __init__(self, columns: Sequence[Sequence[int]]):
            super().__init__()
            self.columns = [list(c) for c in columns]
            self.level = ConstantKernel()
            self.per_family = torch.nn.ModuleList(
                get_covar_module_with_dim_scaled_prior(ard_num_dims=max(1, len(c))) for c in self.columns)

        def forward(self, x1, x2, diag=False, **params):
            f1, f2 = x1[..., 0].round(), x2[..., 0].round()
            out = self.level.forward(x1[..., :1], x2[..., :1], diag=diag)
            for i, (cols, k) in enumerate(zip(self.columns, self.per_family)):
                m1, m2 = (f1 == i).to(x1), (f2 == i).to(x2)
                if not cols:  # a family without hyperparameters: one value, one constant
                    kf = torch.ones_like(m1) if diag else torch.ones_like(m1.unsqueeze(-1) * m2.unsqueeze(-2))
                else:
                    kf = k.forward(x1[..., cols], x2[..., cols], diag=diag)
                    kf = kf.to_dense() if hasattr(kf, "to_dense") else kf
                out = out + (m1 * m2 * kf if diag else m1.unsqueeze(-1) * m2.unsqueeze(-2) * kf)
            return out

    return FamilyKernel([space.family_columns(m) for m in space.names])


def family_model(space: SearchSpace, train_x, train_y):
    """One ``SingleTaskGP`` per output with a ``FamilyKernel``, as a ``ModelListGP`` (outputs standardised)."""
    from botorch.models import ModelListGP, SingleTaskGP
    from botorch.models.transforms.outcome import Standardize

    return ModelListGP(*(SingleTaskGP(train_x, train_y[:, j:j + 1], covar_module=family_kernel(space),
                                      outcome_transform=Standardize(m=1))
                         for j in range(train_y.shape[-1])))


def make_proposer(method: str, space: SearchSpace, seed: int, budget: int, init: int) -> Proposer:
    if method == "bo":
        return BoProposer(space, seed, init)
    if method == "random":
        return RandomProposer(space, seed)
    if method == "grid":
        return GridProposer(space, seed, budget)
    raise ValueError(f"unknown method {method!r}")
