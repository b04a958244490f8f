"""Measured training: ``run_training(TrainConfig(...))`` trains one model while sampling power and
writes one experiment folder (docs/experiment-folder.md). ``train.py`` is its command line.

Only ``fit`` is inside the measurement window; data loading, cross-validation (its own window),
evaluation and saving are outside it, so the energy figure is the training's alone. With
``min_duration_s``, a fit shorter than that is repeated (fresh copies, same seed and data) inside
the same window until it has lasted that long, and the energy and time reported are one fit's
share: a millisecond fit measured once is mostly timing noise.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from mlel.errors import UserInputError
from mlel.experiments import common
from mlel.experiments.datasets import Dataset, HeldOutSplit, hold_out_validation, load_dataset
from mlel.experiments.folder import (CONFIG_FILE, CONFIG_SCHEMA, PLATFORM_FILE, RESULTS_FILE, SPLIT_FILE,
                                     ExperimentFolder, ExperimentOutcome, check_output_dir, now_iso)
from mlel.experiments.models import DataShape, Trainer, make_trainer
from mlel.experiments.registry import validate_backend, validate_dataset, validate_device, validate_model
from mlel.units import format_energy_j, format_mass_g, format_time_s

log = logging.getLogger(__name__)

__all__ = ["TrainConfig", "ExperimentOutcome", "run_training", "repeat_configs"]


@dataclass
class TrainConfig:
    """One training experiment. ``params`` are the model's hyperparameters (for scikit-learn,
    the estimator's constructor arguments; for torch see ``mlel.experiments.models.torch_models``)."""

    model: str
    dataset: str
    backend: str = "sklearn"
    device: str = "cpu"
    params: dict = field(default_factory=dict)
    seed: int = 0
    threads: int | None = None
    epochs: int | None = None
    batch_size: int | None = None
    monitor_interval_s: float = 0.5
    baseline_s: float = 0.0
    min_duration_s: float = 0.0  # repeat shorter fits in the window until it lasts this long (0: one fit)
    country: str | None = None
    output_dir: Path = Path("runs")
    target: str | None = None
    n_samples: int = 1000
    n_features: int = 20
    test_size: float = 0.25
    validation_size: float = 0.0  # fraction of the training split held out and scored separately (0: none)
    cv_folds: int | None = None
    extra_config: dict = field(default_factory=dict)
    progress: bool = True


def repeat_configs(cfg: TrainConfig, repeat: int) -> list[TrainConfig]:
    """``--repeat N``: N runs with seeds ``seed, seed+1, ...`` (split and model change), each in
    its own folder, tagged so that the table can group them."""
    if isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 1:
        raise UserInputError(f"The 'repeat' parameter must be an integer >= 1; got {repeat!r}")
    if repeat > 1:
        common.validate_seed(cfg.seed + repeat - 1)  # the last run's seed, before the first run starts
    if repeat == 1:
        return [cfg]
    return [
        dataclasses.replace(cfg, seed=cfg.seed + i,
                            extra_config={**cfg.extra_config, "repeat": {"index": i, "of": repeat, "base_seed": cfg.seed}})
        for i in range(repeat)
    ]


def _validate(cfg: TrainConfig) -> None:
    validate_backend(cfg.backend)
    validate_device(cfg.device)
    validate_model(cfg.model, cfg.backend)
    validate_dataset(cfg.dataset)
    common.validate_threads(cfg.threads)
    common.validate_seed(cfg.seed)
    interval = common.validate_positive("monitor_interval_s", cfg.monitor_interval_s)
    if interval > 3600:
        raise UserInputError(f"The 'monitor_interval_s' parameter must be at most 3600 s; got {interval!r}")
    common.validate_positive("baseline_s", cfg.baseline_s, allow_zero=True)
    common.validate_positive("min_duration_s", cfg.min_duration_s, allow_zero=True)
    if cfg.cv_folds is not None and (isinstance(cfg.cv_folds, bool) or not isinstance(cfg.cv_folds, int) or cfg.cv_folds < 2):
        raise UserInputError(f"The 'cv_folds' parameter must be an integer >= 2; got {cfg.cv_folds!r}")
    if not isinstance(cfg.params, dict):
        raise UserInputError(f"The 'params' parameter must be a dict; got {type(cfg.params).__name__}")


