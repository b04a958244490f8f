"""Screen a change to ``bo`` in minutes: bo and random search on a surrogate fitted to a real bench's runs.

    python bench/tradeoff_surrogate.py --work-dir /tmp/mlel-bench-tradeoff [--dataset digits] [--seeds 15]
                                       [--init 6] [--bo-option utility_noise=4e-4 ...] [--jobs 2]
                                       [--arm NAME=KEY=VALUE[,KEY=VALUE...] ...]
                                       [--validation-noise-scale 0.45] [--bo-reference search|pooled|U,E]
    python bench/tradeoff_surrogate.py --work-dir DIR --score-runs DIR [DIR ...]

A real bench (``bench/tradeoff.py``) takes 14 min for 15 bo searches on digits and 72 min for all
methods; a change that moves bo by half a percent needs 15 or more seeds to be seen. This replays the
search against a surrogate instead: per family, Gaussian processes (scikit-learn) fitted to every
finished evaluation in the work directory (all methods and seeds), one for the validation accuracy,
one for the test accuracy and one for log10 energy, plus each seed's own offset; an answer is the
surrogate's mean at the proposed configuration plus one residual of a real evaluation, drawn at random
(the three together, so the validation/test/energy jitter keeps its real size and correlation); the
means are held to the range each family's real runs span.
bo and random search are both answered by the surrogate, never by the measurements themselves, so
they meet on equal terms; the fronts are chosen on validation accuracy and scored on test accuracy
with one reference point from the real runs, as in the bench.

With ``--arm`` (repeatable) several variants of bo run on the same seeds, each seed's surrogate
answers and random search shared: every arm is reported against random search and, paired per
seed, against the first arm (the ``--bo-option`` bo, unchanged code without options), which is far
sharper than comparing two separate screens.

Each arm is also scored at *mean energy*: its chosen front with test accuracy and each point's
surrogate mean energy, free of the winner's curse on energy readings. ``--score-runs`` scores real
searches that way (bo and its arms after 20 evaluations, random search at its end), paired per seed:
the drift between runs goes too, since one model scores them all.

It is a screen, not a verdict: the surrogate is smoother than the real landscape, and on the runs of
2026-11-26 it put bo 0.5 (digits) to 1.8 (synthetic) points of random's hypervolume below the real
ratio. Compare changes with each other on one data set; a change that looks better here still needs
the real, interleaved bench. Needs a work directory made with
``--validation-size`` (records with ``test_utility``).
"""

from __future__ import annotations

import sys
import tempfile
import warnings
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from mlel.measurement.provenance import Provenance  # noqa: E402
from mlel.tradeoff.evaluators import Evaluation  # noqa: E402
from mlel.tradeoff.methods import BoProposer  # noqa: E402
from mlel.tradeoff.search import (EVALUATIONS_FILE, Search, default_reference, hypervolume_curve_on_test,  # noqa: E402
                                  hypervolume_on_test, read_records)
from mlel.cli import ArgumentParser, positive_int  # noqa: E402
from mlel.tradeoff.space import Candidate  # noqa: E402
from tradeoff import bench_space, paired_difference, parse_arms  # noqa: E402


