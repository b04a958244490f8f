"""Benchmark of the trade-off search on real, measured training runs: bo vs random (vs Optuna's MOTPE).

    python bench/tradeoff.py [--datasets synthetic,digits] [--seeds 10] [--bo-budget 20] [--random-budget 60]
                             [--optuna-budget 20] [--init 6] [--jobs 1] [--work-dir /tmp/mlel-bench-tradeoff]
                             [--docs docs] [--quick] [--reuse METHOD=DIR ...] [--no-remeasure]
                             [--arm NAME=KEY=VALUE[,KEY=VALUE...] ...]

The data sets and what "energy" means on each are in ``DATASETS`` below; the space is the default
six families with the expensive corner of gradient boosting bounded (``bench_space``).

For each data set and seed it runs one search per method (every evaluation a real training run with
power sampling), then compares hypervolume against evaluations with ONE reference point per data
set, pooled over all methods and seeds (the search's own default rule applied to every evaluation
on that data set), so the curves are comparable. With a validation part (the default) the fronts are
chosen on validation accuracy and scored on the test split, and every point of the scored fronts is
run once more for a held-out energy (``remeasure_seed``). Writes ``docs/img/tradeoff/*.png`` and the table
in ``docs/tradeoff.md`` between the BENCH markers. Target: bo after 20 evaluations reaches at least
random search's hypervolume after 60. ``--arm`` adds a variant of bo (``BoOptions`` fields) as one
more method, interleaved with the others per seed, so that a change is judged on the same machine load.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import sys
import time
from dataclasses import asdict, fields
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mlel.cli import ArgumentParser  # noqa: E402
from mlel.errors import RunInterrupted  # noqa: E402
from mlel.tradeoff.evaluators import ExperimentEvaluator, ExperimentSettings  # noqa: E402
from mlel.tradeoff.methods import BoOptions, BoProposer  # noqa: E402
from mlel.tradeoff.search import (  # noqa: E402
    EVALUATIONS_FILE, FRONT_FILE, SEARCH_FILE, Search, chosen_front, read_records, default_reference, hypervolume_curve,
    make_overhead_meter, hypervolume_curve_on_test, hypervolume_on_test)
from mlel.tradeoff.space import FAMILIES, Candidate, Family, SearchSpace  # noqa: E402
from mlel.tradeoff.space import Hyperparameter as H  # noqa: E402

MODELS = ("random_forest", "gradient_boosting", "mlp", "knn", "svm", "logistic_regression")
BEGIN, END = "<!-- BENCH:BEGIN -->", "<!-- BENCH:END -->"
RUN_FILE = "bench-run.json"  # per run: its wall time, so that a later bench can reuse the run
log = logging.getLogger("bench.tradeoff")
REMEASURE_FILE = "remeasured.jsonl"  # per data set and seed: the fresh measurements of the scored fronts

# Data sets where the trade-off is real: fits take 0.05-5 s and energies span three to four decades.
# synthetic: 3000 x 40 binary make_classification (generated per seed), energy = training energy.
# digits: 1797 8x8 images, 10 classes, energy = training + 1,000,000 predictions (k-NN is cheap to
#   train and expensive to serve, so training energy alone would make the front one k-NN fit whose
#   millisecond energy is timing noise, as on iris/wine).
DATASETS = {
    "synthetic": {"energy": "train", "n_samples": 3000, "n_features": 40},
    "digits": {"energy": "train+infer"},
    "iris": {"energy": "train"},
    "wine": {"energy": "train"},
}
# Measurement windows: a fit shorter than TRAIN_MIN_DURATION_S is repeated in one window (one fit's share
# counts), and the inference run (train+infer) predicts the test split for at least INFER_MIN_DURATION_S.
# Measured once, a sub-millisecond k-NN fit varied by a factor of 3 (coefficient of variation 34 %, 12
# runs) and 0.25 s inference windows by 8 %; with 0.5 s and 1 s windows both vary by about 3 %.
TRAIN_MIN_DURATION_S = 0.5
INFER_MIN_DURATION_S = 1.0
# Configurations are chosen on this fraction of the training split and the fronts are scored on the
# test split (``--validation-size``). Chosen and scored on the test split, the comparison rewards
# holding more draws on the cheapest family's plateau, whose test accuracy jitters by a few samples.
VALIDATION_SIZE = 0.2


def bench_space() -> SearchSpace:
    """The default six families; gradient boosting's expensive corner bounded (<= 100 trees, depth <= 5),
    which keeps one fit under about 5 s on these data sets and the whole bench near 20 minutes."""
    gb = Family("gradient_boosting", (H("n_estimators", 5, 100, integer=True, log=True),
                                      H("max_depth", 1, 5, integer=True),
                                      H("learning_rate", 1e-2, 1.0, log=True)))
    return SearchSpace([gb if m == "gradient_boosting" else FAMILIES[m] for m in MODELS])


class OptunaProposer:
    """Optuna's multi-objective TPE (MOTPE) over the same space, through ask/tell."""

    def __init__(self, space: SearchSpace, seed: int, init: int):
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.space = space
        sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=init, multivariate=True, group=True)
        self.study = optuna.create_study(directions=["maximize", "minimize"], sampler=sampler)
        self.trials: dict[int, object] = {}
        self.told: set[int] = set()

    def propose(self, index: int, history) -> Candidate:
        import math

        for i, h in enumerate(history):
            if i in self.trials and i not in self.told:
                if h.failed:
                    self.study.tell(self.trials[i], state=__import__("optuna").trial.TrialState.FAIL)
                else:
                    self.study.tell(self.trials[i], [h.utility, math.log10(max(h.energy_j, 1e-12))])
                self.told.add(i)
        trial = self.study.ask()
        model = trial.suggest_categorical("model", list(self.space.names))
        values = {}
        for hp in self.space.families[model].hyperparameters:
            name = f"{model}.{hp.name}"
            if hp.integer:
                values[hp.name] = trial.suggest_int(name, int(hp.low), int(hp.high), log=hp.log)
            else:
                values[hp.name] = trial.suggest_float(name, hp.low, hp.high, log=hp.log)
        self.trials[index] = trial
        return Candidate(model, values)


