"""Run the experiment grid behind the shipped dashboard, then merge it into results/.

    python scripts/run_grid.py [--output-dir runs/grid] [--results-dir results] [--repeats 3]
                               [--phases train,infer,scaling,threads] [--quick]

Every run goes through the same code as ``train.py`` / ``infer.py`` (in one process, to skip
Python's start-up per run). The grid is resumable: a run whose complete folder already exists
(matched by its ``grid_key`` in config.json) is not repeated. The exact grid is in ``plan()``;
docs/results.md gives the commands and the hardware the shipped results came from.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

log = logging.getLogger("run_grid")

BUNDLED = ("iris", "wine", "breast_cancer", "digits")
SKLEARN_MODELS = ("logistic_regression", "random_forest", "svm", "knn", "naive_bayes", "gradient_boosting", "mlp")
TORCH_MODELS = ("logistic_regression", "mlp", "cnn")
SCALING_SIZES = (1_000, 3_000, 10_000, 30_000, 100_000)
# Largest synthetic training set each model is affordable at on a 2-core machine (fit time grows
# super-linearly for kernels and boosting).
SCALING_CAP = {
    ("sklearn", "svm"): 30_000,
    ("sklearn", "gradient_boosting"): 30_000,
    ("sklearn", "mlp"): 30_000,
    ("sklearn", "random_forest"): 100_000,
    ("torch", "mlp"): 100_000,
}
# Torch models train for as many passes as scikit-learn's MLP (max_iter=200), the CNN for 20 (it
# converges on digits by then). The linear model gets Adam at 1e-2: at 1e-3, 200 full-batch steps
# leave it far from converged on the small tables (iris: 112 training rows, one batch per epoch).
TORCH_EPOCHS = {"cnn": 20}
TORCH_DEFAULT_EPOCHS = 200
TORCH_PARAMS = {"logistic_regression": {"learning_rate_init": 0.01}}
PHASES = ("train", "infer", "scaling", "threads")
MONITOR_INTERVAL_S = 0.1
INFER_MIN_DURATION_S = 1.0


@dataclass
class Job:
    key: str
    phase: str
    train: dict | None = None  # TrainConfig kwargs
    infer_of: str | None = None  # grid_key of the training run to infer with
    infer: dict = field(default_factory=dict)


def _torch_ok(model: str, dataset: str) -> bool:
    return model != "cnn" or dataset == "digits"


def _torch_settings(cfg: dict) -> str:
    """Fill in the torch training schedule; returns the grid-key suffix that names it."""
    epochs = TORCH_EPOCHS.get(cfg["model"], TORCH_DEFAULT_EPOCHS)
    cfg["epochs"] = epochs
    params = TORCH_PARAMS.get(cfg["model"], {})
    if params:
        cfg["params"] = dict(params)
    return f"/e{epochs}" + "".join(f"/{k}={v}" for k, v in params.items())


def plan(repeats: int, phases: set[str], quick: bool) -> list[Job]:
    jobs: list[Job] = []
    datasets = BUNDLED[:1] if quick else BUNDLED
    reps = 1 if quick else repeats
    main_train: list[Job] = []
    for dataset in datasets:
        for seed in range(reps):
            for backend, models in (("sklearn", SKLEARN_MODELS), ("torch", TORCH_MODELS)):
                for model in models:
                    if backend == "torch" and not _torch_ok(model, dataset):
                        continue
                    cfg = {"model": model, "dataset": dataset, "backend": backend, "seed": seed}
                    suffix = _torch_settings(cfg) if backend == "torch" else ""
                    main_train.append(Job(f"train/{backend}/{model}/{dataset}/s{seed}{suffix}", "train", train=cfg))
    if "train" in phases or "infer" in phases:
        jobs += main_train
    if "infer" in phases:
        for tj in main_train:
            backend = tj.train["backend"]
            for infer_backend in (backend, "onnx"):
                jobs.append(Job(f"infer/{infer_backend}/{tj.key}", "infer", infer_of=tj.key,
                                infer={"backend": infer_backend, "min_duration_s": INFER_MIN_DURATION_S}))
    if "scaling" in phases:
        sizes = SCALING_SIZES[:2] if quick else SCALING_SIZES
        for backend, models in (("sklearn", SKLEARN_MODELS), ("torch", TORCH_MODELS[:2])):
            for model in models:
                cap = SCALING_CAP.get((backend, model), 100_000)
                for n in sizes:
                    if n > cap:
                        continue
                    cfg = {"model": model, "dataset": "synthetic", "backend": backend, "seed": 0,
                           "n_samples": n, "n_features": 20}
                    if backend == "torch":
                        cfg["epochs"] = 10
                    jobs.append(Job(f"scaling/{backend}/{model}/n{n}", "scaling", train=cfg))
    if "threads" in phases:
        # the main grid ran at all (2) threads; the same models on one thread, trained and inferred
        dataset = "digits"
        for backend, models in (("sklearn", SKLEARN_MODELS), ("torch", TORCH_MODELS)):
            for model in models:
                cfg = {"model": model, "dataset": dataset, "backend": backend, "seed": 0, "threads": 1}
                suffix = _torch_settings(cfg) if backend == "torch" else ""
                key = f"threads1/{backend}/{model}/{dataset}{suffix}"
                jobs.append(Job(key, "threads", train=cfg))
                jobs.append(Job(f"infer/{backend}/{key}", "threads", infer_of=key,
                                infer={"backend": backend, "threads": 1, "min_duration_s": INFER_MIN_DURATION_S}))
    return jobs


def _existing(output_dir: Path) -> dict[str, Path]:
    """grid_key -> complete experiment folder already in output_dir."""
    found = {}
    for folder in output_dir.glob("*/"):
        if not (folder / "COMPLETE").exists():
            continue
        try:
            cfg = json.loads((folder / "config.json").read_text())
        except (OSError, ValueError):
            continue
        key = cfg.get("grid_key")
        if key:
            found[key] = folder
    return found


def main(argv=None) -> int:
    from mlel.cli import ArgumentParser, folder_path, setup_logging

    parser = ArgumentParser(prog="run_grid.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--output-dir", type=folder_path,
                        help="experiment folders (default: runs/grid; with --quick, runs/grid-quick)")
    parser.add_argument("--results-dir", type=folder_path,
                        help="where the merge goes (default: results/, the shipped runs; with --quick, "
                             "runs/grid-quick-results, so a smoke test never joins them)")
    parser.add_argument("--repeats", type=int, default=3, help="seeds per model and data set (default: 3; --quick: 1)")
    parser.add_argument("--phases", default=",".join(PHASES), help=f"comma-separated, of {', '.join(PHASES)} (default: all)")
    parser.add_argument("--quick", action="store_true", help="one data set, one repeat, two sizes: a smoke test")
    parser.add_argument("--no-merge", action="store_true", help="run only; do not merge into --results-dir")
    args = parser.parse_args(argv)
    phases = {p.strip() for p in args.phases.split(",") if p.strip()}
    if not phases or phases - set(PHASES):
        parser.error(f"--phases must name some of {', '.join(PHASES)}; got {args.phases!r}")
    if args.repeats < 1:
        parser.error(f"--repeats must be at least 1; got {args.repeats}")
    if args.output_dir is None:
        args.output_dir = ROOT / "runs" / ("grid-quick" if args.quick else "grid")
    if args.results_dir is None:
        args.results_dir = ROOT / "runs" / "grid-quick-results" if args.quick else ROOT / "results"
    setup_logging()
    logging.getLogger("mlel").setLevel(logging.WARNING)
    for handler in logging.getLogger().handlers:  # runs raise 'mlel' to INFO for their own log files
        handler.setLevel(logging.INFO)
        handler.addFilter(lambda record: record.levelno >= logging.WARNING or not record.name.startswith("mlel"))

    from tqdm import tqdm

    from mlel.experiments.infer import InferConfig, run_inference
    from mlel.experiments.train import TrainConfig, run_training

    jobs = plan(args.repeats, phases, args.quick)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    done = _existing(args.output_dir)
    todo = [j for j in jobs if j.key not in done]
    log.info("grid: %d runs, %d already complete, %d to run into %s", len(jobs), len(jobs) - len(todo), len(todo), args.output_dir)
    failures = []
    started = time.monotonic()
    for job in tqdm(todo, desc="grid", unit="run"):
        extra = {"grid_key": job.key, "grid_phase": job.phase}
        try:
            if job.train is not None:
                cfg = TrainConfig(**job.train, monitor_interval_s=MONITOR_INTERVAL_S, output_dir=args.output_dir,
                                  extra_config=extra, progress=False)
                outcome = run_training(cfg)
            else:
                train_folder = done.get(job.infer_of)
                if train_folder is None:
                    raise RuntimeError(f"training run {job.infer_of} is missing")
                cfg = InferConfig(train_folder=train_folder, monitor_interval_s=MONITOR_INTERVAL_S,
                                  output_dir=args.output_dir, extra_config=extra, progress=False, **job.infer)
                outcome = run_inference(cfg)
            done[job.key] = outcome.folder
        except Exception as exc:  # keep going: one failed run must not lose the grid
            log.error("run %s failed: %s", job.key, exc)
            failures.append((job.key, str(exc)))
    log.info("grid finished in %.0f s; %d failed", time.monotonic() - started, len(failures))
    for key, why in failures:
        log.info("  failed: %s: %s", key, why)
    if not args.no_merge:
        from mlel.results.merge import merge_experiments
        from mlel.results.report import print_report

        report = merge_experiments([args.output_dir], args.results_dir)
        print_report(report, args.results_dir, None)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
