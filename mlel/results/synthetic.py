"""Synthetic experiment folders in the format of docs/architecture.md, section 2, for the merge tests
and ``bench/merge_throughput.py``: complete ones, and damaged in the ways real runs break."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

from mlel.results.schema import EXPERIMENT_SCHEMA

DAMAGES = ("truncated_results", "missing_power_log", "missing_complete", "wrong_schema",
           "killed_mid_write", "unparsable_csv", "failed", "nan_metric", "bad_platform_value")
"""Ways a folder can be broken, each a reason merge must name."""

_START = datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def write_experiment_folder(root: str | Path, index: int = 0, task: str = "infer", model: str = "mlp",
                            backend: str = "sklearn", dataset: str = "iris", device: str = "cpu",
                            samples: int = 40, damage: str | None = None, seed: int | None = None) -> Path:
    """Write one experiment folder under ``root`` and return it. ``damage``: one of ``DAMAGES`` or None."""
    if damage is not None and damage not in DAMAGES:
        raise ValueError(f"damage must be one of {', '.join(DAMAGES)}; got {damage!r}")
    rng = np.random.default_rng(index if seed is None else seed)
    started = _START + timedelta(seconds=index)
    name = f"{task}_{model}_{dataset}_{backend}_{started.strftime('%Y%m%d-%H%M%S-%f')}"
    folder = Path(root) / name
    (folder / "power").mkdir(parents=True, exist_ok=False)

    def dump(file: str, obj) -> None:
        (folder / file).write_text(json.dumps(obj, indent=1))

    state = "failed" if damage == "failed" else "running" if damage in ("missing_complete", "killed_mid_write") else "complete"
    dump("status.json", {"state": state, "reason": "out of memory" if damage == "failed" else None,
                         "updated": started.isoformat()})
    config = {"schema": "mlel.experiment/99" if damage == "wrong_schema" else EXPERIMENT_SCHEMA,
              "task": task, "model": model, "backend": backend, "device": device, "dataset": dataset,
              "params": {"hidden": 100}, "seed": index,
              "threads": None if damage == "bad_platform_value" else 2,  # None: the machine's count is read
              "monitor_interval_s": 0.5, "baseline_s": 0, "country": "DEU", "argv": ["train.py"], "started": started.isoformat()}
    if task == "infer":
        config.update({"train_folder": f"runs/train_{model}", "batch_size": 32, "min_duration_s": 2.0})
    dump("config.json", config)
    dump("platform.json", {"hostname": "box", "os": "Linux", "python": "3.11.9",
                           "cpu_model": "Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz",
                           "cpu_cores_physical": 1, "cpu_cores_logical": "two" if damage == "bad_platform_value" else 2,
                           "memory_bytes": 8 << 30,
                           "gpus": [{"index": 0, "name": "NVIDIA A100-SXM4-40GB", "memory_bytes": 40 << 30,
                                     "uuid": "GPU-0"}] if device.startswith("cuda") else [],
                           "packages": {"scikit-learn": "1.9.1", "torch": "2.13.0", "onnxruntime": "1.32.0"}})

    # power logs: one estimate meter (CPU) with extras, sampled every 0.5 s
    elapsed = np.arange(samples) * 0.5
    power = 20 + 5 * rng.random(samples)
    energy = np.concatenate([[0.0], np.cumsum(power[1:] * 0.5)])
    lines = ["timestamp_s,elapsed_s,power_w,energy_j,cpu_load_pct"]
    lines += [f"{1.7e9 + t:.3f},{t:.3f},{p:.4f},{e:.4f},{rng.random() * 100:.1f}" for t, p, e in zip(elapsed, power, energy)]
    if damage == "unparsable_csv":
        lines.insert(5, "1.7e9,2.0,not-a-number,3.0,1.0")
    if damage != "missing_power_log":
        (folder / "power" / "estimate_cpu.csv").write_text("\n".join(lines) + "\n")

    total_j = float(energy[-1])
    duration = float(elapsed[-1])
    measured = 3000 if task == "infer" else None
    results = {
        "metrics": {"accuracy": 0.9 + 0.05 * rng.random(), "balanced_accuracy": 0.9, "f1_weighted": 0.9,
                    "precision_weighted": 0.9, "recall_weighted": 0.9},
        "model": {"parameters": int(1000 + index), "size_bytes": int(50_000 + index)},
        "durations_s": {"total": duration + 0.5, "measured": duration},
        "n_samples": {"train": 120, "test": 30, "measured": measured},
        "per_sample": {"energy_j": total_j / measured, "time_s": duration / measured} if measured else None,
        "energy": {"total_j": total_j, "net_total_j": None, "provenance": "estimate",
                   "provenance_text": "estimated: CPU (CodeCarbon TDP x load)",
                   "meters": [{"meter": "estimate:cpu", "component": "cpu", "energy_j": total_j, "provenance": "estimate",
                               "samples": samples, "method": "CodeCarbon TDP x load", "idle_power_w": None,
                               "net_energy_j": None}]},
        "carbon": {"co2eq_g": total_j / 3.6e6 * 380, "intensity_g_per_kwh": 380.0, "country": "DEU",
                   "source": "CodeCarbon offline data"},
    }
    if damage == "nan_metric":  # Python's json writes NaN, which strict JSON readers refuse
        results["metrics"]["accuracy"] = float("nan")
    text = json.dumps(results, indent=1)
    if damage in ("truncated_results", "killed_mid_write"):
        text = text[: len(text) // 2]
    dump_text = folder / "results.json"
    dump_text.write_text(text)
    (folder / "run.log").write_text("INFO done\n")
    if damage not in ("missing_complete", "killed_mid_write"):
        dump("COMPLETE", {"finished": (started + timedelta(seconds=duration)).isoformat()})
    return folder