def bench_evaluator(output_dir: Path, dataset: str, seed: int, search_id: str, validation_size: float,
                    space: SearchSpace) -> ExperimentEvaluator:
    """One real, measured run per call, with the bench's settings for ``dataset`` (``DATASETS``)."""
    spec = DATASETS[dataset]
    return ExperimentEvaluator(ExperimentSettings(
        dataset=dataset, output_dir=output_dir, search_id=search_id, seed=seed, threads=1,
        monitor_interval_s=0.1, energy=spec["energy"], train_min_duration_s=TRAIN_MIN_DURATION_S,
        infer_min_duration_s=INFER_MIN_DURATION_S, validation_size=validation_size,
        n_samples=spec.get("n_samples", 1000), n_features=spec.get("n_features", 20))).bind(space)


def parse_bo_options(items: list[str], error, flag: str = "--bo-option") -> BoOptions:
    """``BoOptions`` from ``KEY=VALUE`` items ('none' for None); ``error(message)`` on a bad item."""
    known = [f.name for f in fields(BoOptions)]
    kwargs = {}
    for item in items:
        key, _, value = item.partition("=")
        if key not in known or not value:
            error(f"{flag} {item!r}: expected KEY=VALUE with KEY one of {', '.join(known)}")
        default = getattr(BoOptions(), key)
        try:
            if value == "none":
                kwargs[key] = None
            elif default is None:  # an optional field: an integer where it reads as one, else a float
                kwargs[key] = int(value) if value.lstrip("-").isdigit() else float(value)
            else:
                kwargs[key] = type(default)(value)
        except ValueError:
            error(f"{flag} {item!r}: {value!r} is not a {type(default).__name__}")
    return BoOptions(**kwargs)


def parse_arms(first_options: list[str], arms: list[str], error, first: str | None = None) -> dict[str, BoOptions]:
    """``{first: BoOptions(first_options)}`` (when ``first`` is given) plus one entry per
    ``NAME=KEY=VALUE[,KEY=VALUE...]`` in ``arms``: variants of bo, each run as a method of its own."""
    out = {first: parse_bo_options(first_options, error)} if first else {}
    taken = {"bo", "random", "grid", "optuna-tpe", *out}
    for arm in arms:
        name, _, items = arm.partition("=")
        if not name or not items or name in taken or "/" in name:
            error(f"--arm {arm!r}: expected NAME=KEY=VALUE[,KEY=VALUE...] with a new NAME without '/' "
                  f"(not {', '.join(sorted(taken))})")
        out[name] = parse_bo_options(items.split(","), error, f"--arm {name}:")
        taken.add(name)
    return out


