"""Reader for the original MLEE / ELEx merged logs (ImageNet, 2022): one log -> one results-table row.

Published MLEE method, kept here: inference energy per sample = (NVML total + RAPL total) / 50,000
validation images, time per sample likewise, accuracy = top-1. MLEE's monitors sampled power and
integrated it, so every energy figure is ``Provenance.SAMPLED``.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from mlel.errors import SchemaError
from mlel.measurement.provenance import Provenance
from mlel.measurement.records import MeterEnergy, provenance_text
from mlel.results import naming

IMAGENET_VALIDATION_IMAGES = 50_000
IMAGENET_TRAIN_IMAGES = 1_281_167
DATASET = "imagenet"
# MLEE monitor block -> (component, method) of the energy it reports
_POWER_MONITORS = {"monitoring_pynvml": ("gpu", "NVML"), "monitoring_pyrapl": ("cpu", "RAPL")}


def is_mlee_log(record: object) -> bool:
    return isinstance(record, dict) and "execution_platform" in record and "config" in record and "requirements" in record


def mlee_row(log: dict, path: str | Path) -> dict:
    """The results-table row of one MLEE log (columns: ``mlel.results.table.COLUMNS``)."""
    try:
        return _row(log, Path(path))
    except (KeyError, TypeError, ValueError, ZeroDivisionError) as exc:
        raise SchemaError(f"{path}: not a readable MLEE log ({type(exc).__name__}: {exc})") from exc


def _row(log: dict, path: Path) -> dict:
    config = log["config"]
    platform = log["execution_platform"]
    is_infer = "validation" in log and log["validation"] is not None
    phase = log["validation"] if is_infer else log
    results = phase["results"]

    gpus = platform.get("GPU") or {}
    if gpus:
        hardware = naming.gpu_hardware_name(g["Name"] for g in gpus.values())
    else:
        hardware = naming.cpu_hardware_name(platform.get("Processor"))
    backend = config["backend"]
    version = naming.backend_version(backend, naming.packages_from_requirements(log.get("requirements", ())))

    meters = []
    energy_j = 0.0
    for key, (component, method) in _POWER_MONITORS.items():
        block = phase.get(key)
        if not block:
            continue
        total = float(block["total"]["total_power_draw"])  # watt-seconds = joules
        energy_j += total
        meters.append(MeterEnergy(meter=method.lower(), component=component, energy_j=total,
                                  provenance=Provenance.SAMPLED, samples=int(block["total"].get("nr_measurements", 0)),
                                  method=method))
    if not meters:
        energy_j = float("nan")
    time_s = float(phase["duration"])

    model_info = results.get("model") or {}
    if is_infer:
        metrics = results["metrics"]
        accuracy = metrics.get("accuracy")
        top5 = metrics.get("top_5_accuracy")
        per_sample_energy = energy_j / IMAGENET_VALIDATION_IMAGES
        per_sample_time = time_s / IMAGENET_VALIDATION_IMAGES
        n_train = float("nan")
    else:
        # the trained model's own validation accuracy after its last epoch (MLEE's labels showed the
        # pre-trained model's inference accuracy instead; see docs/mlee-ratings.md)
        history = results.get("history") or {}
        accuracy = (history.get("val_accuracy") or [None])[-1]
        top5 = (history.get("val_top_5_accuracy") or [None])[-1]
        per_sample_energy = per_sample_time = float("nan")
        n_train = IMAGENET_TRAIN_IMAGES

    return {
        "run_id": log.get("directory_name") or path.stem,
        "source": "mlee",
        "path": str(path),
        "task": "infer" if is_infer else "train",
        "model": config["model"],
        "dataset": DATASET,
        "backend": backend,
        "device": "cuda" if gpus else "cpu",
        "threads": float("nan"),
        "batch_size": _num(config.get("batch_size")),
        "hardware": hardware,
        "environment": naming.environment_name(hardware, backend, version),
        "accuracy": _num(accuracy),
        "balanced_accuracy": float("nan"),
        "f1_weighted": float("nan"),
        "precision_weighted": float("nan"),
        "recall_weighted": float("nan"),
        "energy_j": energy_j,
        "net_energy_j": float("nan"),
        "time_s": time_s,
        "energy_per_sample_j": per_sample_energy,
        "time_per_sample_s": per_sample_time,
        "power_mean_w": energy_j / time_s if time_s > 0 else float("nan"),
        "parameters": _num(model_info.get("params")),
        "model_size_bytes": _num(model_info.get("fsize")),
        "n_train_samples": float(n_train),
        "co2eq_g": float("nan"),
        "energy_provenance": Provenance.SAMPLED.value if meters else Provenance.ESTIMATE.value,
        "energy_provenance_text": provenance_text(meters),
        "energy_is_estimate": not meters,
        "date": _date(config.get("timestamp")),
        "search_id": "",
        # additions (docs/architecture.md, section 3)
        "top5_accuracy": _num(top5),
        "flops": _num(model_info.get("flops")),
        "n_test_samples": float(IMAGENET_VALIDATION_IMAGES) if is_infer else float("nan"),
        "country": "",
        "host": platform.get("Node Name", ""),
    }


def _num(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def _date(timestamp: str | None) -> str:
    if not timestamp:
        return ""
    try:
        return datetime.strptime(timestamp, "%Y_%m_%d_%H_%M_%S").isoformat()
    except ValueError:
        return str(timestamp)
