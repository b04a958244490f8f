"""One results table from our merged JSON and the original MLEE logs (docs/architecture.md, section 3)."""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path
from typing import Iterable

import pandas as pd

from mlel.errors import SchemaError, UserInputError
from mlel.measurement.provenance import Provenance
from mlel.results import naming
from mlel.results.mlee import is_mlee_log, mlee_row
from mlel.results.schema import RESULTS_SCHEMA_FAMILY, check_results_schema, read_json

log = logging.getLogger(__name__)

COLUMNS: tuple[str, ...] = (
    "run_id", "source", "path", "task", "model", "dataset", "backend", "device", "threads", "batch_size",
    "hardware", "environment", "accuracy", "balanced_accuracy", "f1_weighted", "precision_weighted",
    "recall_weighted", "energy_j", "net_energy_j", "time_s", "energy_per_sample_j", "time_per_sample_s",
    "power_mean_w", "parameters", "model_size_bytes", "n_train_samples", "co2eq_g", "energy_provenance",
    "energy_provenance_text", "energy_is_estimate", "date", "search_id",
)
"""The contract columns, in order (docs/architecture.md, section 3)."""

EXTRA_COLUMNS: tuple[str, ...] = ("top5_accuracy", "flops", "n_test_samples", "country", "host",
                                  "search_index", "search_energy", "search_predictions", "search_objective")
"""Additions documented beside the contract: MLEE's top-5 accuracy and FLOPs, test-set size, carbon country,
host, and for a trade-off search's runs the evaluation's index, its energy objective (``train``, ``infer``,
``train+infer``), the predictions ``train+infer`` counts, and the metric it chose on (``accuracy``,
``f1_weighted``)."""

ALL_COLUMNS = COLUMNS + EXTRA_COLUMNS
TEXT_COLUMNS = frozenset({"run_id", "source", "path", "task", "model", "dataset", "backend", "device", "hardware",
                          "environment", "energy_provenance", "energy_provenance_text", "date", "search_id",
                          "country", "host", "search_energy", "search_objective"})
BOOL_COLUMNS = frozenset({"energy_is_estimate"})
NUMERIC_COLUMNS = tuple(c for c in ALL_COLUMNS if c not in TEXT_COLUMNS and c not in BOOL_COLUMNS)
"""Float64 everywhere, counts included, so that a missing value is NaN."""


def load_results(paths, on_error: str = "raise") -> pd.DataFrame:
    """Read merged mlel results and MLEE logs into one table, one row per run.

    ``paths``: one path or several; a folder is searched recursively for ``*.json`` (hidden files,
    such as the temporary files of an interrupted merge, are ignored). A JSON file that is neither
    our merged format nor an MLEE log is skipped with a warning when found in a folder and refused when
    named directly. A file in an unknown results-schema version, or a damaged one, raises ``SchemaError``
    (``on_error="raise"``, and always when named directly: the user meant that file) or, found in a
    folder, is skipped with a warning (``on_error="warn"``).
    """
    if on_error not in ("raise", "warn"):
        raise UserInputError(f"The 'on_error' parameter must be one of 'raise', 'warn'; got {on_error!r}")
    rows = []
    for file, named in _json_files(paths):
        try:
            record = read_json(file)
            row = result_row(record, file)
        except SchemaError as exc:
            if on_error == "raise" or named:
                raise
            log.warning("skipped %s", exc)
            continue
        if row is None:
            if named:
                raise SchemaError(f"{file}: neither an mlel results file nor an MLEE log")
            log.warning("skipped %s: neither an mlel results file nor an MLEE log", file)
            continue
        rows.append(row)
    return results_frame(rows)


def result_row(record: object, path: str | Path) -> dict | None:
    """The table row of one parsed file, or ``None`` when it is neither format."""
    if isinstance(record, dict) and str(record.get("schema_version", "")).startswith(RESULTS_SCHEMA_FAMILY):
        check_results_schema(record, path)
        try:
            return merged_row(record, path)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise SchemaError(f"{path}: damaged mlel results file ({type(exc).__name__}: {exc})") from exc
    if isinstance(record, dict) and "schema_version" in record and not is_mlee_log(record):
        check_results_schema(record, path)  # refuses with the version it found
    if is_mlee_log(record):
        return mlee_row(record, path)
    return None


def results_frame(rows: list[dict]) -> pd.DataFrame:
    """Rows -> a table with every column, in order, with stable dtypes (also when empty)."""
    df = pd.DataFrame(rows, columns=list(ALL_COLUMNS))
    for column in NUMERIC_COLUMNS:
        df[column] = pd.to_numeric(df[column], errors="coerce").astype("float64")
    df["energy_is_estimate"] = df["energy_is_estimate"].fillna(True).astype(bool)
    for column in TEXT_COLUMNS:
        df[column] = df[column].fillna("").astype(str)
    return df.reset_index(drop=True)