def run_one(work: Path, dataset: str, method: str, seed: int, budget: int, init: int,
            validation_size: float = VALIDATION_SIZE, arm: BoOptions | None = None) -> dict:
    """One search of ``method``; with ``arm``, ``method`` names a variant of bo run with those options."""
    space = bench_space()
    spec = DATASETS[dataset]
    out = work / dataset / f"{method}-{seed}"
    shutil.rmtree(out, ignore_errors=True)  # every bench run starts fresh
    extra = {} if arm is None else {"bo_options": asdict(arm)}
    search = Search.open(out, space, method="bo" if arm is not None else method, budget=budget, init=init, seed=seed,
                         description={"dataset": dataset, "objective": "accuracy", **spec, **extra,
                                      "train_min_duration_s": TRAIN_MIN_DURATION_S, "validation_size": validation_size,
                                      "infer_min_duration_s": INFER_MIN_DURATION_S if spec["energy"] != "train" else None})
    evaluator = bench_evaluator(out / "experiments", dataset, seed, search.search_id, validation_size, space)
    proposer = (OptunaProposer(space, seed, init) if method == "optuna-tpe"
                else BoProposer(space, seed, init, options=arm) if arm is not None else None)
    t0 = time.perf_counter()
    outcome = search.run(evaluator, overhead_meter=make_overhead_meter(out), progress=False, proposer=proposer)
    if outcome.interrupted:  # Ctrl-C stops the bench; a half search must not enter its table
        raise RunInterrupted(outcome.signum or signal.SIGINT)
    wall_s = time.perf_counter() - t0
    (out / RUN_FILE).write_text(json.dumps({"wall_s": wall_s}))
    return {"dataset": dataset, "method": method, "seed": seed, "records": outcome.records,
            "search_energy": outcome.search_energy, "wall_s": wall_s}


def reuse_one(source: Path, work: Path, dataset: str, method: str, seed: int) -> dict:
    """A finished run of an earlier bench, copied rather than run again (``--reuse``).

    Its wall time is the run's own (``bench-run.json``) or, for runs made before that file existed,
    the mean of its method in the source's ``bench.json`` (nan without either).
    """
    src, out = source / dataset / f"{method}-{seed}", work / dataset / f"{method}-{seed}"
    if src.resolve() != out.resolve():
        shutil.rmtree(out, ignore_errors=True)
        shutil.copytree(src, out)
    if (out / RUN_FILE).exists():
        wall_s = json.loads((out / RUN_FILE).read_text())["wall_s"]
    elif (source / "bench.json").exists():
        wall_s = json.loads((source / "bench.json").read_text())["datasets"][dataset]["methods"][method]["wall_s"]
    else:
        wall_s = float("nan")  # not recorded: the table says nan rather than guess
    return {"dataset": dataset, "method": method, "seed": seed, "records": read_records(out / EVALUATIONS_FILE),
            "search_energy": json.loads((out / FRONT_FILE).read_text())["search_energy"], "wall_s": wall_s}


def scored_counts(plan) -> dict[str, list[int]]:
    """After how many evaluations each method's front is scored: 20 and the method's budget."""
    return {method: sorted({min(20, budget), budget}) for method, budget in plan}


def remeasure_seed(work: Path, dataset: str, seed: int, seed_runs: list[dict], plan, validation_size: float,
                   source: Path | None = None) -> dict[tuple[str, int], dict]:
    """Measure every point of the fronts the bench scores (each method's, after 20 evaluations and at
    the end) once more, in a fresh run: the held-out energy, as the test split is the held-out accuracy.

    A search keeps a point partly because its energy measured low, and the more points it draws on
    a family of equal cost, the lower its luckiest reading (the winner's curse); a fresh run of the same
    configuration gives what a user who runs it would measure. All methods' points of the seed are
    measured in one shuffled block, right after the seed's searches, so they see the same machine.
    Returns ``{(method, index): line}``; a point whose fresh run fails keeps its search energy
    (``"status": "failed"``). With ``source`` (every method reused from one work directory), its
    measurements are taken when they cover the same points.
    """
    wanted = {(r["method"], rec["index"]): rec for r in seed_runs
              for n in scored_counts(plan)[r["method"]] for rec in chosen_front(r["records"][:n])}
    out = work / dataset / f"remeasure-{seed}"
    if source is not None and (source / dataset / out.name / REMEASURE_FILE).is_file():
        lines = [json.loads(x) for x in (source / dataset / out.name / REMEASURE_FILE).read_text().splitlines()]
        earlier = {(x["method"], x["index"]): x for x in lines}
        if set(wanted) <= set(earlier):
            if source.resolve() != work.resolve():
                shutil.rmtree(out, ignore_errors=True)
                shutil.copytree(source / dataset / out.name, out)
            return {k: earlier[k] for k in wanted}
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    evaluator = bench_evaluator(out / "experiments", dataset, seed, f"remeasure-{dataset}-{seed}", validation_size,
                                bench_space())
    keys = sorted(wanted)
    measured = {}
    with open(out / REMEASURE_FILE, "a") as f:
        for i in np.random.default_rng(seed).permutation(len(keys)):
            method, index = keys[i]
            rec = wanted[(method, index)]
            line = {"method": method, "index": index, "candidate": rec["candidate"], "search_energy_j": rec["energy_j"],
                    "search_time_s": rec["time_s"], "search_test_utility": rec["test_utility"]}
            try:
                ev = evaluator(Candidate.from_dict(rec["candidate"]), index)
                line.update(status="complete", energy_j=ev.energy_j, time_s=ev.time_s, test_utility=ev.test_utility,
                            provenance=ev.provenance.value, folders=list(ev.folders))
            except Exception as exc:  # keep the bench going: this point keeps its search energy, and says so
                logging.getLogger(__name__).warning("re-measuring %s %s failed: %s", method, rec["candidate"], exc)
                line.update(status="failed", error=str(exc), energy_j=rec["energy_j"], time_s=rec["time_s"])
            f.write(json.dumps(line) + "\n")
            f.flush()
            measured[(method, index)] = line
    return measured


