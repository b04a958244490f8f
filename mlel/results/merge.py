"""Compact experiment folders (docs/architecture.md, section 2) into merged results JSON (section 3).

One file per experiment, ``<output-dir>/<folder name>.json``, in schema ``mlel.results/1``
(docs/results-schema.md). Merging is incremental and idempotent: a folder whose merged file already
exists is not read again. Every write is atomic (temporary file + ``os.replace``), so a merge that
is killed leaves either the old state or the complete new file, never half a JSON. A folder that is
incomplete or damaged is skipped with the reason; every other folder is still merged.
"""

from __future__ import annotations

import logging
import math
import os
import sys
import tarfile
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
import pandas as pd

from mlel.errors import IncompleteExperimentError, SchemaError, UserInputError, first_line
from mlel.results.schema import EXPERIMENT_SCHEMA, RESULTS_SCHEMA, atomic_write_bytes, json_bytes, read_json
from mlel.results.table import hardware_of

log = logging.getLogger(__name__)

MARKER_FILES = ("COMPLETE", "status.json", "config.json", "results.json")
"""A folder holding any of these is an experiment folder (complete or not)."""
REQUIRED_CSV_COLUMNS = ("timestamp_s", "elapsed_s", "power_w", "energy_j")
TRACE_POINTS = 300
TASKS = ("train", "infer")


@dataclass(frozen=True)
class Outcome:
    folder: Path
    state: str                      # "merged" | "present" | "skipped"
    reason: str | None = None       # why it was skipped
    output: Path | None = None
    group: tuple[str, str, str] | None = None   # (task, model, hardware) of a merged folder


@dataclass
class MergeReport:
    merged: int = 0
    present: int = 0
    archived: int = 0
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    by_group: Counter = field(default_factory=Counter)

    def add(self, outcome: Outcome) -> None:
        if outcome.state == "merged":
            self.merged += 1
            if outcome.group:
                self.by_group[outcome.group] += 1
        elif outcome.state == "present":
            self.present += 1
        else:
            self.skipped.append((outcome.folder, outcome.reason or "unknown reason"))


# ------------------------------------------------------------------------------------ discovery

def find_experiment_folders(inputs: Iterable[str | os.PathLike]) -> list[Path]:
    """Experiment folders in or at each input (searched recursively, not inside an experiment folder)."""
    found: list[Path] = []
    for raw in inputs:
        root = Path(raw)
        if not root.is_dir():
            raise UserInputError(f"not a folder: {root}")
        found.extend(_walk(root))
    return sorted(dict.fromkeys(found), key=lambda p: (p.name, str(p)))


def _walk(folder: Path) -> Iterator[Path]:
    try:
        entries = list(os.scandir(folder))
    except OSError as exc:
        log.warning("cannot list %s: %s", folder, exc)
        return
    names = {e.name for e in entries}
    if any(m in names for m in MARKER_FILES):
        yield folder
        return
    for entry in sorted(entries, key=lambda e: e.name):
        if entry.is_dir(follow_symlinks=False) and not entry.name.startswith("."):
            yield from _walk(Path(entry.path))


# ------------------------------------------------------------------------------------ one folder