def hardware_of(config: dict, platform: dict) -> str:
    """``"A100-SXM4-40GB"`` for a GPU run, ``"Intel Xeon Platinum 8375C (2 threads)"`` for a CPU run."""
    device = str(config.get("device") or "cpu")
    gpus = platform.get("gpus") or []
    if device.startswith("cuda") and gpus:
        _, _, index = device.partition(":")
        chosen = [g for g in gpus if str(g.get("index")) == (index or "0")] or gpus[:1]
        return naming.gpu_hardware_name(g.get("name", "unknown GPU") for g in chosen)
    threads = config.get("threads") or platform.get("cpu_cores_logical")
    return naming.cpu_hardware_name(platform.get("cpu_model"), threads)


def environment_of(config: dict, platform: dict) -> str:
    backend = naming.run_backend(str(config.get("backend", "")), config.get("train_backend"))
    version = naming.backend_version(backend, platform.get("packages") or {})
    return naming.environment_name(hardware_of(config, platform), backend, version)


def merged_row(record: dict, path: str | Path) -> dict:
    config = record["config"]
    platform = record.get("platform") or {}
    results = record["results"]
    metrics = results.get("metrics") or {}
    model = results.get("model") or {}
    durations = results.get("durations_s") or {}
    n_samples = results.get("n_samples") or {}
    per_sample = results.get("per_sample") or {}
    energy = results.get("energy") or {}
    carbon = results.get("carbon") or {}

    energy_j = _num(energy.get("total_j"))
    time_s = _num(durations.get("measured", durations.get("total")))
    provenance = Provenance(energy.get("provenance", Provenance.ESTIMATE.value))
    task = config["task"]
    energy_per_sample = _num(per_sample.get("energy_j"))
    time_per_sample = _num(per_sample.get("time_s"))
    measured = _num(n_samples.get("measured"))
    if task == "infer" and math.isnan(energy_per_sample) and measured > 0:
        energy_per_sample = energy_j / measured
        time_per_sample = time_s / measured
    return {
        "run_id": record.get("run_id") or Path(path).stem,
        "source": "mlel",
        "path": str(path),
        "task": task,
        "model": config["model"],
        "dataset": config.get("dataset", ""),
        "backend": naming.run_backend(str(config.get("backend", "")), config.get("train_backend")),
        "device": config.get("device", ""),
        # no --threads means all logical cores, which the hardware name already says
        "threads": _num(config.get("threads") or (None if str(config.get("device", "cpu")).startswith("cuda")
                                                  else platform.get("cpu_cores_logical"))),
        "batch_size": _num(config.get("batch_size")),
        "hardware": hardware_of(config, platform),
        "environment": environment_of(config, platform),
        "accuracy": _num(metrics.get("accuracy")),
        "balanced_accuracy": _num(metrics.get("balanced_accuracy")),
        "f1_weighted": _num(metrics.get("f1_weighted")),
        "precision_weighted": _num(metrics.get("precision_weighted")),
        "recall_weighted": _num(metrics.get("recall_weighted")),
        "energy_j": energy_j,
        "net_energy_j": _num(energy.get("net_total_j")),
        "time_s": time_s,
        "energy_per_sample_j": energy_per_sample,
        "time_per_sample_s": time_per_sample,
        "power_mean_w": energy_j / time_s if time_s > 0 else float("nan"),
        "parameters": _num(model.get("parameters")),
        "model_size_bytes": _num(model.get("size_bytes")),
        "n_train_samples": _num(n_samples.get("train")),
        "co2eq_g": _num(carbon.get("co2eq_g")),
        "energy_provenance": provenance.value,
        "energy_provenance_text": energy.get("provenance_text") or "",
        "energy_is_estimate": not provenance.is_measured,
        "date": config.get("started") or record.get("completed") or "",
        "search_id": config.get("search_id") or (config.get("params") or {}).get("search_id") or "",
        "top5_accuracy": _num(metrics.get("top5_accuracy", metrics.get("top_5_accuracy"))),
        "flops": _num(model.get("flops")),
        "n_test_samples": _num(n_samples.get("test")),
        "country": carbon.get("country") or "",
        "host": platform.get("hostname") or "",
        "search_index": _num(config.get("search_index")),
        "search_energy": config.get("search_energy") or "",
        "search_predictions": _num(config.get("search_predictions")),
        "search_objective": config.get("search_objective") or "",
    }


def _json_files(paths) -> Iterable[tuple[Path, bool]]:
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for file in sorted(path.rglob("*.json")):
                if not any(part.startswith(".") for part in file.relative_to(path).parts):
                    yield file, False
        elif path.is_file():
            yield path, True
        else:
            raise UserInputError(f"results path not found: {path}")


def _num(value) -> float:
    if value is None or isinstance(value, bool):
        return float("nan")
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")