def main(argv=None) -> int:
    ap = ArgumentParser(prog="bench/tradeoff.py", description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", default="synthetic,digits", help=f"comma-separated, of {', '.join(DATASETS)}")
    ap.add_argument("--jobs", type=int, default=1,
                    help="data sets run in parallel processes (default: 1; more skews the comparison: energy is "
                         "estimated from machine-wide load, which drops when one data set finishes first)")
    ap.add_argument("--seeds", type=int, default=10,
                    help="seeds per data set (default 10: with 5, the standard error of the mean hypervolume "
                         "was larger than the difference between bo and random)")
    ap.add_argument("--init", type=int, default=len(MODELS),
                    help="initial design of bo, startup trials of TPE (default: one per family, as the search's own default)")
    ap.add_argument("--bo-budget", type=int, default=20, help="evaluations per bo search (default 20)")
    ap.add_argument("--random-budget", type=int, default=60, help="evaluations per random search (default 60; 0 skips it)")
    ap.add_argument("--optuna-budget", type=int, default=20, help="evaluations per Optuna TPE search (default 20; 0 skips it)")
    ap.add_argument("--arm", action="append", default=[], metavar="NAME=KEY=VALUE[,KEY=VALUE...]",
                    help="also run a variant of bo with these BoOptions fields as method NAME, with bo's budget, "
                         "interleaved with the others (e.g. noise=utility_noise=4e-4); repeatable")
    ap.add_argument("--validation-size", type=float, default=VALIDATION_SIZE,
                    help=f"choose on this fraction of the training split, score the fronts on the test split "
                         f"(default: {VALIDATION_SIZE}; 0: choose and score on the test split)")
    ap.add_argument("--no-remeasure", dest="remeasure", action="store_false",
                    help="do not measure the scored fronts' points again (by default, with a validation part, every "
                         "point of the fronts after 20 evaluations and at the end is re-run once, for its held-out energy)")
    ap.add_argument("--work-dir", type=Path, default=Path("/tmp/mlel-bench-tradeoff"),
                    help="where the runs go, and bench.json (default: /tmp/mlel-bench-tradeoff)")
    ap.add_argument("--docs", type=Path,
                    help="the docs folder whose tradeoff.md table (between the BENCH markers) and img/tradeoff/ "
                         "figures are rewritten (default: the repository's docs)")
    ap.add_argument("--no-write", action="store_true",
                    help="leave the docs alone: the figures go to WORK_DIR/docs/img/tradeoff, the table is printed "
                         "and kept in WORK_DIR/bench.json")
    ap.add_argument("--quick", action="store_true",
                    help="1 data set, 1 seed, tiny budgets: a smoke test (implies --no-write)")
    ap.add_argument("--reuse", action="append", default=[], metavar="METHOD=DIR",
                    help="take METHOD's runs from an earlier bench's work directory instead of running them "
                         "(e.g. random=/tmp/mlel-bench-tradeoff-old after a change to bo only); repeatable")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # Warnings only on the console: every run's lines would drown the progress bar. (A run lowers the
    # 'mlel' logger to INFO for its folder's own log file, so the console handler does the filtering.)
    for handler in logging.getLogger().handlers:
        handler.setLevel(logging.WARNING)
    os.environ["MLEL_NO_PROGRESS"] = "1"
    if args.quick:
        args.datasets, args.seeds, args.init, args.bo_budget, args.random_budget, args.optuna_budget = "iris", 1, 4, 6, 8, 6
    if args.quick or args.no_write:  # a smoke run must never replace the published table
        if args.docs is not None:
            ap.error("--docs names docs to rewrite; --quick and --no-write leave docs alone: give one of them")
        args.docs = args.work_dir / "docs"
        log.warning("the docs are left alone: figures go to %s, the table is printed and kept in %s",
                    args.docs / "img" / "tradeoff", args.work_dir / "bench.json")
    elif args.docs is None:
        args.docs = ROOT / "docs"
    for name in ("seeds", "jobs", "bo_budget", "init"):
        if getattr(args, name) < (0 if name == "init" else 1):
            ap.error(f"--{name.replace('_', '-')} must be at least {0 if name == 'init' else 1}; got {getattr(args, name)}")
    if args.bo_budget < args.init:
        ap.error(f"--bo-budget ({args.bo_budget}) must be at least --init ({args.init})")
    if not 0.0 <= args.validation_size < 1.0:
        ap.error(f"--validation-size must be a fraction from 0 to below 1; got {args.validation_size}")
    datasets = [d for d in args.datasets.split(",") if d]
    for d in datasets:
        if d not in DATASETS:
            ap.error(f"unknown data set {d!r}; choose from {', '.join(DATASETS)}")
    arms = parse_arms([], args.arm, ap.error)
    plan = [("bo", args.bo_budget), ("random", args.random_budget), ("optuna-tpe", args.optuna_budget),
            *[(name, args.bo_budget) for name in arms]]
    plan = [(m, b) for m, b in plan if b > 0]
    defaults = asdict(BoOptions())
    args.arms = {name: {k: v for k, v in asdict(o).items() if v != defaults[k]} for name, o in arms.items()}
    reuse = {}
    for item in args.reuse:
        method, _, directory = item.partition("=")
        if method not in dict(plan) or not directory:
            ap.error(f"--reuse {item!r}: expected METHOD=DIR with METHOD one of {', '.join(dict(plan))}")
        runs = {f"{d}/{method}-{s}": Path(directory) / d / f"{method}-{s}" for d in datasets for s in range(args.seeds)}
        missing = [name for name, run in runs.items() if not (run / FRONT_FILE).is_file()]
        if missing:
            ap.error(f"--reuse {item!r}: {directory} has no finished run {missing[0]} "
                     f"({len(missing)} of {len(runs)} missing); expected an earlier bench's work directory")
        other = [name for name, run in runs.items()
                 if json.loads((run / SEARCH_FILE).read_text()).get("validation_size", 0.0) != args.validation_size]
        if other:
            ap.error(f"--reuse {item!r}: {other[0]} was not made with --validation-size {args.validation_size}")
        reuse[method] = Path(directory)
    args.reused = {m: str(d) for m, d in reuse.items()}

    t_start = time.perf_counter()
    args.remeasure = args.remeasure and args.validation_size > 0  # held-out energy goes with held-out accuracy
    jobs = [(args.work_dir, dataset, args.seeds, plan, args.init, i, reuse, args.validation_size, args.remeasure, arms)
            for i, dataset in enumerate(datasets)]
    if args.jobs > 1 and len(jobs) > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=min(args.jobs, len(jobs))) as pool:
            per_dataset = list(pool.map(_run_dataset, jobs))
    else:
        per_dataset = [_run_dataset(j) for j in jobs]
    runs = [r for rs in per_dataset for r in rs]
    elapsed = time.perf_counter() - t_start
    report = summarise(runs, datasets, plan, args)
    report["elapsed_s"] = elapsed
    (args.work_dir / "bench.json").write_text(json.dumps(report, indent=2, default=str))
    write_docs(report, args.docs, datasets, plan)
    print(report["table_md"])
    print(f"total {elapsed / 60:.1f} min; raw results in {args.work_dir}")
    return 0