def read_experiment(folder: str | os.PathLike) -> dict:
    """The merged record of one complete experiment folder; ``SchemaError`` (with the reason) otherwise."""
    folder = Path(folder)
    if not (folder / "COMPLETE").is_file():
        state = "unknown state"
        try:
            status = read_json(folder / "status.json", "status.json")
            state = f"state {status.get('state')!r}" + (f": {status['reason']}" if status.get("reason") else "")
            if status.get("state") == "running":  # a SIGKILL or a power cut leaves no chance to say more
                state += f": still running, or killed (last update {status.get('updated', 'unknown')})"
        except SchemaError:
            pass
        raise IncompleteExperimentError(f"missing COMPLETE marker ({state})")
    complete = _object(read_json(folder / "COMPLETE", "COMPLETE marker"), "COMPLETE marker")
    status = _object(read_json(folder / "status.json", "status.json"), "status.json")
    if status.get("state") != "complete":
        raise IncompleteExperimentError(f"status.json says state {status.get('state')!r}"
                                        + (f" ({status['reason']})" if status.get("reason") else ""))
    config = _object(read_json(folder / "config.json", "config.json"), "config.json")
    if config.get("schema") != EXPERIMENT_SCHEMA:
        raise SchemaError(f"config.json has schema {config.get('schema')!r}; this mlel reads {EXPERIMENT_SCHEMA!r}")
    for key in ("task", "model", "backend", "dataset"):
        if not config.get(key):
            raise SchemaError(f"config.json lacks {key!r}")
    if config["task"] not in TASKS:
        raise SchemaError(f"config.json has task {config['task']!r}; expected one of {', '.join(TASKS)}")
    platform = _object(read_json(folder / "platform.json", "platform.json"), "platform.json")
    results = _object(read_json(folder / "results.json", "results.json"), "results.json")
    energy = results.get("energy")
    if not isinstance(results.get("metrics"), dict) or not isinstance(energy, dict) or "total_j" not in energy:
        raise SchemaError("results.json lacks 'metrics' or 'energy.total_j'")

    monitoring, trace = {}, {}
    for meter, csv_path in _power_logs(folder, energy.get("meters") or []):
        table = _read_power_csv(csv_path, folder)
        monitoring[meter] = summarise(table)
        trace[meter] = downsample_trace(table)
    return {
        "schema_version": RESULTS_SCHEMA,
        "run_id": folder.name,
        "merged": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "source_folder": str(folder.resolve()),
        "completed": complete.get("finished"),
        "status": status,
        "config": config,
        "platform": platform,
        "results": results,
        "monitoring": monitoring,
        "trace": trace,
    }


def _object(value, what: str) -> dict:
    if not isinstance(value, dict):
        raise SchemaError(f"{what} is not a JSON object")
    return value


def _power_logs(folder: Path, meters: list) -> list[tuple[str, Path]]:
    from mlel.measurement.sampler import log_file_name

    power = folder / "power"
    csvs = sorted(power.glob("*.csv")) if power.is_dir() else []
    if not csvs:
        raise IncompleteExperimentError("missing power log (no power/*.csv)")
    by_file = {p.name: p for p in csvs}
    pairs, used = [], set()
    for m in meters:
        name = m.get("meter") if isinstance(m, dict) else None
        if not name:
            raise SchemaError("results.json has an energy meter without a name")
        file = log_file_name(name)
        if file not in by_file:
            raise IncompleteExperimentError(f"missing power log power/{file} for meter {name!r}")
        pairs.append((name, by_file[file]))
        used.add(file)
    pairs.extend((p.stem, p) for p in csvs if p.name not in used)  # logs of meters outside the window
    return pairs


def _read_power_csv(path: Path, folder: Path) -> pd.DataFrame:
    where = path.relative_to(folder)
    try:
        table = pd.read_csv(path, dtype="float64", engine="c")
    except pd.errors.EmptyDataError as exc:
        raise SchemaError(f"empty power log {where}") from exc
    except (ValueError, pd.errors.ParserError) as exc:
        raise SchemaError(f"unparsable power log {where}: {str(exc).splitlines()[0]}") from exc
    missing = [c for c in REQUIRED_CSV_COLUMNS if c not in table.columns]
    if missing:
        raise SchemaError(f"power log {where} lacks column(s) {', '.join(missing)}")
    return table


def summarise(table: pd.DataFrame) -> dict[str, dict]:
    """Per sampled field (every column but the wall-clock timestamp): min, max, mean, std
    (population, ddof=0, like MLEE's numpy) and count of non-missing values."""
    out = {}
    for column in table.columns:
        if column == "timestamp_s":
            continue
        values = table[column].to_numpy(dtype="float64")
        values = values[~np.isnan(values)]
        if values.size == 0:
            out[column] = {"min": None, "max": None, "mean": None, "std": None, "count": 0}
            continue
        out[column] = {"min": _f(values.min()), "max": _f(values.max()), "mean": _f(values.mean()),
                       "std": _f(values.std()), "count": int(values.size)}
    return out


