"""How the next configuration is chosen: ``bo`` (multi-objective Bayesian optimisation), ``random``, ``grid``.

Every proposer is deterministic given the search seed and the evaluation index, so a resumed search
asks for the same configurations an uninterrupted one would have.

``bo`` in short: a Sobol initial design (families in turn); then one GP over the encoding of
``mlel.tradeoff.space`` with two outputs, utility and ``-log10(energy_j)`` (energy spans orders of
magnitude, so it is modelled on a log scale); when more than one family is searched, one GP per
output whose kernel keeps the families apart (``FamilyKernel``: a level shared by all families plus,
for two points of the same family, the family's own level and a kernel on that family's own columns;
points of different families share nothing else), the utility with a small fixed noise (seeded runs
are reproducible), the energy with a learned one; a ``SingleTaskGP`` otherwise. The next point
maximises qLogNoisyExpectedHypervolumeImprovement with respect to the search's reference point over
a candidate pool (per family: Sobol points plus perturbations of the family's own Pareto-optimal
evaluations, each snapped to what would be evaluated; ``BoOptions(acq_optimizer="lbfgs")`` uses
``optimize_acqf_mixed`` instead). Failed evaluations enter the model at the worst values seen so
far, so the optimiser steers away from them.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Protocol, Sequence

import numpy as np

from mlel.tradeoff.space import Candidate, SearchSpace

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
    acq_optimizer: str = "pool"  # "pool": best of a candidate pool (below); "lbfgs": optimize_acqf_mixed
    pool_global: int = 256  # per family: scrambled Sobol points over the family's columns
    pool_local: int = 128  # per family and centre: perturbations of one of the family's Pareto-optimal points
    pool_centres: int = 4  # per family: at most this many centres (its own Pareto set, best utility first)
    # A candidate whose own columns all lie within this distance (unit scale) of an evaluated point of
    # its family is that evaluation again: a perturbation of 0.03 % of a learning rate's log range re-ran
    # an MLP and spent one of 14 guided steps of a bench search on it.
    pool_min_distance: float = 0.005
    # Observation variance of the utility, fixed. A seeded run on a fixed split gives the same accuracy
    # again, but neighbouring configurations differ by which test samples they happen to get right: an
    # accuracy measured on n samples has a binomial variance u(1-u)/n, about 1e-4 for u = 0.92-0.95 on
    # the 450-750 test samples of the bench (sd 0.01). A learned noise level came out at about 0.02 and
    # swallowed the differences between good configurations; with 1e-6 the model interpolated the jitter.
    # None: learned, as for the energy. Used by the FamilyKernel model (more than one family); a
    # one-family search learns both noises.
    utility_noise: float | None = 1e-4


class BoProposer:
    """Sobol initial design, then qLogNEHVI on a (mixed) GP; see the module docstring."""

    def __init__(self, space: SearchSpace, seed: int, init: int, reference_model: Sequence[float] | None = None,
                 options: BoOptions = BoOptions()):
        self.space, self.seed, self.init, self.options = space, seed, init, options
        self.reference_model = reference_model  # (utility, -log10 energy); set by the search once known
        self._design = space.sobol_design(init, seed)

    def warm_up(self) -> None:
        """Import what a guided step uses, before the first measured step: BoTorch, GPyTorch and, at the
        first torch optimiser, PyTorch's compiler stack take seconds once per process (30 s on a busy
        machine in one bench), which would land on the first step's energy alone."""
        import importlib

        import torch

        for module in ("botorch.acquisition.multi_objective.logei", "botorch.fit", "botorch.models",
                       "botorch.optim.optimize", "botorch.sampling.normal", "gpytorch.mlls"):
            importlib.import_module(module)
        torch.optim.Adam([torch.zeros(1, requires_grad=True)])

    def propose(self, index: int, history: Sequence[Observation]) -> Candidate:
        ok = [h for h in history if not h.failed]
        if index < self.init or len(ok) < 2 or self.reference_model is None:
            if index < len(self._design):
                return self._design[index]
            return self.space.random_candidate(np.random.default_rng([self.seed, index]))
        cand = self._optimise(index, history)
        seen = {h.candidate.key for h in history}
        if cand.key in seen:
            log.info("step %d: the optimiser chose an evaluated configuration again; taking a random one instead", index)
            rng = np.random.default_rng([self.seed, index])
            for _ in range(100):
                cand = self.space.random_candidate(rng)
                if cand.key not in seen:
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
        o = self.options
        fit_options = {"optimizer_kwargs": {"options": {"maxiter": o.fit_maxiter}}}
        if len(self.space.names) > 1:
            model = family_model(self.space, train_x, train_y, o.utility_noise)
            for m in model.models:
                fit_gpytorch_mll(ExactMarginalLogLikelihood(m.likelihood, m), **fit_options)
        else:
            model = SingleTaskGP(train_x, train_y)
            fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model), **fit_options)
        acq = qLogNoisyExpectedHypervolumeImprovement(
            model=model,
            ref_point=torch.tensor(list(self.reference_model), dtype=torch.double),
            X_baseline=train_x,
            sampler=SobolQMCNormalSampler(sample_shape=torch.Size([o.mc_samples]), seed=self.seed * 7919 + index),
            prune_baseline=True,
        )
        if o.acq_optimizer == "pool":
            pool = self.candidate_pool(index, history)
            if len(pool):
                with torch.no_grad():
                    xs = torch.tensor(pool, dtype=torch.double)
                    values = torch.cat([acq(chunk.unsqueeze(-2)) for chunk in xs.split(512)])
                return self.space.decode(pool[int(torch.argmax(values))])
            log.info("step %d: every configuration in the candidate pool was evaluated already", index)
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

    def candidate_pool(self, index: int, history: Sequence[Observation]) -> np.ndarray:
        """Encoded, de-duplicated, not yet evaluated candidates the acquisition is maximised over.

        Per family: a scrambled Sobol sample of its columns (global exploration) plus Gaussian
        perturbations of a few of its own Pareto-optimal evaluations (local refinement, like the
        perturbation pools of TuRBO and SAASBO; reflected at the ends of the range), each snapped
        to what would be evaluated (integers rounded); candidates within ``pool_min_distance`` of an
        evaluation of their family, in every one of its columns, are dropped as repeats of it.
        Maximising over a pool rather than by gradient keeps the proposals away from the corners of
        the box, where a GP fitted to a handful of points is most uncertain and a gradient optimiser
        of expected improvement tends to end up. (It does not keep them off the edges: in a 10-seed
        bench 44 % of the guided evaluations had a hyperparameter within 2 % of an end of its range,
        against 12 % of random search's draws; see docs/tradeoff-log.md.)
        """
        from scipy.stats import qmc

        o = self.options
        rng = np.random.default_rng([self.seed, index, 17])
        seen = {h.candidate.key for h in history}
        evaluated = {m: np.asarray([self.space.encode(h.candidate) for h in history if h.candidate.model == m])
                     for m in self.space.names}
        rows: dict[tuple, np.ndarray] = {}

        def add(model: str, unit_rows: np.ndarray) -> None:
            fi = self.space.names.index(model)
            cols = self.space.family_columns(model)
            for u in unit_rows:
                cand = self.space.from_unit_row(fi, u)
                k = cand.key
                if k in seen or k in rows:
                    continue
                x = self.space.encode(cand)
                near = evaluated[model]
                if cols and len(near) and (np.abs(near[:, cols] - x[cols]).max(axis=1) < o.pool_min_distance).any():
                    continue
                rows[k] = x

        for fi, model in enumerate(self.space.names):
            d = len(self.space.family_columns(model))
            if d == 0:
                add(model, np.zeros((1, 1)))
                continue
            sobol = qmc.Sobol(d=d, scramble=True, seed=int(rng.integers(2**31)))
            add(model, sobol.random_base2(max(1, math.ceil(math.log2(o.pool_global))))[:o.pool_global])
            for centre in self._centres(model, history)[:o.pool_centres]:
                n = o.pool_local
                sigma = rng.choice([0.05, 0.1, 0.2], size=(n, 1))
                mask = rng.random((n, d)) < min(1.0, 2.0 / d)  # perturb about two coordinates at a time
                mask[np.arange(n), rng.integers(d, size=n)] = True
                add(model, reflect_into_unit(centre + mask * rng.normal(0.0, 1.0, (n, d)) * sigma))
        return np.asarray(list(rows.values()), dtype=float).reshape(-1, self.space.dim)

    def _centres(self, model: str, history: Sequence[Observation]) -> list[np.ndarray]:
        """The family's own Pareto-optimal evaluations (unit columns), best utility first."""
        from mlel.pareto import pareto_mask

        own = [h for h in history if not h.failed and h.candidate.model == model]
        if not own:
            return []
        objs = [model_objectives(h.utility, h.energy_j) for h in own]
        mask = pareto_mask(objs, maximize=[True, True])
        best = sorted((o_ for o_, m in zip(zip(objs, own), mask) if m), key=lambda t: -t[0][0])
        cols = self.space.family_columns(model)
        return [self.space.encode(h.candidate)[cols] for _, h in best]