class Surrogate:
    """Per family: GP means of (validation accuracy, test accuracy, log10 energy), seed offsets, residuals."""

    def __init__(self, records_by_seed: dict[int, list[dict]], space, validation_noise_scale: float = 1.0):
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import RBF, WhiteKernel
        from sklearn.gaussian_process.kernels import ConstantKernel as C

        self.space = space
        rows: dict[str, list] = {}
        for seed, records in records_by_seed.items():
            for r in records:
                if r["status"] != "complete" or r.get("test_utility") is None:
                    continue
                cand = Candidate.from_dict(r["candidate"])
                rows.setdefault(cand.model, []).append(
                    (self._x(cand), (r["utility"], r["test_utility"], np.log10(r["energy_j"])), seed))
        self.families = {}
        self.ranges = {}  # per family: the observed (min, max) of each output, which a mean may not leave
        for model, rs in rows.items():
            x = np.array([r[0] for r in rs])
            y = np.array([r[1] for r in rs])
            seeds = np.array([r[2] for r in rs])
            gps = []
            for j in range(3):  # (scikit-learn warns when a lengthscale ends at a bound: a flat direction, as expected)
                mu, sd = y[:, j].mean(), y[:, j].std() + 1e-9
                kernel = C(1.0) * RBF(np.full(x.shape[1], 0.3), (0.03, 10.0)) + WhiteKernel(0.1, (1e-4, 1.0))
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    gps.append((GaussianProcessRegressor(kernel, random_state=0).fit(x, (y[:, j] - mu) / sd), mu, sd))
            residuals = y - self._mean(gps, x)
            offsets = {int(s): residuals[seeds == s].mean(axis=0) for s in set(seeds)}
            residuals = residuals - np.array([offsets[int(s)] for s in seeds])
            if validation_noise_scale != 1.0:  # shrink the validation residual's part not shared with the test's
                rv, rt = residuals[:, 0], residuals[:, 1]
                b = float(np.dot(rv, rt) / max(np.dot(rt, rt), 1e-12))
                residuals[:, 0] = b * rt + validation_noise_scale * (rv - b * rt)
            self.families[model] = (gps, offsets, residuals)
            self.ranges[model] = (y.min(axis=0), y.max(axis=0))

    def _x(self, cand: Candidate) -> np.ndarray:
        cols = self.space.family_columns(cand.model)
        return self.space.encode(cand)[cols] if cols else np.zeros(1)

    @staticmethod
    def _mean(gps, x: np.ndarray) -> np.ndarray:
        return np.column_stack([gp.predict(x) * sd + mu for gp, mu, sd in gps])

    def level(self, cand: Candidate, seed: int | None = None) -> np.ndarray:
        """(validation accuracy, test accuracy, log10 energy) of ``cand`` without a residual, plus ``seed``'s
        offsets. The GP means are held to the range the family's real runs span: where a GP extrapolates
        (an MLP corner no run tried) its mean passed 1.0, an accuracy no run reached, and a search that
        went there was answered 1.0 (before 2026-11-27)."""
        gps, offsets, _ = self.families[cand.model]
        lo, hi = self.ranges[cand.model]
        mean = np.clip(self._mean(gps, self._x(cand)[None, :])[0], lo, hi)
        return mean + (offsets.get(seed, np.zeros(3)) if seed is not None else 0.0)

    def mean_energy_j(self, cand: Candidate, seed: int) -> float:
        """The surrogate's energy of ``cand`` on ``seed`` without a residual: what re-running it gives on average."""
        return float(10 ** self.level(cand, seed)[2])

    def mean_energy_hypervolume(self, records: list[dict], seed: int, reference) -> float:
        """The front chosen on validation, scored with test accuracy and each point's mean energy: free of
        the winner's curse on energy readings (the surrogate's counterpart of the bench's held-out figure)."""
        return hypervolume_on_test(records, reference,
                                   energy_of=lambda r: self.mean_energy_j(Candidate.from_dict(r["candidate"]), seed))

    def scores(self, records: list[dict], seed: int, reference) -> tuple[float, float]:
        """(test hypervolume, mean-energy hypervolume) of ``records`` on ``seed``."""
        return hypervolume_on_test(records, reference), self.mean_energy_hypervolume(records, seed, reference)

    def draw(self, model: str, level: np.ndarray, rng: np.random.Generator) -> tuple[float, float, float]:
        """``level`` plus one real residual of ``model``'s: (validation accuracy, test accuracy, log10 energy)."""
        residuals = self.families[model][2]
        y = level + residuals[rng.integers(len(residuals))]
        return float(np.clip(y[0], 0, 1)), float(np.clip(y[1], 0, 1)), float(y[2])

    def answer(self, cand: Candidate, seed: int, rng: np.random.Generator) -> tuple[float, float, float]:
        """(validation accuracy, test accuracy, energy in J) of one simulated evaluation."""
        v, t, le = self.draw(cand.model, self.level(cand, seed), rng)
        return v, t, float(10 ** le)


class SurrogateEvaluator:
    """An ``Evaluator`` whose answers come from the surrogate (one residual per seed and index)."""

    def __init__(self, surrogate: Surrogate, seed: int):
        self.surrogate, self.seed = surrogate, seed

    def __call__(self, candidate: Candidate, index: int) -> Evaluation:
        u, t, e = self.surrogate.answer(candidate, self.seed, np.random.default_rng([self.seed, index, 4242]))
        return Evaluation(u, e, 0.0, Provenance.ESTIMATE, "surrogate of a bench's runs", test_utility=t)


def simulate(surrogate: Surrogate, method: str, budget: int, init: int, seed: int, proposer=None) -> list[dict]:
    """One search of ``budget`` evaluations, run by the search's own loop, answered by ``surrogate``."""
    with tempfile.TemporaryDirectory() as out:
        search = Search.open(Path(out) / "search", surrogate.space, method=method, budget=budget, init=init, seed=seed)
        return search.run(SurrogateEvaluator(surrogate, seed), progress=False, proposer=proposer).records


class ReferenceProposer(BoProposer):
    """bo whose acquisition uses ``utility`` and/or ``energy_j`` in place of the search's reference (None: the search's)."""

    def __init__(self, *args, utility=None, energy_j=None, **kwargs):
        self._fixed = (utility, energy_j)
        super().__init__(*args, **kwargs)

    @property
    def reference_model(self):
        return self._reference_model

    @reference_model.setter
    def reference_model(self, value):
        if value is not None:
            u, e = self._fixed
            value = (value[0] if u is None else u, value[1] if e is None else -np.log10(e))
        self._reference_model = value


