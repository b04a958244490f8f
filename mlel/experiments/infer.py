"""Measured inference: ``run_inference(InferConfig(train_folder=...))`` loads a trained model and
its held-out split, then predicts the split in passes until ``min_duration_s`` has elapsed, all
inside one measurement window, and reports energy and time per sample. ``infer.py`` is its CLI.

Loading, ONNX conversion and one warm-up pass happen before the window; short windows measure
mostly noise, hence the minimum duration.
"""

from __future__ import annotations

import logging
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mlel.errors import UserInputError
from mlel.experiments import common
from mlel.experiments.datasets import HeldOutSplit
from mlel.experiments.folder import (CONFIG_FILE, CONFIG_SCHEMA, PLATFORM_FILE, RESULTS_FILE, SPLIT_FILE,
                                     ExperimentFolder, ExperimentOutcome, ExperimentRecord, check_output_dir,
                                     load_experiment, now_iso)
from mlel.experiments.registry import INFER_BACKENDS, ONNX, SKLEARN, TORCH, validate_backend, validate_device
from mlel.experiments.train import summary_line

log = logging.getLogger(__name__)

__all__ = ["InferConfig", "ExperimentOutcome", "run_inference", "compatible_backends"]


@dataclass
class InferConfig:
    """One inference experiment on the model in ``train_folder`` (a complete training folder)."""

    train_folder: Path
    backend: str | None = None          # default: the backend the model was trained with
    device: str = "cpu"
    batch_size: int | None = None       # default: the whole test split in one batch
    min_duration_s: float = 2.0
    threads: int | None = None
    seed: int = 0
    monitor_interval_s: float = 0.5
    baseline_s: float = 0.0
    country: str | None = None
    output_dir: Path = Path("runs")
    extra_config: dict = field(default_factory=dict)
    progress: bool = True


def compatible_backends(train_backend: str) -> tuple[str, ...]:
    """Inference backends that can run a model trained with ``train_backend``."""
    return (train_backend, ONNX)


class SklearnPredictor:
    def __init__(self, path: Path):
        from mlel.experiments.models.sklearn_models import load_sklearn_model

        self.estimator = load_sklearn_model(path)
        self.size_bytes = path.stat().st_size

    def prepare(self, X):
        return np.ascontiguousarray(X, dtype=np.float32)

    def predict(self, X_batch):
        return np.asarray(self.estimator.predict(X_batch), dtype=np.int64)


class TorchPredictor:
    def __init__(self, path: Path, device: str):
        from mlel.experiments.models.torch_models import load_torch_model, torch_device

        self.device = torch_device(device)
        self.network, self.arch = load_torch_model(path, device)
        self.size_bytes = path.stat().st_size

    def prepare(self, X):
        import torch

        return torch.as_tensor(np.ascontiguousarray(X, dtype=np.float32), device=self.device)

    def predict(self, X_batch):
        import torch

        with torch.inference_mode():
            return self.network(X_batch).argmax(dim=1).cpu().numpy().astype(np.int64, copy=False)

    def synchronize(self):
        if self.device.type == "cuda":
            import torch

            return torch.cuda.synchronize
        return None


def _load_predictor(record: ExperimentRecord, backend: str, device: str, threads: int | None, folder: ExperimentFolder,
                    n_features: int):
    train_backend = record.config["backend"]
    model_path = record.path / ("model.joblib" if train_backend == SKLEARN else "model.pt")
    if backend == SKLEARN:
        return SklearnPredictor(model_path)
    if backend == TORCH:
        return TorchPredictor(model_path, device)
    from mlel.experiments.onnx_backend import OnnxPredictor, sklearn_to_onnx, torch_to_onnx

    if train_backend == SKLEARN:
        model_bytes = sklearn_to_onnx(SklearnPredictor(model_path).estimator, n_features)
    else:
        model_bytes = torch_to_onnx(TorchPredictor(model_path, "cpu").network, n_features)
    OnnxPredictor.save(model_bytes, folder.path / "model.onnx")
    return OnnxPredictor(model_bytes, device=device, threads=threads)


def _validate(cfg: InferConfig, record: ExperimentRecord) -> str:
    train_backend = record.config.get("backend")
    backend = cfg.backend or train_backend
    validate_backend(backend, INFER_BACKENDS)
    allowed = compatible_backends(train_backend)
    if backend not in allowed:
        raise UserInputError(f"a model trained with {train_backend} runs on "
                             f"{' or '.join(map(repr, allowed))}; got --backend {backend!r}")
    validate_device(cfg.device)
    if backend == SKLEARN and cfg.device != "cpu":
        raise UserInputError(f"the sklearn backend runs on the CPU only; got --device {cfg.device!r}")
    if cfg.batch_size is not None and (isinstance(cfg.batch_size, bool) or not isinstance(cfg.batch_size, int)
                                       or cfg.batch_size < 1):
        raise UserInputError(f"The 'batch_size' parameter must be an integer >= 1; got {cfg.batch_size!r}")
    common.validate_positive("min_duration_s", cfg.min_duration_s, allow_zero=True)
    common.validate_positive("monitor_interval_s", cfg.monitor_interval_s)
    common.validate_positive("baseline_s", cfg.baseline_s, allow_zero=True)
    common.validate_threads(cfg.threads)
    common.validate_seed(cfg.seed)
    return backend