def _run_dataset(job) -> list[dict]:
    """Every seed and method on one data set (one process per data set with ``--jobs``)."""
    from tqdm import tqdm

    work, dataset, seeds, plan, init, position, reuse, validation_size, remeasure, arms = job
    # one source for the re-measurements too when every method is reused from the same directory
    source = next(iter(reuse.values())) if len(reuse) == len(plan) and len(set(reuse.values())) == 1 else None
    runs = []
    with tqdm(total=seeds * sum(b for _, b in plan), desc=f"bench tradeoff {dataset}", unit="eval",
              position=position) as bar:
        for seed in range(seeds):
            for method, budget in plan:  # methods interleaved per seed: they see the same machine load
                if method in reuse:
                    runs.append(reuse_one(reuse[method], work, dataset, method, seed))
                else:
                    runs.append(run_one(work, dataset, method, seed, budget, init, validation_size, arms.get(method)))
                bar.update(budget)
            if remeasure:
                seed_runs = runs[-len(plan):]
                measured = remeasure_seed(work, dataset, seed, seed_runs, plan, validation_size, source)
                for r in seed_runs:
                    r["remeasured"] = {i: line for (m, i), line in measured.items() if m == r["method"]}
    return runs


def summarise(runs, datasets, plan, args) -> dict:
    """Per data set and method: hypervolume curves (mean, std) against one pooled reference point,
    the energy and time the searches spent, the figures, the table and the verdict.

    With a validation part the curves are ``test`` (the fronts chosen on validation, scored with their
    test utilities; the verdict's measure) and ``chosen`` (the same fronts on the validation utilities
    they were chosen by); without one, only ``chosen`` (chosen and scored on the test split)."""
    from mlel.tradeoff.plots import save_hypervolume_plot

    out = {"datasets": {}, "settings": {"seeds": args.seeds, "init": args.init, "plan": plan, "models": MODELS,
                                        "jobs": args.jobs, "datasets": {d: DATASETS[d] for d in datasets},
                                        "train_min_duration_s": TRAIN_MIN_DURATION_S,
                                        "infer_min_duration_s": INFER_MIN_DURATION_S, "reused": args.reused,
                                        "validation_size": args.validation_size, "remeasure": args.remeasure,
                                        "arms": args.arms}}
    measures = ["test", "chosen"] if args.validation_size else ["chosen"]
    img = args.docs / "img" / "tradeoff"
    img.mkdir(parents=True, exist_ok=True)
    rows = []
    for dataset in datasets:
        these = [r for r in runs if r["dataset"] == dataset]
        done = [e for r in these for e in r["records"] if e["status"] == "complete"]
        energies = [e["energy_j"] for e in done]
        refs = {"chosen": default_reference([e["utility"] for e in done], energies)}
        if "test" in measures:
            refs["test"] = default_reference([e["test_utility"] for e in done], energies)
        curve_of = {"chosen": hypervolume_curve, "test": hypervolume_curve_on_test}
        stats = {}
        for method, budget in plan:
            mr = [r for r in these if r["method"] == method]
            stats[method] = {
                "evaluations_j": float(np.mean([r["search_energy"]["evaluations_j"] for r in mr])),
                "optimiser_j": float(np.mean([r["search_energy"]["optimiser_j"] or 0.0 for r in mr])),
                "optimiser_time_s": float(np.mean([r["search_energy"]["optimiser_time_s"] for r in mr])),
                "wall_s": float(np.mean([r["wall_s"] for r in mr])),
                "failed": int(sum(r["search_energy"]["failed_evaluations_not_counted"] for r in mr)),
                "provenance": sorted({r["search_energy"]["provenance"] for r in mr if r["search_energy"]["provenance"]}),
            }
            for m in measures:
                arr = np.array([curve_of[m](r["records"], refs[m]) for r in mr], dtype=float)
                stats[method][m] = {"hv_mean": arr.mean(axis=0).tolist(), "hv_std": arr.std(axis=0).tolist(),
                                    "hv_per_seed": arr.tolist()}
        for m in measures:
            what = {"test": "fronts chosen on validation, scored on the test split",
                    "chosen": "on the accuracy the fronts were chosen by"}[m] if args.validation_size else ""
            save_hypervolume_plot(img / f"hv_{dataset}{'' if m == measures[0] else '_' + m}.png",
                                  {k: v[m]["hv_mean"] for k, v in stats.items()},
                                  title=f"{dataset}: mean hypervolume over {args.seeds} seeds (band: +-1 std)"
                                        + (f"\n{what}" if what else ""),
                                  bands={k: v[m]["hv_std"] for k, v in stats.items()},
                                  zoom_from=min(10, max(1, args.bo_budget // 2)))
        if args.remeasure:
            for method, budget in plan:
                stats[method]["held-out"] = held_out_stats([r for r in these if r["method"] == method],
                                                           scored_counts(plan)[method], refs["test"])
        _front_plot(img / f"front_{dataset}.png", these, dataset,
                    "validation accuracy" if args.validation_size else "accuracy")
        out["datasets"][dataset] = {"reference": {"utility": refs[measures[0]][0], "energy_j": refs[measures[0]][1]},
                                    "references": {m: {"utility": refs[m][0], "energy_j": refs[m][1]} for m in measures},
                                    "methods": stats}
        rows += [(dataset, method, budget, stats[method]) for method, budget in plan]
    head = {"test": "test hypervolume", "chosen": "validation hypervolume" if args.validation_size else "hypervolume"}
    cols = [f"{head[m]} {k}" for m in measures for k in ("after 20", "at end")]
    lines = ["| data set | method | evaluations | " + " | ".join(cols) + " | energy of evaluations (J) | "
             "optimiser energy (J) | optimiser time (s) | wall time per search (s) |",
             "|---|---|---:|" + "---:|" * (len(cols) + 4)]
    for dataset, method, budget, s in rows:
        cells = [_mean_std(s[m], k) for m in measures for k in (min(20, budget), budget)]
        lines.append(f"| {dataset} | {method} | {budget} | " + " | ".join(cells) + f" | {s['evaluations_j']:.1f} | "
                     f"{s['optimiser_j']:.1f} | {s['optimiser_time_s']:.1f} | {s['wall_s']:.0f} |")
    verdict = []
    for d in datasets:
        methods = out["datasets"][d]["methods"]
        if "random" not in methods:
            continue
        for arm in [a for a in ("bo", *args.arms) if a in methods]:  # bo, then each variant of it
            for m in measures:
                bo_curve, rnd_curve = methods[arm][m]["hv_mean"], methods["random"][m]["hv_mean"]
                n = evaluations_to_reach(bo_curve, rnd_curve[-1])
                reach = (f"{arm}'s mean reaches it after {n} evaluations" if n is not None
                         else f"{arm}'s mean does not reach it within its {len(bo_curve)} evaluations")
                at = min(19, len(bo_curve) - 1)  # after 20 evaluations
                bo_seeds = np.array(methods[arm][m]["hv_per_seed"])[:, at]
                rnd_seeds = np.array(methods["random"][m]["hv_per_seed"])[:, -1]
                verdict.append(verdict_line(f"{d}, {head[m]}", bo_seeds, rnd_seeds, reach, arm))
                if arm != "bo" and "bo" in methods and args.seeds > 1:
                    first = np.array(methods["bo"][m]["hv_per_seed"])[:, at]
                    verdict.append(f"  - {arm} against bo: {paired_difference(bo_seeds - first, arm, 'bo')}")
            if args.remeasure:
                bo, rnd = methods[arm]["held-out"]["hv_at"], methods["random"]["held-out"]["hv_at"]
                verdict.append(verdict_line(f"{d}, held-out hypervolume (test accuracy, fresh energy)",
                                            np.array(bo[min(bo)]), np.array(rnd[max(rnd)]), arm=arm))
    seed_cols = [(f"{m} after {k}", [seed[k - 1] for seed in out["datasets"][d]["methods"][m][measures[0]]["hv_per_seed"]], d)
                 for d in datasets for m in dict(plan) for k in scored_counts(plan)[m]]
    if args.remeasure:
        seed_cols += [(f"{m} after {k}, held-out", out["datasets"][d]["methods"][m]["held-out"]["hv_at"][k], d)
                      for d in datasets for m in dict(plan) for k in scored_counts(plan)[m]]
    out["table_md"] = ("\n".join(lines) + "\n\n" + (held_out_table(out, datasets, plan) if args.remeasure else "")
                       + "\n".join(verdict) + "\n\n" + per_seed_table(datasets, args.seeds, seed_cols, head[measures[0]]))
    return out


def held_out_stats(runs: list[dict], counts: list[int], reference: tuple[float, float]) -> dict:
    """One method's fronts after ``counts`` evaluations, scored with test accuracy and fresh energy
    (``remeasure_seed``), per seed; and how the fresh energies compare with the search's own."""
    hv_at = {n: [hypervolume_on_test(r["records"][:n], reference,
                                     energy_of=lambda rec, r=r: r["remeasured"][rec["index"]]["energy_j"])
                 for r in runs] for n in counts}
    lines = [x for r in runs for x in r["remeasured"].values()]
    fresh = [x for x in lines if x["status"] == "complete"]
    ratio = np.array([x["energy_j"] / x["search_energy_j"] for x in fresh])
    return {"hv_at": hv_at, "hv_mean_at": {n: float(np.mean(v)) for n, v in hv_at.items()},
            "hv_std_at": {n: float(np.std(v)) for n, v in hv_at.items()},
            "points_per_search": len(lines) / len(runs), "failed": len(lines) - len(fresh),
            "energy_ratio_median": float(np.median(ratio)) if len(ratio) else float("nan"),
            # same seed, same split, same configuration: the test accuracy must come out the same
            "test_utility_changed": sum(abs(x["test_utility"] - x["search_test_utility"]) > 1e-9 for x in fresh)}


def held_out_table(report: dict, datasets, plan) -> str:
    """The held-out hypervolumes (``held_out_stats``) as a markdown table, one row per data set and method."""
    lines = ["Held-out hypervolume: the same fronts (chosen on validation after 20 evaluations and at the end), "
             "each point with its test accuracy and the energy of a fresh run of its configuration "
             "(`remeasure_seed`):", "",
             "| data set | method | evaluations | held-out hypervolume after 20 | held-out hypervolume at end | "
             "points re-run per search | fresh / search energy (median) | re-runs failed |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for d in datasets:
        for method, budget in plan:
            h = report["datasets"][d]["methods"][method]["held-out"]
            cells = [f"{h['hv_mean_at'][k]:.4f} +- {h['hv_std_at'][k]:.4f}" for k in (min(20, budget), budget)]
            lines.append(f"| {d} | {method} | {budget} | " + " | ".join(cells) + f" | {h['points_per_search']:.1f} | "
                         f"{h['energy_ratio_median']:.3f} | {h['failed']} |")
    return "\n".join(lines) + "\n\n"


def verdict_line(what: str, bo_seeds: np.ndarray, rnd_seeds: np.ndarray, reach: str = "", arm: str = "bo") -> str:
    """Target met or not on the seeds' means (``arm`` after 20 vs random at its end), plus the paired difference."""
    bo20, rnd_final = float(np.mean(bo_seeds)), float(np.mean(rnd_seeds))
    paired = paired_difference(bo_seeds - rnd_seeds, arm)
    return (f"- {what}: {arm} after 20 = {bo20:.4f}, random at its end = {rnd_final:.4f} ({100 * bo20 / rnd_final:.1f} %): "
            f"target {'met' if bo20 >= rnd_final else 'NOT met'}" + "".join(f"; {x}" for x in (reach, paired) if x))


def paired_difference(diff: np.ndarray, arm: str = "bo", other: str = "random") -> str:
    """Per-seed ``arm`` - ``other``: mean +- standard error and the seeds where it is ahead ("" with one seed)."""
    if len(diff) < 2:
        return ""
    return (f"per seed {arm} - {other} {diff.mean():+.4f} +- {diff.std(ddof=1) / np.sqrt(len(diff)):.4f} "
            f"(standard error), {arm} ahead in {int((diff >= 0).sum())} of {len(diff)}")


def per_seed_table(datasets, seeds: int, columns: list[tuple[str, list[float], str]], name: str) -> str:
    """Each seed's hypervolumes: ``columns`` are (heading, value per seed, data set)."""
    heads = list(dict.fromkeys(h for h, _, _ in columns))
    lines = [f"Per seed, {name}" + (" and held-out" if any(h.endswith("held-out") for h in heads) else "") + ":", "",
             "| data set | seed | " + " | ".join(heads) + " |", "|---|---:|" + "---:|" * len(heads)]
    for d in datasets:
        values = {h: v for h, v, dd in columns if dd == d}
        for seed in range(seeds):
            lines.append(f"| {d} | {seed} | " + " | ".join(f"{values[h][seed]:.4f}" for h in heads) + " |")
    return "\n".join(lines)


def _mean_std(stat: dict, k: int) -> str:
    """'mean +- std' of a hypervolume curve after ``k`` evaluations (nan if the curve is shorter)."""
    if len(stat["hv_mean"]) < k:
        return "nan"
    return f"{stat['hv_mean'][k - 1]:.4f} +- {stat['hv_std'][k - 1]:.4f}"


def evaluations_to_reach(curve, target: float) -> int | None:
    """How many evaluations ``curve`` (hypervolume after 1, 2, ...) takes to reach ``target``; None: never."""
    return next((i + 1 for i, v in enumerate(curve) if v >= target), None)


def _front_plot(path: Path, runs, dataset: str, objective: str) -> None:
    """All evaluations of one data set (every method and seed) and their pooled front."""
    from mlel.pareto import pareto_mask
    from mlel.tradeoff.plots import save_front_plot

    done = [e for r in runs for e in r["records"] if e["status"] == "complete"]
    mask = pareto_mask([(e["utility"], e["energy_j"]) for e in done], maximize=[True, False])
    front = sorted([dict(e, model=e["candidate"]["model"]) for e, m in zip(done, mask) if m], key=lambda e: e["energy_j"])
    save_front_plot(path, done, front, {"dataset": dataset, "method": "all methods and seeds", "objective": objective,
                                        "energy": DATASETS[dataset]["energy"]})


def write_docs(report: dict, docs: Path, datasets, plan) -> None:
    doc = docs / "tradeoff.md"
    if not doc.exists():
        return
    text = doc.read_text()
    if BEGIN not in text or END not in text:
        return
    refs = "; ".join(f"{d}{' ' + m if len(v['references']) > 1 else ''}: accuracy {r['utility']:.3f}, {r['energy_j']:.3g} J"
                     for d, v in report["datasets"].items() for m, r in v["references"].items())
    vsize = report["settings"]["validation_size"]
    chosen = (f"chosen on {vsize:g} of each training split (validation), fronts scored on the test split"
              if vsize else "chosen and scored on the test split")
    reused = report["settings"].get("reused") or {}
    reused = "; runs of " + ", ".join(f"`{m}` reused from `{d}`" for m, d in reused.items()) + " (not run again)" if reused else ""
    how = "one process, methods interleaved per seed" if report["settings"]["jobs"] == 1 else "data sets in parallel"
    if report["settings"].get("remeasure"):
        how += ", each seed's scored fronts re-run once right after its searches (held-out energy)"
    body = (f"{BEGIN}\n_Generated by `bench/tradeoff.py` in {report['elapsed_s'] / 60:.1f} min; "
            f"{report['settings']['seeds']} seeds per data set, initial design {report['settings']['init']}; {chosen}; "
            f"{how}; pooled reference points: {refs}{reused}._\n\n{report['table_md']}\n{END}")
    doc.write_text(text[:text.index(BEGIN)] + body + text[text.index(END) + len(END):])


if __name__ == "__main__":
    from mlel.cli import exit_process, run_main

    exit_process(run_main(main, prog="bench/tradeoff.py"))
