"""Synthetic results tables in the shape of ``mlel.results.load_results`` (architecture.md, section 3).

Used by the tests (small, hand-sized tables) and by ``bench/elex_scale.py`` (10,000 and 100,000 runs).
The numbers are plausible, not real: energy grows with model size and training samples, stronger
hardware draws more power but finishes sooner, and one environment only has estimated energy.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlel.measurement.provenance import Provenance

# (name, backend family, parameters, accuracy at full data, relative cost)
_MODELS = (
    ("LogisticRegression", "sklearn", 300, 0.93, 0.2),
    ("RandomForest", "sklearn", 60_000, 0.95, 1.5),
    ("SVC", "sklearn", 4_000, 0.96, 0.8),
    ("KNeighbors", "sklearn", 50_000, 0.94, 0.5),
    ("GradientBoosting", "sklearn", 25_000, 0.95, 2.5),
    ("MLP", "torch", 40_000, 0.96, 1.2),
    ("CNN", "torch", 120_000, 0.98, 3.0),
    ("ResNet-mini", "torch", 400_000, 0.985, 6.0),
)
# (hardware, power draw W, speed factor, estimated?)
_HARDWARE = (
    ("Intel Xeon E5-2690 (1 thread)", 35.0, 1.0, True),
    ("Intel Xeon E5-2690 (2 threads)", 55.0, 1.8, True),
    ("Quadro RTX 5000", 160.0, 9.0, False),
    ("A100-SXM4-40GB x8", 900.0, 40.0, False),
)
_BACKEND_VERSIONS = {"sklearn": "scikit-learn 1.9.1", "torch": "PyTorch 2.13.0", "onnx": "ONNX Runtime 1.32.0"}
_DATASETS = ("iris", "wine", "breast_cancer", "digits")
_ESTIMATE_TEXT = "estimated: CPU (CodeCarbon TDP x load) + RAM (CodeCarbon RAM model)"
_MEASURED_TEXT = "measured (hardware counter): GPU (NVML energy counter) + CPU (RAPL)"

COLUMNS = (
    "run_id", "source", "path", "task", "model", "dataset", "backend", "device", "threads", "batch_size",
    "hardware", "environment", "accuracy", "balanced_accuracy", "f1_weighted", "precision_weighted",
    "recall_weighted", "energy_j", "net_energy_j", "time_s", "energy_per_sample_j", "time_per_sample_s",
    "power_mean_w", "parameters", "model_size_bytes", "n_train_samples", "co2eq_g", "energy_provenance",
    "energy_provenance_text", "energy_is_estimate", "date", "search_id",
)


def synthetic_results(n_runs: int, seed: int = 0, scaling_share: float = 0.1, search_share: float = 0.02) -> pd.DataFrame:
    """A results table of ``n_runs`` rows with every contract column.

    About ``scaling_share`` of the runs are a scaling series (data set ``synthetic``, training
    samples from 1,000 to 100,000) and ``search_share`` belong to one trade-off search.
    """
    if n_runs < 1:
        raise ValueError(f"n_runs must be at least 1; got {n_runs}")
    rng = np.random.default_rng(seed)
    n = int(n_runs)
    model_idx = rng.integers(0, len(_MODELS), n)
    hw_idx = rng.integers(0, len(_HARDWARE), n)
    task = np.where(rng.random(n) < 0.5, "infer", "train")
    models = np.array([m[0] for m in _MODELS])[model_idx]
    family = np.array([m[1] for m in _MODELS])[model_idx]
    params = np.array([m[2] for m in _MODELS])[model_idx]
    acc_full = np.array([m[3] for m in _MODELS])[model_idx]
    cost = np.array([m[4] for m in _MODELS])[model_idx]
    # inference may run through ONNX Runtime instead of the training framework
    backend = np.where((task == "infer") & (rng.random(n) < 0.3), "onnx", family)

    scaling = rng.random(n) < scaling_share
    dataset = np.where(scaling, "synthetic", np.array(_DATASETS)[rng.integers(0, len(_DATASETS), n)])
    base_samples = np.array([150, 178, 569, 1797])[rng.integers(0, 4, n)]
    scale_steps = np.array([1_000, 3_000, 10_000, 30_000, 100_000])
    n_train = np.where(scaling, scale_steps[rng.integers(0, len(scale_steps), n)], (base_samples * 0.8).astype(int))

    hw_name = np.array([h[0] for h in _HARDWARE])[hw_idx]
    hw_power = np.array([h[1] for h in _HARDWARE])[hw_idx]
    hw_speed = np.array([h[2] for h in _HARDWARE])[hw_idx]
    estimated = np.array([h[3] for h in _HARDWARE])[hw_idx]
    versions = np.array([_BACKEND_VERSIONS[b] for b in backend])
    environment = np.char.add(np.char.add(hw_name.astype(str), " - "), versions.astype(str))

    noise = rng.lognormal(0.0, 0.15, n)
    accuracy = np.clip(acc_full - 0.15 * (1000 / (n_train + 1000)) ** 0.5 * rng.random(n) - rng.normal(0, 0.01, n), 0.3, 1.0)
    train_time = 0.002 * cost * n_train ** 1.1 / hw_speed * noise
    n_test = np.maximum((n_train * 0.25).astype(int), 30)
    infer_time = 0.00005 * cost * n_test / hw_speed * noise * (np.where(backend == "onnx", 0.6, 1.0))
    time_s = np.where(task == "train", train_time, infer_time)
    power = hw_power * rng.lognormal(0.0, 0.05, n)
    energy = power * time_s
    measured_samples = np.where(task == "infer", n_test * 100, 0)
    per_sample_energy = np.where(task == "infer", energy / np.maximum(measured_samples, 1), np.nan)
    per_sample_time = np.where(task == "infer", time_s / np.maximum(measured_samples, 1), np.nan)

    frame = {
        "run_id": [f"run-{seed}-{i:06d}" for i in range(n)],
        "source": "mlel",
        "path": "",
        "task": task,
        "model": models,
        "dataset": dataset,
        "backend": backend,
        "device": np.where(hw_idx >= 2, "cuda", "cpu"),
        "threads": np.where(hw_idx == 0, 1, 2),
        "batch_size": np.where(task == "infer", 64, 0),
        "hardware": hw_name,
        "environment": environment,
        "accuracy": accuracy,
        "balanced_accuracy": np.clip(accuracy - 0.01, 0, 1),
        "f1_weighted": np.clip(accuracy - 0.005, 0, 1),
        "precision_weighted": np.clip(accuracy + 0.002, 0, 1),
        "recall_weighted": accuracy,
        "energy_j": energy,
        "net_energy_j": np.where(estimated, np.nan, energy * 0.7),
        "time_s": time_s,
        "energy_per_sample_j": per_sample_energy,
        "time_per_sample_s": per_sample_time,
        "power_mean_w": energy / time_s,
        "parameters": params,
        "model_size_bytes": params * 4 + 2_000,
        "n_train_samples": n_train,
        "co2eq_g": energy / 3.6e6 * 380.0,
        "energy_provenance": np.where(estimated, Provenance.ESTIMATE.value, Provenance.COUNTER.value),
        "energy_provenance_text": np.where(estimated, _ESTIMATE_TEXT, _MEASURED_TEXT),
        "energy_is_estimate": estimated,
        "date": pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 86_400 * 90, n), unit="s"),
        "search_id": "",
    }
    df = pd.DataFrame(frame)
    df["date"] = df["date"].dt.strftime("%Y-%m-%dT%H:%M:%S")
    search = (rng.random(n) < search_share) & (df["task"] == "train").to_numpy()
    df.loc[search, "search_id"] = "search-synthetic-1"
    return df[list(COLUMNS)]


def write_demo_logs(folder, seed: int = 0) -> list:
    """Write a small set of merged logs (our format, with power traces) into ``folder`` and return their paths.

    Built from ``mlel.results.synthetic`` experiment folders merged by ``mlel.results.merge``: three
    models, training and inference, 1 and 2 threads, a scaling series on data set ``synthetic`` and a
    short trade-off search. For tests, screenshots and demos; the numbers are made up.
    """
    import json
    import tempfile
    from pathlib import Path

    from mlel.results.merge import read_experiment
    from mlel.results.synthetic import write_experiment_folder

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    specs = []
    models = (("logreg", "sklearn", 1.0, 300), ("forest", "sklearn", 3.0, 60_000), ("mlp", "torch", 2.0, 40_000))
    for name, backend, cost, params in models:
        for task in ("train", "infer"):
            for threads in (1, 2):
                specs.append(dict(task=task, model=name, backend=backend, dataset="iris", threads=threads, cost=cost,
                                  params=params, n_train=120, search=""))
        for n_train in (1_000, 3_000, 10_000, 30_000):
            specs.append(dict(task="train", model=name, backend=backend, dataset="synthetic", threads=2, cost=cost,
                              params=params, n_train=n_train, search=""))
    for k in range(6):
        specs.append(dict(task="train", model="mlp", backend="torch", dataset="iris", threads=2, cost=1.0 + k * 0.5,
                          params=5_000 * (k + 1), n_train=120, search="search-demo-1"))
    paths = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, spec in enumerate(specs):
            run = write_experiment_folder(tmp, index=seed * 1000 + i, task=spec["task"], model=spec["model"],
                                          backend=spec["backend"], dataset=spec["dataset"], samples=60)
            record = read_experiment(run)
            # shape the made-up numbers: cost grows with the model and the data, two threads finish sooner
            factor = spec["cost"] * (spec["n_train"] / 120) ** 1.05 * (0.6 if spec["threads"] == 2 else 1.0)
            record["config"]["threads"] = spec["threads"]
            if spec["search"]:
                record["config"]["search_id"] = spec["search"]
            results = record["results"]
            energy = results["energy"]
            energy["total_j"] *= factor
            for meter in energy["meters"]:
                meter["energy_j"] *= factor
            results["durations_s"]["measured"] *= factor * (1.4 if spec["threads"] == 2 else 1.0) / 1.0
            results["n_samples"]["train"] = spec["n_train"]
            results["model"]["parameters"] = spec["params"]
            results["model"]["size_bytes"] = spec["params"] * 8 + 1_000
            accuracy = min(0.99, 0.80 + 0.04 * spec["cost"] + 0.02 * np.log10(spec["n_train"] / 120 + 1) + rng.normal(0, 0.01))
            results["metrics"]["accuracy"] = float(accuracy)
            if results.get("per_sample"):
                measured = results["n_samples"]["measured"]
                results["per_sample"] = {"energy_j": energy["total_j"] / measured,
                                         "time_s": results["durations_s"]["measured"] / measured}
            for trace in record["trace"].values():
                trace["power_w"] = [p * (1.5 if spec["threads"] == 2 else 1.0) for p in trace["power_w"]]
            path = out / f"{record['run_id']}.json"
            path.write_text(json.dumps(record))
            paths.append(path)
    return paths