def _one(job) -> tuple[int, dict[str, list[dict]], list[dict]]:
    """One seed: every bo arm (``{name: BoOptions}``) and random search, on the same surrogate answers."""
    surrogate, seed, init, arms, bo_budget, random_budget, ref = job
    space = surrogate.space
    bo = {name: simulate(surrogate, "bo", bo_budget, init, seed,
                         ReferenceProposer(space, seed, init, options=options, utility=ref[0], energy_j=ref[1]))
          for name, options in arms.items()}
    rnd = simulate(surrogate, "random", random_budget, init, seed)
    return seed, bo, rnd


def load_runs(work_dir: Path, dataset: str, error) -> tuple[list[Path], dict[int, list[dict]], tuple[float, float]]:
    """A bench work directory's non-empty runs of ``dataset``, their records by seed, and the pooled
    reference point (the default rule over every evaluation's test accuracy and energy)."""
    runs = sorted(p for p in (work_dir / dataset).glob("*-*") if (p / EVALUATIONS_FILE).is_file())
    if not runs:
        error(f"{work_dir / dataset}: no runs of a bench (METHOD-SEED/{EVALUATIONS_FILE})")
    by_seed: dict[int, list[dict]] = {}
    for run in runs:
        by_seed.setdefault(int(run.name.rsplit("-", 1)[1]), []).extend(read_records(run / EVALUATIONS_FILE))
    runs = [run for run in runs if (run / EVALUATIONS_FILE).stat().st_size]
    real = [r for rs in by_seed.values() for r in rs if r["status"] == "complete" and r.get("test_utility") is not None]
    if not real:
        error(f"{work_dir}: no evaluation has a test accuracy; run the bench with --validation-size")
    return runs, by_seed, default_reference([r["test_utility"] for r in real], [r["energy_j"] for r in real])


def score_runs(surrogate: Surrogate, dataset: str, dirs: list[Path], reference) -> None:
    """Each method's real searches in ``dirs``: test hypervolume, and the same fronts at the surrogate's
    mean energies (``mean_energy_hypervolume``), paired per seed with random search and with bo."""
    for d in dirs:
        found: dict[str, dict[int, list[dict]]] = {}
        for run in sorted((d / dataset).glob("*-*")):
            if (run / EVALUATIONS_FILE).is_file():
                method, seed = run.name.rsplit("-", 1)
                records = read_records(run / EVALUATIONS_FILE)
                found.setdefault(method, {})[int(seed)] = records if method == "random" else records[:20]
        print(f"{d / dataset}: real searches scored with the surrogate's mean energies")
        scored = {m: {s: surrogate.scores(r, s, reference) for s, r in runs.items()} for m, runs in found.items()}
        for method, by in scored.items():
            hv = np.array(list(by.values()))
            line = f"  {method} ({len(by)} seeds): test {hv[:, 0].mean():.4f}, mean-energy {hv[:, 1].mean():.4f}"
            for other in [o for o in ("random", "bo") if o in scored and o != method]:
                common = sorted(set(by) & set(scored[other]))
                if len(common) > 1:
                    a = np.array([by[s] for s in common])
                    b = np.array([scored[other][s] for s in common])
                    line += (f"; mean-energy {100 * a[:, 1].mean() / b[:, 1].mean():.2f} % of {other}, "
                             + paired_difference(a[:, 1] - b[:, 1], method, other))
            print(line)


