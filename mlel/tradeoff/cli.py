"""``python -m mlel.tradeoff``: find the accuracy/energy Pareto front with real, measured runs."""

from __future__ import annotations

import json
import logging
import shlex
import sys
from pathlib import Path
from typing import Sequence

from mlel.cli import ArgumentParser, folder_path, setup_logging
from mlel.errors import UserInputError, choices_message
from mlel.units import format_energy_j, format_time_s
from mlel.tradeoff.evaluators import (DEFAULT_INFER_MIN_DURATION_S, DEFAULT_PREDICTIONS, DEFAULT_TRAIN_MIN_DURATION_S,
                                     ENERGY_MODES, OBJECTIVES, ExperimentEvaluator, ExperimentSettings)
from mlel.tradeoff.methods import METHODS
from mlel.tradeoff.search import SEARCH_FILE, Search, make_overhead_meter
from mlel.tradeoff.space import DEFAULT_MODELS, FAMILIES, SearchSpace

log = logging.getLogger(__name__)
PROG = "python -m mlel.tradeoff"
EXPERIMENTS_SUBDIR = "experiments"  # experiment folders of a search, ready for merge_results.py
MIN_DEFAULT_INIT = 4


def parser() -> ArgumentParser:
    p = ArgumentParser(prog=PROG, description=(
        "Search model families and hyperparameters for the configurations that are Pareto-optimal "
        "between accuracy and energy. Every evaluation is a real, measured training run."))
    p.add_argument("--dataset", required=True, help="iris, wine, breast_cancer, digits, synthetic, or csv:PATH")
    p.add_argument("--target", help="csv target column (default: the last column)")
    p.add_argument("--n-samples", type=int, help="synthetic only: rows (default: 1000)")
    p.add_argument("--n-features", type=int, help="synthetic only: features (default: 20)")
    p.add_argument("--output-dir", required=True, type=folder_path, help="where the search writes its files")
    p.add_argument("--budget", type=int, default=30, help="evaluations in total (default: 30)")
    p.add_argument("--init", type=int, default=None,
                   help="initial Sobol design before the optimiser takes over (default: one point per model family, "
                        f"at least {MIN_DEFAULT_INIT}; with --resume, the search's own)")
    p.add_argument("--method", help=f"{', '.join(METHODS)} (default: bo; with --resume, the search's own)")
    p.add_argument("--models", default=",".join(DEFAULT_MODELS),
                   help=f"comma-separated model families (default: {', '.join(DEFAULT_MODELS)}; "
                        f"all: {', '.join(FAMILIES)})")
    p.add_argument("--objective", default="accuracy", help=f"{', '.join(OBJECTIVES)} (default: accuracy)")
    p.add_argument("--energy", default="train", help=f"{', '.join(ENERGY_MODES)} (default: train)")
    p.add_argument("--validation-size", type=float, default=0.0, metavar="FRACTION",
                   help="choose on this fraction of the training split, held out before fitting, and report the "
                        "front's test-split figures beside it (e.g. 0.2; default: 0, choose on the test split). "
                        "A front chosen on the test split flatters itself: among many similar configurations "
                        "the best test score is partly luck")
    p.add_argument("--predictions", type=int, default=DEFAULT_PREDICTIONS,
                   help=f"train+infer: predictions served per model (default: {DEFAULT_PREDICTIONS:,})")
    p.add_argument("--reference", metavar="UTILITY,ENERGY_J",
                   help="hypervolume reference point (default: from the initial design, see docs/tradeoff.md)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="CPU threads per run (default: 1)")
    p.add_argument("--monitor-interval", type=float, default=0.1, metavar="SECONDS",
                   help="power sampling interval of each run (default: 0.1)")
    p.add_argument("--train-min-duration", type=float, default=DEFAULT_TRAIN_MIN_DURATION_S, metavar="SECONDS",
                   help="repeat a training fit shorter than this in one measurement window and count one fit's "
                        "share: a millisecond fit measured once is mostly timing noise "
                        f"(default: {DEFAULT_TRAIN_MIN_DURATION_S:g}; 0: one fit)")
    p.add_argument("--infer-min-duration", type=float, default=DEFAULT_INFER_MIN_DURATION_S, metavar="SECONDS",
                   help="infer modes: predict the held-out split for at least this long "
                        f"(default: {DEFAULT_INFER_MIN_DURATION_S:g}; 0: one pass)")
    p.add_argument("--resume", action="store_true", help="continue the search in --output-dir")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    return p


def default_init(space: SearchSpace, resume_dir: Path | None = None) -> int:
    """One initial point per family (the family kernel learns a level per family from it), at least
    ``MIN_DEFAULT_INIT``; a resumed search keeps the initial design it was started with."""
    saved = _saved_setting(resume_dir, "init")
    try:
        return int(saved)
    except (TypeError, ValueError):
        return max(MIN_DEFAULT_INIT, len(space.names))


def _saved_setting(resume_dir: Path | None, key: str):
    """A setting of the search being resumed, or None (Search.open reports an unreadable search.json)."""
    if resume_dir is None or not (Path(resume_dir) / SEARCH_FILE).is_file():
        return None
    try:
        return json.loads((Path(resume_dir) / SEARCH_FILE).read_text()).get(key)
    except (OSError, ValueError, AttributeError):
        return None


def _choice(name: str, value: str, choices) -> str:
    if value not in choices:
        raise UserInputError(choices_message(name, value, choices))
    return value


def _reference(text: str | None) -> tuple[float, float] | None:
    if text is None:
        return None
    try:
        u, e = (float(v) for v in text.split(","))
    except ValueError:
        raise UserInputError(f"--reference expects UTILITY,ENERGY_J (e.g. 0.5,100); got {text!r}") from None
    if not e > 0:
        raise UserInputError(f"--reference: the energy must be positive (it is on a log scale); got {e!r}")
    return u, e


def main(argv: Sequence[str] | None = None) -> int:
    from mlel.experiments import common
    from mlel.experiments.datasets import synthetic_size
    from mlel.experiments.folder import check_output_dir
    from mlel.experiments.registry import validate_dataset

    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser().parse_args(argv)
    setup_logging(args.verbose)
    if args.method is None:
        args.method = (args.resume and _saved_setting(args.output_dir, "method")) or "bo"
    method = _choice("method", args.method, METHODS)
    objective = _choice("objective", args.objective, OBJECTIVES)
    energy = _choice("energy", args.energy, ENERGY_MODES)
    validate_dataset(args.dataset)
    args.n_samples, args.n_features = synthetic_size(args.dataset, args.n_samples, args.n_features)
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    if not models:
        raise UserInputError(f"--models is empty; choose from {', '.join(FAMILIES)}")
    space = SearchSpace.from_models(models)
    reference = _reference(args.reference)
    common.validate_threads(args.threads)
    common.validate_seed(args.seed)
    common.validate_positive("monitor_interval", args.monitor_interval)
    if args.budget < 1:
        raise UserInputError(f"The 'budget' parameter must be at least 1; got {args.budget}")
    if args.init is None:
        args.init = default_init(space, args.output_dir if args.resume else None)
    if args.init < 0:
        raise UserInputError(f"--init must be an integer >= 0 (0: no initial design); got {args.init}")
    if args.budget < args.init:
        raise UserInputError(f"--budget ({args.budget}) must be at least --init ({args.init}), the initial design")
    for name, value in (("train-min-duration", args.train_min_duration), ("infer-min-duration", args.infer_min_duration)):
        if not value >= 0:
            raise UserInputError(f"--{name} must be a number of seconds >= 0; got {value!r}")
    if not 0.0 <= args.validation_size < 1.0:
        raise UserInputError(f"--validation-size must be a fraction from 0 (none) to below 1, e.g. 0.2; got {args.validation_size!r}")
    if args.predictions < 1:
        raise UserInputError(f"The 'predictions' parameter must be at least 1; got {args.predictions}")
    _check_dataset(args.dataset, args.target, args.seed, args.n_samples, args.n_features, args.validation_size)
    check_output_dir(args.output_dir)

    search = Search.open(args.output_dir, space, method=method, budget=args.budget, init=args.init, seed=args.seed,
                         reference=reference, resume=args.resume,
                         description={"dataset": args.dataset, "objective": objective, "energy": energy,
                                      "predictions": args.predictions if energy == "train+infer" else None,
                                      "target": args.target, "threads": args.threads,
                                      "validation_size": args.validation_size,
                                      "n_samples": args.n_samples if args.dataset == "synthetic" else None,
                                      "n_features": args.n_features if args.dataset == "synthetic" else None,
                                      "monitor_interval_s": args.monitor_interval,
                                      "train_min_duration_s": args.train_min_duration,
                                      "infer_min_duration_s": args.infer_min_duration if energy != "train" else None})
    settings = ExperimentSettings(
        dataset=args.dataset, output_dir=args.output_dir / EXPERIMENTS_SUBDIR, search_id=search.search_id,
        objective=objective, energy=energy, seed=args.seed, target=args.target, threads=args.threads,
        monitor_interval_s=args.monitor_interval, predictions=args.predictions,
        train_min_duration_s=args.train_min_duration, infer_min_duration_s=args.infer_min_duration,
        n_samples=args.n_samples, n_features=args.n_features, validation_size=args.validation_size)
    evaluator = ExperimentEvaluator(settings).bind(space)
    log.info("search %s: %s on %s, %d evaluations (%d initial), models %s; writing to %s",
             search.search_id, method, args.dataset, args.budget, args.init, ",".join(space.names), args.output_dir)
    outcome = search.run(evaluator, overhead_meter=make_overhead_meter(args.output_dir),
                         progress=not args.no_progress)
    _print_summary(outcome, objective, args.validation_size > 0, energy,
                   args.predictions if energy == "train+infer" else None, args.output_dir)
    if outcome.interrupted:
        again = argv if "--resume" in argv else [*argv, "--resume"]
        print(f"interrupted; continue with: {PROG} {shlex.join(again)}")
        return 128 + (outcome.signum or 2)  # 130 for Ctrl-C, 143 for SIGTERM, as train.py
    print(args.output_dir)
    return 0


def _check_dataset(dataset: str, target: str | None, seed: int, n_samples: int = 1000, n_features: int = 20,
                   validation_size: float = 0.0) -> None:
    """Fail before the first run, and before anything is written, when the data set cannot be read or
    its training split cannot give the validation part (``UserInputError`` -> exit 2)."""
    from mlel.experiments.datasets import hold_out_validation, load_dataset

    # load_dataset names the user's mistakes (UserInputError); anything else is a bug and keeps its traceback
    data = load_dataset(dataset, seed=seed, target=target, n_samples=n_samples, n_features=n_features)
    if validation_size:
        hold_out_validation(data, validation_size, seed)


OBJECTIVE_WORDS = {"train": "training", "infer": "per prediction"}


def _print_summary(outcome, objective: str = "accuracy", validation: bool = False, energy: str = "train",
                   predictions: int | None = None, output_dir=None) -> None:
    """What the search found, each figure saying what it is (the energy and time the search optimised)."""
    chosen = f"{'validation ' if validation else ''}{objective}"
    unit = f"{chosen} x decades of energy"
    hv = outcome.hypervolumes[-1] if outcome.hypervolumes else None
    e = outcome.search_energy
    n = len(outcome.records)
    evaluations = f"{n} evaluation{'' if n == 1 else 's'}"
    print(f"{evaluations}, {len(outcome.front)} on the Pareto front, hypervolume {hv:.4g} ({unit})"
          if hv is not None else evaluations)
    test_hv = outcome.test_hypervolumes[-1] if outcome.test_hypervolumes else None
    if test_hv is not None:
        print(f"chosen on the validation part; on the test split: hypervolume {test_hv:.4g}")
    what = OBJECTIVE_WORDS.get(energy) or (f"training + {predictions:,} predictions" if predictions else energy)
    if outcome.front:
        print(f"Pareto front ({chosen}; energy and time: {what}):")
    for p in outcome.front:
        test = f" (test {p['test_utility']:.4f})" if p.get("test_utility") is not None else ""
        print(f"  {p['model']:<20} {objective} {p['utility']:.4f}{test}  "
              f"energy {format_energy_j(p['energy_j'])}  "
              f"time {format_time_s(p['time_s'])}  ({p['provenance']})")
    opt = format_energy_j(e["optimiser_j"]) if e["optimiser_j"] is not None else "not measured"
    print(f"energy spent by the search: {format_energy_j(e['total_j'])} (evaluations {format_energy_j(e['evaluations_j'])}, "
          f"optimiser {opt} in {format_time_s(e['optimiser_time_s'])}; {e['provenance']})")
    if output_dir is not None:
        print(f"front.json, front.png, hypervolume.png and every evaluation are in {output_dir}")
