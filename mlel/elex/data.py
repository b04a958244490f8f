"""The results an ELEx instance shows: read once, never changed, rated per request with a small cache.

Per-user state (filters, rating settings, uploaded logs) lives in the browser (``dcc.Store``); the
server only keeps what every user shares: the loaded table and caches derived from it.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from mlel.errors import SchemaError, UserInputError

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
"""Largest merged log accepted from the browser; ours are a few hundred kB with their trace."""


@dataclass(frozen=True)
class RatingSettings:
    """What the ratings depend on. Hashable, so rated tables can be cached per setting."""

    task: str
    reference: str | None
    mode: str
    boundaries_json: str = "null"  # canonical JSON of {metric: [4 index boundaries]} or null for the defaults
    weights_json: str = "null"  # canonical JSON of {metric: weight} or null for the defaults

    @property
    def boundaries(self) -> dict | None:
        return json.loads(self.boundaries_json)

    @property
    def weights(self) -> dict | None:
        return json.loads(self.weights_json)

    @staticmethod
    def canonical(obj) -> str:
        return json.dumps(obj, sort_keys=True)


@dataclass(frozen=True, eq=False)
class Upload:
    """Runs a user uploaded: their table rows and merged logs.

    Identified by a digest of the file's content, so that two requests with the same uploads share
    a cache entry of rated tables.
    """

    digest: str
    rows: tuple[dict, ...] = field(default=())
    logs: Mapping[str, dict] = field(default_factory=dict)  # run_id -> merged log

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Upload) and other.digest == self.digest

    def __hash__(self) -> int:
        return hash(self.digest)


LABEL_PNG_DPI = 110


class ResultsData:
    """The loaded results table (read-only) and the caches an ELEx instance keeps over it."""

    def __init__(self, table: pd.DataFrame, rate_cache_size: int = 8):
        table = table.reset_index(drop=True).copy()
        for column in ("model", "dataset", "backend", "environment", "hardware", "search_id", "task"):
            if column in table:
                # categories: filters, group-bys and counts on 100,000 rows stop re-hashing strings
                table[column] = table[column].fillna("").astype(str).astype("category")
        table["energy_is_estimate"] = table["energy_is_estimate"].fillna(False).astype(bool)
        self._table = table
        # bound per instance: two apps in one process never share or leak cached tables
        self._rated = functools.lru_cache(maxsize=rate_cache_size)(self._rate)
        self._log = functools.lru_cache(maxsize=256)(self._read_log)
        self._label = functools.lru_cache(maxsize=128)(self._render_label)

    @classmethod
    def from_paths(cls, paths: Sequence[str | Path]) -> "ResultsData":
        from mlel.results import load_results

        missing = [str(p) for p in paths if not Path(p).exists()]
        if missing:
            raise UserInputError(f"results path not found: {', '.join(missing)}")
        table = load_results([str(p) for p in paths], on_error="warn")
        log.info("loaded %d runs from %s", len(table), ", ".join(map(str, paths)))
        return cls(table)

    @property
    def table(self) -> pd.DataFrame:
        """The loaded table; callers must not change it (copy first)."""
        return self._table

    def tasks(self) -> list[str]:
        return [t for t in ("infer", "train") if (self._table["task"] == t).any()] or ["infer"]

    def already_loaded(self, upload: Upload) -> bool:
        """Whether ``upload`` is a copy of a run loaded at start-up (same run id, task and date)."""
        prefix = f"upload-{upload.digest}-"
        return all((str(r["run_id"])[len(prefix):], str(r.get("task")), str(r.get("date"))) in self._loaded_keys
                   for r in upload.rows)

    @functools.cached_property
    def _loaded_keys(self) -> frozenset:
        t = self._table
        if t.empty:
            return frozenset()
        return frozenset(zip(t["run_id"].astype(str), t["task"].astype(str), t["date"].astype(str)))

    def combined(self, uploads: Sequence[Upload] = ()) -> pd.DataFrame:
        if not uploads:
            return self._table
        extra = pd.DataFrame([row for up in uploads for row in up.rows])
        extra["energy_is_estimate"] = extra["energy_is_estimate"].fillna(False).astype(bool)
        return pd.concat([self._table, extra], ignore_index=True)

    def rated(self, settings: RatingSettings, uploads: Sequence[Upload] = ()) -> pd.DataFrame:
        """The runs of ``settings.task`` (loaded and uploaded) with indices and ratings; cached."""
        return self._rated(settings, tuple(uploads))

    def _rate(self, settings: RatingSettings, uploads: tuple[Upload, ...]) -> pd.DataFrame:
        from mlel.elex.rating import rate

        table = self.combined(uploads)
        table = table[table["task"] == settings.task]
        rated = rate(table, settings)
        # indexed by run id: the click on a point looks its row up by hash, not by scanning 100,000 ids
        rated.index = pd.Index(rated["run_id"].astype(str).to_numpy(), name=None)
        return rated

    def rated_row(self, settings: RatingSettings, run_id: str, uploads: Sequence[Upload] = ()) -> pd.Series | None:
        """One rated run, or None when it is not among the rated runs of ``settings.task``."""
        rated = self.rated(settings, uploads)
        if run_id not in rated.index:
            return None
        found = rated.loc[run_id]
        return found.iloc[0] if isinstance(found, pd.DataFrame) else found

    def label(self, label_data, fmt: str = "png") -> bytes:
        """The label's file bytes; cached, since users click back and forth between the same runs."""
        return self._label(label_data, fmt)

    @staticmethod
    def _render_label(label_data, fmt: str) -> bytes:
        from mlel.labels import render_label

        # the page shows the label about 400 px wide: 110 dpi (433 x 779 px) is sharp there and
        # renders in about half the time of the 150 dpi print-quality default
        return render_label(label_data, fmt, dpi=LABEL_PNG_DPI) if fmt == "png" else render_label(label_data, fmt)

    def merged_log(self, path: str) -> dict | None:
        """The merged log a run was read from (for its trace and download), cached; None if unreadable
        (not cached: the next click reads the file again)."""
        if not path:
            return None
        try:
            return self._log(str(path))
        except (OSError, ValueError) as exc:
            log.warning("cannot read %s: %s", path, exc)
            return None

    @staticmethod
    def _read_log(path: str) -> dict:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)