def run_training(cfg: TrainConfig) -> ExperimentOutcome:
    """Train one model while measuring its energy; returns the folder and its results."""
    from mlel.measurement import Sampler, discover_meters

    started_s = time.perf_counter()
    _validate(cfg)
    country = common.validate_country(cfg.country)
    check_output_dir(cfg.output_dir)
    data = load_dataset(cfg.dataset, seed=cfg.seed, test_size=cfg.test_size, n_samples=cfg.n_samples,
                        n_features=cfg.n_features, target=cfg.target)
    holdout = hold_out_validation(data, cfg.validation_size, cfg.seed) if cfg.validation_size else None
    if holdout:
        data = holdout[0]
    trainer = make_trainer(cfg.model, cfg.backend, shape=DataShape(data.n_features, data.n_classes, data.image_shape),
                           params=cfg.params, seed=cfg.seed, threads=cfg.threads, epochs=cfg.epochs,
                           batch_size=cfg.batch_size, device=cfg.device)
    if cfg.cv_folds:
        _check_folds(data, cfg.cv_folds)
    meters = discover_meters(device=cfg.device)
    progress = common.show_progress(cfg.progress)

    folder = ExperimentFolder.create(cfg.output_dir, "train", cfg.model, data.name, cfg.backend)
    with folder.guard():
        log.info("experiment folder: %s", folder.path)
        config = _config(cfg, data, trainer, country, meters)
        folder.write_json(CONFIG_FILE, config)
        from mlel.experiments.platform import collect_platform

        folder.write_json(PLATFORM_FILE, collect_platform())
        sync = trainer.synchronize()
        trainer.warm_up(data.X_train, data.y_train)  # one-time costs stay out of every window
        baseline = cv = None
        with common.limit_threads(cfg.threads, torch_used=cfg.backend == "torch") as on_this_thread, \
                Sampler(meters, interval_s=cfg.monitor_interval_s, log_dir=folder.power_dir) as sampler:
            if cfg.baseline_s:
                baseline = sampler.measure_baseline(cfg.baseline_s)
            if cfg.cv_folds:
                cv = _cross_validate(trainer, data, cfg, sampler, sync, progress, on_this_thread)
            with sampler.window(synchronize=sync) as window:
                fits = _fit(trainer, data, cfg.min_duration_s, progress, on_this_thread)
            eval_start = time.perf_counter()
            y_pred = trainer.predict(data.X_test)
            eval_s = time.perf_counter() - eval_start
        measurement = window.result.per_repeat(fits)
        metrics = common.classification_metrics(data.y_test, y_pred)
        validation = None
        if holdout:
            _, X_val, y_val = holdout
            validation = {"size": cfg.validation_size, "n_samples": int(len(y_val)),
                          "metrics": common.classification_metrics(y_val, trainer.predict(X_val))}
        stats = trainer.stats()
        trainer.save(folder.path)
        HeldOutSplit(data.X_test, data.y_test, data.classes, data.image_shape).save(folder.path / SPLIT_FILE)
        results = {
            "metrics": metrics,
            "model": {"parameters": stats.parameters, "size_bytes": stats.size_bytes},
            "durations_s": {"total": time.perf_counter() - started_s, "measured": measurement.duration_s,
                            "evaluate": eval_s},
            "n_samples": {"train": int(len(data.y_train)), "test": int(len(data.y_test)),
                          "measured": int(len(data.y_train)),
                          **({"validation": int(len(holdout[2]))} if holdout else {})},
            "per_sample": None,
            "fits": {"count": fits, "min_duration_s": cfg.min_duration_s, "window_s": window.result.duration_s,
                     "window_energy_j": window.result.total_energy_j},
            **common.measurement_records(measurement, baseline, country, cfg.monitor_interval_s, folder),
            "cross_validation": cv,
            "validation": validation,
        }
        folder.write_json(RESULTS_FILE, results)
        folder.mark_complete()
    summary = summary_line("train", config, results)
    log.info("%s", summary)
    return ExperimentOutcome(folder=folder.path, results=results, summary=summary, config=config)


def _fit(trainer: Trainer, data: Dataset, min_duration_s: float, progress: bool,
         on_this_thread=contextlib.nullcontext) -> int:
    """Fit ``trainer``, then fit fresh copies (same seed, same data) until ``min_duration_s`` has
    passed since the start; returns how many fits ran. ``trainer`` keeps the first fit."""
    start = time.perf_counter()
    common.run_interruptibly(lambda: trainer.fit(data.X_train, data.y_train, progress=progress), on_this_thread)
    fits = 1
    if time.perf_counter() - start < min_duration_s:
        models_log = logging.getLogger("mlel.experiments.models")  # the first fit said it all
        level = models_log.level
        models_log.setLevel(logging.ERROR)
        try:
            while time.perf_counter() - start < min_duration_s:
                trainer.fresh().fit(data.X_train, data.y_train)
                fits += 1
        finally:
            models_log.setLevel(level)
    if fits > 1:
        log.info("the fit took %s: repeated %d times in one window of at least %g s; reporting one fit's share",
                 format_time_s((time.perf_counter() - start) / fits), fits, min_duration_s)
    return fits


