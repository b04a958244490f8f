"""Rated rows for the label tests: hand-built (every field known) and real (MLEE logs, our merged format)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

A100_TF = "A100-SXM4-40GB x8 - TensorFlow 2.8.0"


def rated_row(**overrides) -> dict:
    """One inference row as mlel.ratings.rate_results returns it, with hand-picked values."""
    row = {
        "run_id": "infer_resnet101_1",
        "task": "infer",
        "model": "ResNet101",
        "dataset": "imagenet",
        "environment": A100_TF,
        "energy_per_sample_j": 0.0123,
        "energy_j": 615.0,  # the whole measured run: 50,000 samples
        "time_per_sample_s": 0.00042,
        "accuracy": 0.7712,
        "parameters": 44.6e6,
        "model_size_bytes": 171e6,
        "co2eq_g": 12.4,
        "date": "2022-03-03T17:16:59",
        "energy_provenance": "sampled power",
        "energy_provenance_text": "measured (sampled power): GPU (NVML) + CPU (RAPL)",
        "energy_is_estimate": False,
        "energy_per_sample_j_rating": 1,
        "time_per_sample_s_rating": 2,
        "accuracy_rating": 0,
        "parameters_rating": 3,
        "model_size_bytes_rating": 4,
        "compound_rating": 1,
        "compound_rating_letter": "B",
        "reference_model": "ResNet50",
    }
    row.update(overrides)
    return row


def estimated_training_row(**overrides) -> dict:
    row = rated_row(
        task="train", model="RandomForest", dataset="iris", environment="Intel Xeon (2 threads) - scikit-learn 1.9.1",
        energy_j=123.4, time_s=3.2, energy_j_rating=2, time_s_rating=4, compound_rating=3, compound_rating_letter="D",
        energy_is_estimate=True, energy_provenance="estimate",
        energy_provenance_text="estimated: CPU (CodeCarbon TDP x load) + RAM (CodeCarbon RAM model)",
    )
    for key in ("energy_per_sample_j", "time_per_sample_s", "energy_per_sample_j_rating", "time_per_sample_s_rating"):
        row.pop(key)
    row.update(overrides)
    return row


def merged_record(model: str, accuracy: float, energy_j: float, *, task: str = "infer", estimate: bool = True,
                  started: str = "2026-11-25T10:00:00") -> dict:
    """A merged mlel results record (schema mlel.results/1) with the fields the table reads."""
    measured = 1000
    meters = (
        [{"meter": "estimate:cpu", "component": "cpu", "energy_j": energy_j * 0.8, "provenance": "estimate",
          "samples": 6, "method": "CodeCarbon TDP x load", "idle_power_w": None, "net_energy_j": None},
         {"meter": "estimate:ram", "component": "ram", "energy_j": energy_j * 0.2, "provenance": "estimate",
          "samples": 6, "method": "CodeCarbon RAM model", "idle_power_w": None, "net_energy_j": None}]
        if estimate else
        [{"meter": "rapl:package-0", "component": "cpu", "energy_j": energy_j, "provenance": "hardware counter",
          "samples": 6, "method": "RAPL", "idle_power_w": None, "net_energy_j": None}]
    )
    text = ("estimated: CPU (CodeCarbon TDP x load) + RAM (CodeCarbon RAM model)" if estimate
            else "measured (hardware counter): CPU (RAPL)")
    return {
        "schema_version": "mlel.results/1",
        "run_id": f"{task}_{model}_iris_sklearn_20261125-100000-000000",
        "config": {"schema": "mlel.experiment/1", "task": task, "model": model, "backend": "sklearn",
                   "device": "cpu", "dataset": "iris", "params": {}, "seed": 0, "threads": 2,
                   "monitor_interval_s": 0.5, "baseline_s": 0, "country": "DEU", "argv": [], "started": started,
                   "batch_size": 30},
        "platform": {"hostname": "box", "os": "Linux", "python": "3.11", "cpu_model": "Intel Xeon Platinum 8375C",
                     "cpu_cores_physical": 1, "cpu_cores_logical": 2, "memory_bytes": 8e9, "gpus": [],
                     "packages": {"scikit-learn": "1.9.1"}},
        "results": {
            "metrics": {"accuracy": accuracy},
            "model": {"parameters": 1000 + 100 * len(model), "size_bytes": 20000 + 1000 * len(model)},
            "durations_s": {"total": 3.0, "measured": 2.5},
            "n_samples": {"train": 120, "test": 30, "measured": measured},
            "per_sample": {"energy_j": energy_j / measured, "time_s": 2.5 / measured} if task == "infer" else None,
            "energy": {"total_j": energy_j, "net_total_j": None, "provenance": "estimate" if estimate else "hardware counter",
                       "provenance_text": text, "meters": meters},
            "carbon": {"co2eq_g": energy_j / 3.6e6 * 380, "intensity_g_per_kwh": 380.0, "country": "DEU",
                       "source": "CodeCarbon offline data"},
        },
    }


@pytest.fixture
def our_results(tmp_path) -> Path:
    """A results/ folder with four of our (estimated) inference runs in one environment."""
    folder = tmp_path / "results"
    folder.mkdir()
    for model, accuracy, energy in (("LogisticRegression", 0.93, 2.0), ("RandomForest", 0.96, 9.0),
                                    ("MLP", 0.97, 30.0), ("KNN", 0.9, 5.0)):
        record = merged_record(model, accuracy, energy)
        (folder / f"{record['run_id']}.json").write_text(json.dumps(record))
    return folder
