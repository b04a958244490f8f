"""Command lines of ``train.py`` and ``infer.py``: parse arguments, call the package, print a
one-line summary and, as the last line of standard output, the experiment folder."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Sequence

from mlel.cli import ArgumentParser, folder_path, setup_logging
from mlel.experiments.folder import RunInterrupted, signals_interrupt



def _add_measurement_args(parser: ArgumentParser) -> None:
    g = parser.add_argument_group("measurement")
    g.add_argument("--device", default="cpu", help="cpu or cuda (default: cpu)")
    g.add_argument("--threads", type=int, help="limit CPU threads (torch, BLAS/OpenMP, n_jobs, ONNX Runtime)")
    g.add_argument("--monitor-interval", type=float, default=0.5, metavar="SECONDS",
                   help="power sampling interval (default: 0.5)")
    g.add_argument("--baseline-s", type=float, default=0.0, metavar="SECONDS",
                   help="measure idle power first and report net energy beside gross (default: 0, off)")
    g.add_argument("--country", help="ISO 3166 alpha-3 code for the grid's carbon intensity (default: CodeCarbon's)")
    g.add_argument("--seed", type=int, default=0, help="seed of the split, the model and any sampling (default: 0)")
    g.add_argument("--output-dir", type=folder_path, default=Path("runs"), help="where the experiment folder goes (default: runs)")
    g.add_argument("--no-progress", action="store_true", help="no progress bars")
    g.add_argument("-v", "--verbose", action="store_true", help="debug logging")


def train_parser() -> ArgumentParser:
    p = ArgumentParser(prog="train.py", description="Train one model while measuring its energy; writes an experiment folder.")
    p.add_argument("--list", action="store_true", help="list models, data sets, backends and devices, then exit")
    p.add_argument("--model", help="model name (see --list)")
    p.add_argument("--dataset", help="iris, wine, breast_cancer, digits, synthetic, or csv:PATH")
    p.add_argument("--backend", default="sklearn", help="sklearn or torch (default: sklearn)")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="hyperparameter, repeatable: --param n_estimators=200 --param hidden_layer_sizes=100,50")
    p.add_argument("--epochs", type=int, help="training epochs (torch models, sklearn mlp)")
    p.add_argument("--batch-size", type=int, help="training batch size (torch models, sklearn mlp)")
    p.add_argument("--cv-folds", type=int, help="k-fold cross-validation on the training split, measured separately")
    p.add_argument("--repeat", type=int, default=1, help="run N times with seeds seed..seed+N-1, one folder each")
    p.add_argument("--min-duration-s", type=float, default=0.0, metavar="SECONDS",
                   help="repeat a fit shorter than this in one measurement window and report one fit's share "
                        "(energy and time); millisecond fits measured once are mostly timing noise (default: 0, one fit)")
    d = p.add_argument_group("data")
    d.add_argument("--target", help="csv target column, by name or by number counting from 0 (default: the last column)")
    d.add_argument("--n-samples", type=int, help="synthetic only: rows (default: 1000)")
    d.add_argument("--n-features", type=int, help="synthetic only: features (default: 20)")
    d.add_argument("--test-size", type=float, default=0.25, help="held-out fraction (default: 0.25)")
    _add_measurement_args(p)
    return p


def infer_parser() -> ArgumentParser:
    p = ArgumentParser(prog="infer.py", description="Measure inference of a trained model on its held-out split.")
    p.add_argument("--model", required=True, type=Path, metavar="TRAIN_FOLDER",
                   help="a complete training experiment folder (from train.py)")
    p.add_argument("--backend", help="sklearn, torch or onnx (default: the training backend)")
    p.add_argument("--batch-size", type=int, help="samples per predict call (default: the whole test split)")
    p.add_argument("--min-duration-s", type=float, default=2.0,
                   help="repeat passes over the test split until this long (default: 2.0)")
    _add_measurement_args(p)
    return p


def _finish(outcomes) -> int:
    for outcome in outcomes:
        print(outcome.summary)
    for outcome in outcomes:
        print(outcome.folder)
    return 0


def _interrupted(exc: RunInterrupted, prog: str) -> int:
    where = f"; incomplete experiment folder: {exc.folder}" if exc.folder else ""
    print(f"{prog}: {exc}{where}", file=sys.stderr)
    if exc.folder:
        print(exc.folder)
    return 128 + int(exc.signum)


def train_main(argv: Sequence[str] | None = None) -> int:
    from mlel.experiments.params import parse_params
    from mlel.experiments.registry import listing

    args = train_parser().parse_args(argv)
    if args.list:
        print(listing())
        return 0
    if not args.model or not args.dataset:
        train_parser().error("--model and --dataset are required (or --list)")
    from mlel.experiments.datasets import synthetic_size

    n_samples, n_features = synthetic_size(args.dataset, args.n_samples, args.n_features)
    setup_logging(args.verbose)
    from mlel.experiments.train import TrainConfig, repeat_configs, run_training

    cfg = TrainConfig(
        model=args.model, dataset=args.dataset, backend=args.backend, device=args.device,
        params=parse_params(args.param), seed=args.seed, threads=args.threads, epochs=args.epochs,
        batch_size=args.batch_size, monitor_interval_s=args.monitor_interval, baseline_s=args.baseline_s,
        min_duration_s=args.min_duration_s, country=args.country, output_dir=args.output_dir, target=args.target,
        n_samples=n_samples, n_features=n_features, test_size=args.test_size, cv_folds=args.cv_folds, progress=not args.no_progress,
    )
    outcomes = []
    try:
        with signals_interrupt():  # between two of --repeat's runs too
            for run_cfg in repeat_configs(cfg, args.repeat):
                outcomes.append(run_training(run_cfg))
    except RunInterrupted as exc:
        _finish(outcomes)  # the runs that finished are complete: say so first
        return _interrupted(exc, "train.py")
    return _finish(outcomes)


def infer_main(argv: Sequence[str] | None = None) -> int:
    args = infer_parser().parse_args(argv)
    setup_logging(args.verbose)
    from mlel.experiments.infer import InferConfig, run_inference

    cfg = InferConfig(
        train_folder=args.model, backend=args.backend, device=args.device, batch_size=args.batch_size,
        min_duration_s=args.min_duration_s, threads=args.threads, seed=args.seed,
        monitor_interval_s=args.monitor_interval, baseline_s=args.baseline_s, country=args.country,
        output_dir=args.output_dir, progress=not args.no_progress,
    )
    try:
        with signals_interrupt():
            outcome = run_inference(cfg)
        return _finish([outcome])
    except RunInterrupted as exc:
        return _interrupted(exc, "infer.py")