def downsample_trace(table: pd.DataFrame, points: int = TRACE_POINTS) -> dict:
    """Power over time in at most ``points`` points: consecutive samples are averaged in equal-count
    bins (an average keeps the area under the curve, which striding would not)."""
    elapsed = table["elapsed_s"].to_numpy(dtype="float64")
    power = table["power_w"].to_numpy(dtype="float64")
    keep = ~(np.isnan(elapsed) | np.isnan(power))
    elapsed, power = elapsed[keep], power[keep]
    n = elapsed.size
    if n > points:
        starts = np.linspace(0, n, points + 1).astype(int)[:-1]
        counts = np.diff(np.append(starts, n))
        elapsed = np.add.reduceat(elapsed, starts) / counts
        power = np.add.reduceat(power, starts) / counts
    return {"elapsed_s": [round(float(x), 3) for x in elapsed], "power_w": [round(float(x), 4) for x in power],
            "samples": int(n)}


def _f(value) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


# ------------------------------------------------------------------------------------ many folders

def merge_folder(folder: Path, output_dir: Path) -> Outcome:
    output = output_dir / f"{folder.name}.json"
    if output.exists():
        return Outcome(folder, "present", output=output)
    try:
        record = read_experiment(folder)
        group = (record["config"]["task"], record["config"]["model"], hardware_of(record["config"], record["platform"]))
        content = json_bytes(record)
    except SchemaError as exc:
        return Outcome(folder, "skipped", reason=str(exc))
    except OSError as exc:
        return Outcome(folder, "skipped", reason=f"cannot read: {exc}")
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        # a folder that says it is complete but holds a value of the wrong kind (a NaN accuracy, a
        # platform field that is not a number): skipped by name, and the folders after it still merge
        return Outcome(folder, "skipped", reason=f"invalid content ({type(exc).__name__}: {first_line(exc)})")
    atomic_write_bytes(output, content)  # only a record that could be read and written whole
    return Outcome(folder, "merged", output=output, group=group)


def archive_folder(folder: Path, archive_dir: Path) -> bool:
    """Pack ``folder`` as ``<archive_dir>/<name>.tar.gz`` (atomically); False if that archive exists."""
    target = archive_dir / f"{folder.name}.tar.gz"
    if target.exists():
        return False
    fd, tmp = tempfile.mkstemp(dir=archive_dir, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz", compresslevel=6) as tar:
            tar.add(folder, arcname=folder.name)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


def merge_experiments(inputs: Iterable[str | os.PathLike], output_dir: str | os.PathLike,
                      archive_dir: str | os.PathLike | None = None, progress: bool | None = None) -> MergeReport:
    """Merge every experiment folder found in ``inputs`` into ``output_dir``; see the module docstring."""
    from tqdm import tqdm

    from mlel.experiments.folder import check_output_dir

    inputs = list(inputs)
    folders = find_experiment_folders(inputs)
    output_dir = check_output_dir(output_dir, "--output-dir")
    archive = check_output_dir(archive_dir, "--archive-dir") if archive_dir else None
    if not folders:
        log.warning("no experiment folders found in %s", ", ".join(map(str, inputs)))
    if progress is None:
        progress = sys.stderr.isatty() and not os.environ.get("MLEL_NO_PROGRESS")
    log.info("merging %d experiment folder(s) into %s", len(folders), output_dir)
    report = MergeReport()
    for folder in tqdm(folders, desc="merging", unit="folder", disable=not progress):
        outcome = merge_folder(folder, output_dir)
        report.add(outcome)
        if outcome.state == "skipped":
            log.warning("skipped %s: %s", folder, outcome.reason)
        elif archive and archive_folder(folder, archive):
            report.archived += 1
    return report