def main(argv=None) -> int:
    ap = ArgumentParser(prog="bench/tradeoff_surrogate.py", description=__doc__.splitlines()[0])
    ap.add_argument("--work-dir", type=Path, required=True, help="a real bench's work directory (bench/tradeoff.py --work-dir)")
    ap.add_argument("--dataset", default="digits", help="the work directory's data set to fit the surrogate to (default: digits)")
    ap.add_argument("--seeds", type=positive_int, default=15, help="simulated searches per method (default 15)")
    ap.add_argument("--init", type=int, default=6, help="bo's initial design (default: one per family, as the bench)")
    ap.add_argument("--bo-budget", type=positive_int, default=20, help="evaluations per bo search (default 20)")
    ap.add_argument("--random-budget", type=positive_int, default=60, help="evaluations per random search (default 60)")
    ap.add_argument("--bo-option", action="append", default=[], metavar="KEY=VALUE",
                    help="a BoOptions field for bo (e.g. utility_noise=4e-4, pool_global=64; 'none' for None); repeatable")
    ap.add_argument("--arm", action="append", default=[], metavar="NAME=KEY=VALUE[,KEY=VALUE...]",
                    help="one more bo variant run on the same seeds, reported paired with the first (bo); repeatable")
    ap.add_argument("--validation-noise-scale", type=float, default=1.0,
                    help="scale the validation residuals' own part (not shared with the test's) by this factor: "
                         "0.45 mimics 5-fold cross-validation over the whole training split (default 1)")
    ap.add_argument("--bo-reference", default="search", metavar="search|pooled|U,E",
                    help="the reference point of bo's acquisition: the search's own (default), the pooled one the "
                         "bench scores with, or UTILITY,ENERGY_J ('-' keeps the search's value of that coordinate)")
    ap.add_argument("--jobs", type=positive_int, default=2, help="seeds simulated in parallel processes (default 2)")
    ap.add_argument("--score-runs", type=Path, nargs="+", metavar="DIR",
                    help="instead of simulating, score the real searches in these work directories (bo and its "
                         "arms after their first 20 evaluations, random search at its end) on the surrogate's mean "
                         "energies: free of the winner's curse and of the drift between runs")
    args = ap.parse_args(argv)
    arms = parse_arms(args.bo_option, args.arm, ap.error, first="bo")
    for d in args.score_runs or []:
        if not any((run / EVALUATIONS_FILE).is_file() for run in (d / args.dataset).glob("*-*")):
            ap.error(f"--score-runs {d}: no runs of a bench in {d / args.dataset} (METHOD-SEED/{EVALUATIONS_FILE})")
    runs, by_seed, reference = load_runs(args.work_dir, args.dataset, ap.error)
    surrogate = Surrogate(by_seed, bench_space(), args.validation_noise_scale)
    if args.score_runs:
        score_runs(surrogate, args.dataset, args.score_runs, reference)
        return 0
    if args.bo_reference == "search":
        ref = (None, None)
    elif args.bo_reference == "pooled":
        ref = reference
    else:
        try:
            ref = tuple(None if v == "-" else float(v) for v in args.bo_reference.split(","))
        except ValueError:
            ref = ()
        if len(ref) != 2 or (ref[1] is not None and not ref[1] > 0):
            ap.error(f"--bo-reference {args.bo_reference!r}: expected search, pooled or UTILITY,ENERGY_J "
                     "(energy > 0; '-' keeps the search's value)")
    jobs = [(surrogate, s, args.init, arms, args.bo_budget, args.random_budget, ref) for s in range(args.seeds)]
    if args.jobs > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            results = list(pool.map(_one, jobs))
    else:
        results = [_one(j) for j in jobs]
    print(f"{args.dataset}, surrogate of {len(runs)} runs in {args.work_dir}, {args.seeds} seeds, init {args.init}, "
          f"bo options {args.bo_option or 'default'}, validation noise x{args.validation_noise_scale:g}, bo reference {args.bo_reference} {ref}")
    at = min(20, args.bo_budget)
    rnd_curves = np.array([hypervolume_curve_on_test(rnd, reference) for _, _, rnd in results])
    rnd20, rnd_end = rnd_curves[:, at - 1], rnd_curves[:, -1]
    rnd_mean = np.array([surrogate.mean_energy_hypervolume(rnd, s, reference) for s, _, rnd in results])
    first = None
    for name in arms:
        bo20 = np.array([hypervolume_curve_on_test(bo[name], reference)[at - 1] for _, bo, _ in results])
        bo_mean = np.array([surrogate.mean_energy_hypervolume(bo[name][:at], s, reference) for s, bo, _ in results])
        paired = paired_difference(bo20 - rnd_end, name)
        print(f"{name}: test hypervolume after {at} = {bo20.mean():.4f}, random after {at} = {rnd20.mean():.4f}, "
              f"random after {args.random_budget} = {rnd_end.mean():.4f} ({100 * bo20.mean() / rnd_end.mean():.2f} %)"
              + (f"; {paired}" if paired else ""))
        print(f"  mean-energy hypervolume (each chosen point at its mean energy): {bo_mean.mean():.4f}, random after "
              f"{args.random_budget} = {rnd_mean.mean():.4f} ({100 * bo_mean.mean() / rnd_mean.mean():.2f} %)"
              + (f"; {paired_difference(bo_mean - rnd_mean, name)}" if len(bo_mean) > 1 else ""))
        if first is None:
            first = bo20, bo_mean
        elif len(bo20) > 1:
            print(f"  {name} against bo: {paired_difference(bo20 - first[0], name, 'bo')}; "
                  f"mean-energy {paired_difference(bo_mean - first[1], name, 'bo')}")
        draws = Counter(r["candidate"]["model"] for _, bo, _ in results for r in bo[name][:at])
        print(f"  {name}'s draws per search: " + ", ".join(f"{m} {n / args.seeds:.1f}" for m, n in sorted(draws.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
