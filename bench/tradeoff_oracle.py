"""How far can 20 evaluations go? A design chosen with full knowledge of a bench's surrogate.

    python bench/tradeoff_oracle.py --work-dir /tmp/mlel-bench-tradeoff [--dataset digits] [--seeds 30]
                                    [--init 6] [--measure test|mean-energy] [--with-bo]
                                    [--budget 20] [--pool real|N] [--draws 48] [--random-budget 60]

The surrogate of ``bench/tradeoff_surrogate.py`` (per family, GP means of validation accuracy, test
accuracy and log10 energy fitted to a real bench's runs, plus real residuals) is taken as the truth.
An *oracle* that knows it -- every mean, every seed's offsets and the residuals' distribution, but
not which residual a given evaluation will draw -- picks ``--budget`` configurations in advance,
greedily: each time the one that most raises the expected hypervolume of the front chosen on
validation (``--measure``: scored with test accuracy and the energy as measured, or at each
configuration's mean energy), the expectation taken over ``--draws`` Monte Carlo draws of seed and
residuals. Candidates: every configuration the real runs evaluated (``--pool real``, where the
surrogate's means rest on data), or Sobol points. With ``--init 6`` each seed's design starts from the
search's own initial design (bo's one point per family). The design is then answered by the surrogate
on each seed exactly as bo and random search are in the screen (same answers per seed and index), and
compared with random search after ``--random-budget`` evaluations (and bo, ``--with-bo``), paired per
seed, on both measures.

No search knows the landscape, but a search sees its answers and the oracle's fixed, greedy design
does not, so the oracle's figure is a yardstick rather than a bound: how much room the comparison
leaves for a search's mistakes. Results: docs/tradeoff.md (summary) and docs/tradeoff-log.md.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from mlel.cli import ArgumentParser, positive_int  # noqa: E402
from mlel.tradeoff.space import Candidate  # noqa: E402
from tradeoff import bench_space, paired_difference  # noqa: E402
from tradeoff_surrogate import Surrogate, SurrogateEvaluator, load_runs, simulate  # noqa: E402


def front_hypervolume(points, ref_u: float, ref_le: float) -> float:
    """The hypervolume of the front chosen among ``points`` = (validation, log10 energy as measured,
    test, log10 energy as scored): chosen on the first two, scored on the last two."""
    chosen, best_v = [], -np.inf
    for v, _, t, le in sorted(points, key=lambda p: (p[1], -p[0])):  # cheapest first
        if v > best_v:  # not dominated on (validation, energy) by a cheaper point
            chosen.append((le, t))
            best_v = v
    chosen.sort()
    area, best_t = 0.0, ref_u
    for i, (le, t) in enumerate(chosen):
        if le >= ref_le:
            break
        best_t = max(best_t, t)
        nxt = chosen[i + 1][0] if i + 1 < len(chosen) else ref_le
        area += (best_t - ref_u) * (min(nxt, ref_le) - le)
    return area


def candidate_pool(space, per_family: int, seed: int):
    from scipy.stats import qmc

    pool = []
    for fi, model in enumerate(space.names):
        d = max(1, len(space.family_columns(model)))
        unit = qmc.Sobol(d=d, scramble=True, seed=seed + fi).random(per_family)
        pool += [space.from_unit_row(fi, np.pad(u, (0, space.max_family_dim - d))) for u in unit]
    return list({c.key: c for c in pool}.values())  # integer rounding merges some points


def real_pool(by_seed: dict[int, list[dict]]):
    """Every distinct configuration the real runs evaluated: where the surrogate's means rest on data."""
    pool = [Candidate.from_dict(r["candidate"]) for records in by_seed.values() for r in records
            if r["status"] == "complete"]
    return list({c.key: c for c in pool}.values())


def oracle_design(surrogate: Surrogate, cands, budget: int, draws: int, reference, measure: str = "test",
                  seed: int = 0, start=()):
    """Greedy: ``budget`` candidates, each maximising the Monte Carlo mean of the hypervolume on ``measure``.
    ``start``: candidates fixed first (a search's initial design), counted in the budget."""
    cands = list(start) + [c for c in cands if c not in start]
    rng = np.random.default_rng(seed)
    ref_u, ref_le = reference[0], float(np.log10(reference[1]))
    means = np.array([surrogate.level(c) for c in cands])
    seeds = sorted({s for gps, offsets, res in surrogate.families.values() for s in offsets})
    samples = np.empty((draws, len(cands), 4))  # validation, log energy measured, test, log energy scored
    for d in range(draws):
        s = seeds[d % len(seeds)]
        for i, c in enumerate(cands):
            level = means[i] + surrogate.families[c.model][1].get(s, 0.0)
            v, t, le = surrogate.draw(c.model, level, rng)
            samples[d, i] = (v, le, t, le if measure == "test" else level[2])
    chosen: list[int] = list(range(len(start)))
    for _ in range(budget - len(start)):
        base = [[tuple(samples[d, j]) for j in chosen] for d in range(draws)]
        best, best_value = None, -np.inf
        for i in range(len(cands)):
            if i in chosen:
                continue
            value = sum(front_hypervolume(base[d] + [tuple(samples[d, i])], ref_u, ref_le) for d in range(draws)) / draws
            if value > best_value:
                best, best_value = i, value
        chosen.append(best)
    return [cands[i] for i in chosen]