def run_inference(cfg: InferConfig) -> ExperimentOutcome:
    """Measure inference of a trained model; returns the new folder and its results."""
    from tqdm.auto import tqdm

    from mlel.measurement import Sampler, discover_meters

    started_s = time.perf_counter()
    record = load_experiment(Path(cfg.train_folder), task="train")
    backend = _validate(cfg, record)
    country = common.validate_country(cfg.country)
    check_output_dir(cfg.output_dir)
    split = HeldOutSplit.load(record.path / SPLIT_FILE)
    n_test = len(split.y_test)
    batch_size = min(cfg.batch_size or n_test, n_test)
    meters = discover_meters(device=cfg.device)
    progress = common.show_progress(cfg.progress)
    tc = record.config

    folder = ExperimentFolder.create(cfg.output_dir, "infer", tc["model"], tc["dataset"], backend)
    with folder.guard():
        log.info("experiment folder: %s", folder.path)
        from mlel.measurement.carbon import default_country

        config = {
            "schema": CONFIG_SCHEMA, "task": "infer", "model": tc["model"], "backend": backend,
            "device": cfg.device, "dataset": tc["dataset"], "params": tc.get("params", {}), "seed": cfg.seed,
            "threads": cfg.threads, "monitor_interval_s": cfg.monitor_interval_s, "baseline_s": cfg.baseline_s,
            "country": country or default_country(), "train_folder": str(record.path.resolve()),
            "train_backend": tc["backend"], "train_device": tc.get("device"), "batch_size": batch_size,
            "min_duration_s": cfg.min_duration_s, "dataset_info": tc.get("dataset_info"),
            "meters": [m.name for m in meters], "argv": list(sys.argv), "started": now_iso(),
        }
        config.update(cfg.extra_config)
        folder.write_json(CONFIG_FILE, config)
        from mlel.experiments.platform import collect_platform

        folder.write_json(PLATFORM_FILE, collect_platform())

        with common.limit_threads(cfg.threads, torch_used=TORCH in (backend, tc["backend"])):
            load_start = time.perf_counter()
            predictor = _load_predictor(record, backend, cfg.device, cfg.threads, folder, split.X_test.shape[1])
            X = predictor.prepare(split.X_test)
            batches = [X[start:start + batch_size] for start in range(0, n_test, batch_size)]
            load_s = time.perf_counter() - load_start
            sync = getattr(predictor, "synchronize", lambda: None)()

            def one_pass():
                return [predictor.predict(batch) for batch in batches]

            one_pass()  # warm-up: first calls allocate, compile and fill caches
            warm_start = time.perf_counter()
            one_pass()
            pass_s = max(time.perf_counter() - warm_start, 1e-9)
            expected = max(1, math.ceil(cfg.min_duration_s / pass_s))
            # Passes run in chunks of ~10 ms so that the clock and the progress bar cost nothing
            # measurable even when one pass takes microseconds.
            chunk = max(1, min(expected, int(0.01 / pass_s)))
            log.info("inference on %s: %d samples in batches of %d, about %d passes for %.3g s",
                     backend, n_test, batch_size, expected, cfg.min_duration_s)
            baseline = None
            with Sampler(meters, interval_s=cfg.monitor_interval_s, log_dir=folder.power_dir) as sampler:
                if cfg.baseline_s:
                    baseline = sampler.measure_baseline(cfg.baseline_s)
                bar = tqdm(total=expected, desc=f"infer {tc['model']} ({backend})", unit="pass", disable=not progress,
                           leave=False)
                passes = 0
                with sampler.window(synchronize=sync) as window:
                    window_start = time.perf_counter()
                    while True:
                        for _ in range(chunk):
                            predictions = one_pass()
                        passes += chunk
                        bar.update(chunk)
                        if time.perf_counter() - window_start >= cfg.min_duration_s:
                            break
                bar.close()
        measurement = window.result
        y_pred = np.concatenate(predictions)
        n_measured = passes * n_test
        train_model = record.results.get("model", {})
        results = {
            "metrics": common.classification_metrics(split.y_test, y_pred),
            "model": {"parameters": train_model.get("parameters"), "size_bytes": predictor.size_bytes},
            "durations_s": {"total": time.perf_counter() - started_s, "measured": measurement.duration_s,
                            "load": load_s, "pass": pass_s},
            "n_samples": {"train": record.results.get("n_samples", {}).get("train"), "test": n_test,
                          "measured": n_measured},
            "passes": passes,
            "per_sample": {"energy_j": measurement.total_energy_j / n_measured,
                           "net_energy_j": (measurement.total_net_energy_j / n_measured
                                            if measurement.total_net_energy_j is not None else None),
                           "time_s": measurement.duration_s / n_measured},
            **common.measurement_records(measurement, baseline, country, cfg.monitor_interval_s, folder),
        }
        folder.write_json(RESULTS_FILE, results)
        folder.mark_complete()
    summary = summary_line("infer", config, results)
    log.info("%s", summary)
    return ExperimentOutcome(folder=folder.path, results=results, summary=summary, config=config)