def _config(cfg: TrainConfig, data: Dataset, trainer: Trainer, country: str | None, meters) -> dict:
    from mlel.measurement.carbon import default_country

    params = trainer.params
    config = {
        "schema": CONFIG_SCHEMA,
        "task": "train",
        "model": cfg.model,
        "backend": cfg.backend,
        "device": cfg.device,
        "dataset": data.name,
        "params": params,
        "seed": cfg.seed,
        "threads": cfg.threads,
        "batch_size": params.get("batch_size") if isinstance(params.get("batch_size"), int) else None,
        "epochs": params.get("epochs", params.get("max_iter") if cfg.model == "mlp" else None),
        "monitor_interval_s": cfg.monitor_interval_s,
        "baseline_s": cfg.baseline_s,
        "min_duration_s": cfg.min_duration_s,
        "country": country or default_country(),
        "test_size": cfg.test_size,
        "validation_size": cfg.validation_size,
        "cv_folds": cfg.cv_folds,
        "dataset_info": data.info,
        "meters": [m.name for m in meters],
        "argv": list(sys.argv),
        "started": now_iso(),
    }
    if cfg.dataset == "synthetic":
        config["dataset_info"] = {**data.info, "n_samples": cfg.n_samples, "n_features": cfg.n_features}
    config.update(cfg.extra_config)
    return config


def _check_folds(data: Dataset, folds: int) -> None:
    import numpy as np

    smallest = int(np.bincount(data.y_train).min())
    if smallest < folds:
        raise UserInputError(f"--cv-folds {folds} needs at least {folds} training samples per class; "
                             f"the smallest class has {smallest}")


def _cross_validate(trainer: Trainer, data: Dataset, cfg: TrainConfig, sampler, sync, progress: bool,
                    on_this_thread=contextlib.nullcontext) -> dict:
    """k-fold cross-validation on the training split, measured in a window of its own."""
    import numpy as np
    from sklearn.model_selection import StratifiedKFold
    from tqdm.auto import tqdm

    folds = StratifiedKFold(n_splits=cfg.cv_folds, shuffle=True, random_state=cfg.seed)
    scores: dict[str, list[float]] = {name: [] for name in common.METRIC_NAMES}
    with sampler.window(synchronize=sync) as window:
        for train_idx, val_idx in tqdm(list(folds.split(data.X_train, data.y_train)), desc="cross-validation",
                                       unit="fold", disable=not progress, leave=False):
            fold_trainer = trainer.fresh()
            common.run_interruptibly(lambda: fold_trainer.fit(data.X_train[train_idx], data.y_train[train_idx]),
                                     on_this_thread)
            fold_metrics = common.classification_metrics(data.y_train[val_idx], fold_trainer.predict(data.X_train[val_idx]))
            for name, value in fold_metrics.items():
                scores[name].append(value)
    record: dict = {"folds": cfg.cv_folds, "scores": scores}
    for name, values in scores.items():
        record[f"{name}_mean"] = float(np.mean(values))
        record[f"{name}_std"] = float(np.std(values))
    record["duration_s"] = window.result.duration_s
    record["energy"] = common.energy_record(window.result)
    return record


def summary_line(task: str, config: dict, results: dict) -> str:
    """One line: what ran, accuracy, time, energy and how the energy was obtained."""
    energy = results["energy"]
    parts = [f"{task} {config['model']} ({config['backend']}, {config['device']}) on {config['dataset']}:",
             f"accuracy {results['metrics']['accuracy']:.3f},",
             f"{format_time_s(results['durations_s']['measured'])},",
             f"{format_energy_j(energy['total_j'])}"]
    fits = (results.get("fits") or {}).get("count", 1)
    if fits > 1:
        parts[-1] += ","
        parts.append(f"per fit (mean of {fits} fits in {format_time_s(results['fits']['window_s'])})")
    if results.get("per_sample"):
        per = results["per_sample"]
        parts.append(f"({format_energy_j(per['energy_j'])}, {format_time_s(per['time_s'])} per sample,"
                     f" {results['n_samples']['measured']} predictions)")
    if energy.get("net_total_j") is not None:
        parts.append(f"(net of idle power: {format_energy_j(energy['net_total_j'])})")
    parts.append(f"[{energy['provenance_text']}],")
    parts.append(f"{format_mass_g(results['carbon']['co2eq_g'])} CO2eq ({results['carbon']['country']})")
    return " ".join(parts)