def _design(job):
    surrogate, pool, budget, draws, reference, measure, start = job
    return oracle_design(surrogate, pool, budget, draws, reference, measure, start=start)


def _search(job) -> tuple[float, float]:
    surrogate, method, budget, seed, init, reference = job
    return surrogate.scores(simulate(surrogate, method, budget, init, seed), seed, reference)


def answer_design(surrogate: Surrogate, design, seed: int) -> list[dict]:
    """The design's records on ``seed``, answered as the screen answers a search (same rng per index)."""
    evaluate = SurrogateEvaluator(surrogate, seed)
    records = []
    for index, c in enumerate(design):
        e = evaluate(c, index)
        records.append({"status": "complete", "utility": e.utility, "test_utility": e.test_utility,
                        "energy_j": e.energy_j, "candidate": c.to_dict()})
    return records


def main(argv=None) -> int:
    from concurrent.futures import ProcessPoolExecutor

    ap = ArgumentParser(prog="bench/tradeoff_oracle.py", description=__doc__.splitlines()[0])
    ap.add_argument("--work-dir", type=Path, required=True, help="a real bench's work directory (bench/tradeoff.py --work-dir)")
    ap.add_argument("--dataset", default="digits")
    ap.add_argument("--seeds", type=positive_int, default=30, help="seeds the design and random search are answered on")
    ap.add_argument("--budget", type=positive_int, default=20, help="evaluations in the oracle's design")
    ap.add_argument("--random-budget", type=positive_int, default=60)
    ap.add_argument("--pool", default="real", metavar="real|N",
                    help="the oracle's candidates: 'real', every configuration the real runs evaluated (default), or "
                         "N Sobol points per family (where the surrogate extrapolates, its means can pass 1.0)")
    ap.add_argument("--draws", type=positive_int, default=48, help="Monte Carlo draws of seed and residuals per expectation")
    ap.add_argument("--init", type=int, default=0,
                    help="start each seed's design with the search's own initial design of this many points "
                         "(6: bo's one per family), the oracle choosing the rest (default 0: one design for all seeds)")
    ap.add_argument("--measure", choices=("test", "mean-energy"), default="test",
                    help="what the oracle maximises: the test hypervolume (energy as measured, default) or the "
                         "mean-energy one (each chosen configuration's mean energy)")
    ap.add_argument("--with-bo", action="store_true",
                    help="also simulate bo (--budget evaluations, initial design --init or 6) on the same seeds")
    ap.add_argument("--jobs", type=positive_int, default=2, help="parallel processes (default 2)")
    args = ap.parse_args(argv)
    if args.with_bo and args.budget < (args.init or 6):
        ap.error(f"--with-bo: --budget ({args.budget}) must be at least bo's initial design ({args.init or 6})")
    if args.pool != "real" and not (args.pool.isdigit() and int(args.pool) > 0):
        ap.error(f"--pool {args.pool!r}: expected 'real' or a positive number of Sobol points per family")
    runs, by_seed, reference = load_runs(args.work_dir, args.dataset, ap.error)
    space = bench_space()
    surrogate = Surrogate(by_seed, space)
    pool = real_pool(by_seed) if args.pool == "real" else candidate_pool(space, int(args.pool), seed=1)
    seeds = range(args.seeds)
    with ProcessPoolExecutor(max_workers=args.jobs) as ex:
        if args.init:
            designs = list(ex.map(_design, [(surrogate, pool, args.budget, args.draws, reference, args.measure,
                                             space.sobol_design(args.init, s)) for s in seeds]))
        else:
            designs = [oracle_design(surrogate, pool, args.budget, args.draws, reference, args.measure)] * args.seeds
        methods = {"random": list(ex.map(_search, [(surrogate, "random", args.random_budget, s, 6, reference) for s in seeds]))}
        if args.with_bo:
            methods["bo"] = list(ex.map(_search, [(surrogate, "bo", args.budget, s, args.init or 6, reference) for s in seeds]))
    methods["oracle"] = [surrogate.scores(answer_design(surrogate, designs[s], s), s, reference) for s in seeds]
    counts = Counter(c.model for d in designs for c in d[args.init:])
    print(f"{args.dataset}, surrogate of {len(runs)} runs in {args.work_dir}, {args.seeds} seeds, "
          f"pool {len(pool)} ({args.pool}), {args.draws} draws, oracle maximises the {args.measure} hypervolume")
    print(f"oracle design{' after the initial ' + str(args.init) if args.init else ''}, per search: "
          + ", ".join(f"{m} {n / len(designs):.1f}" for m, n in sorted(counts.items())))
    for c in designs[0]:
        print(f"  {c.model} {c.values}")
    for k, measure in enumerate(("test", "mean-energy")):
        rnd = np.array([v[k] for v in methods["random"]])
        print(f"{measure} hypervolume, random after {args.random_budget}: {rnd.mean():.4f}")
        for name in [m for m in ("bo", "oracle") if m in methods]:
            hv = np.array([v[k] for v in methods[name]])
            print(f"  {name} ({args.budget}): {hv.mean():.4f} ({100 * hv.mean() / rnd.mean():.2f} %); "
                  + paired_difference(hv - rnd, name, "random"))
        if "bo" in methods:
            d = np.array([v[k] for v in methods["oracle"]]) - np.array([v[k] for v in methods["bo"]])
            print("  " + paired_difference(d, "oracle", "bo"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