def reflect_into_unit(u: np.ndarray) -> np.ndarray:
    """Fold values back into [0, 1] at its ends (-0.3 -> 0.3, 1.2 -> 0.8).

    Clipping instead put every perturbation that crossed a bound exactly on it: a quarter of the
    guided evaluations of a 10-seed bench had a hyperparameter at the very end of its range.
    """
    return 1.0 - np.abs(1.0 - np.abs(u) % 2.0)


def family_kernel(space: SearchSpace):
    """``FamilyKernel`` for ``space`` (built lazily: gpytorch is imported only when BO runs)."""
    import torch
    from gpytorch.constraints import GreaterThan
    from gpytorch.kernels import ConstantKernel, Kernel, RBFKernel
    from gpytorch.priors import LogNormalPrior

    class FamilyKernel(Kernel):
        """k(x, x') = c + [family(x) == family(x') == f] * (w + s * k_f(x_f, x'_f)).

        Three variances shared by every family, all learned: ``c``, the level all families share;
        ``w``, a family's own level (every point of a family shares it, however far apart: "an MLP
        costs more than a k-NN"); ``s``, how much a family varies with its hyperparameters. ``k_f``
        is an RBF kernel on family ``f``'s own columns ``x_f`` (unit-scaled), one lengthscale per
        column, with a log-normal prior whose median grows as sqrt(d) (1 for one column, 2.2 for the
        five of the MLP) and which starts there. Points of different families share only ``c``, so
        no family's model is bent by union-vector columns that mean something else elsewhere.
        """

        def __init__(self, columns: Sequence[Sequence[int]]):
            super().__init__()
            self.columns = [list(c) for c in columns]
            self.level = ConstantKernel()
            self.within = ConstantKernel()
            self.scale = ConstantKernel()
            self.per_family = torch.nn.ModuleList(_rbf(max(1, len(c))) for c in self.columns)

        def forward(self, x1, x2, diag=False, **params):
            f1, f2 = x1[..., 0].round(), x2[..., 0].round()
            out = self.level.forward(x1[..., :1], x2[..., :1], diag=diag)
            within = self.within.forward(x1[..., :1], x2[..., :1], diag=diag)
            scale = self.scale.forward(x1[..., :1], x2[..., :1], diag=diag)
            for i, (cols, k) in enumerate(zip(self.columns, self.per_family)):
                m1, m2 = (f1 == i).to(x1), (f2 == i).to(x2)
                if not cols:  # a family without hyperparameters: one value, one constant
                    kf = torch.ones_like(m1) if diag else torch.ones_like(m1.unsqueeze(-1) * m2.unsqueeze(-2))
                else:
                    kf = k.forward(x1[..., cols], x2[..., cols], diag=diag)
                    kf = kf.to_dense() if hasattr(kf, "to_dense") else kf
                kf = within + scale * kf
                out = out + (m1 * m2 * kf if diag else m1.unsqueeze(-1) * m2.unsqueeze(-2) * kf)
            return out

    def _rbf(d: int):
        loc = 0.5 * math.log(d)
        return RBFKernel(ard_num_dims=d, lengthscale_prior=LogNormalPrior(loc, 1.0),
                         lengthscale_constraint=GreaterThan(0.05, transform=None, initial_value=math.exp(loc)))

    return FamilyKernel([space.family_columns(m) for m in space.names])


def family_model(space: SearchSpace, train_x, train_y, utility_noise: float | None = None):
    """One ``SingleTaskGP`` per output with a ``FamilyKernel``, as a ``ModelListGP`` (outputs standardised).

    ``utility_noise``: a fixed observation variance for the utility (column 0); ``None`` learns it.
    The energy's noise is always learned.
    """
    import torch
    from botorch.models import ModelListGP, SingleTaskGP
    from botorch.models.transforms.outcome import Standardize

    yvar = [torch.full_like(train_y[:, :1], utility_noise) if j == 0 and utility_noise is not None else None
            for j in range(train_y.shape[-1])]
    return ModelListGP(*(SingleTaskGP(train_x, train_y[:, j:j + 1], train_Yvar=yvar[j], covar_module=family_kernel(space),
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