def parse_upload(filename: str, contents: str) -> Upload:
    """One browser upload (a ``data:`` URL) of a merged log -> an ``Upload``; ``UserInputError`` if unusable."""
    from mlel.results.table import result_row

    try:
        _, payload = contents.split(",", 1)
        raw = base64.b64decode(payload, validate=True)
    except (ValueError, binascii.Error) as exc:
        raise UserInputError(f"{filename}: the browser sent something that is not a file") from exc
    if len(raw) > MAX_UPLOAD_BYTES:
        raise UserInputError(f"{filename}: {len(raw) / 1e6:.1f} MB is too large (at most {MAX_UPLOAD_BYTES / 1e6:.0f} MB per merged log)")
    try:
        record = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise UserInputError(f"{filename}: not JSON ({exc})") from exc
    try:
        row = result_row(record, filename)
    except SchemaError as exc:
        raise UserInputError(str(exc)) from exc
    if row is None:
        raise UserInputError(f"{filename}: neither an mlel merged results file nor an MLEE log")
    digest = hashlib.sha256(raw).hexdigest()[:16]
    row = dict(row)
    row["run_id"] = f"upload-{digest}-{row.get('run_id', '')}"
    row["source"] = f"upload ({row.get('source', '')})"
    row["path"] = ""
    row = {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in row.items()}
    return Upload(digest=digest, rows=(row,), logs={row["run_id"]: record})


def uploads_from_store(stored: list | None) -> tuple[Upload, ...]:
    """The ``dcc.Store`` form of the uploads back into ``Upload`` records."""
    return tuple(
        Upload(digest=u["digest"], rows=tuple(u["rows"]), logs=u.get("logs", {}))
        for u in (stored or [])
    )


def uploads_to_store(uploads: Sequence[Upload]) -> list:
    return [{"digest": u.digest, "rows": list(u.rows), "logs": dict(u.logs)} for u in uploads]
