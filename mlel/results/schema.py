"""Schema names and versions of the files this package reads and writes (docs/results-schema.md).

A reader accepts exactly the versions it knows and refuses anything else with a message that says
which file, which version it found and which it can read: a newer mlel may add fields a reader
here would silently misinterpret.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from mlel.errors import SchemaError

RESULTS_SCHEMA = "mlel.results/1"
"""Our merged results file (one per experiment): ``{"schema_version": RESULTS_SCHEMA, ...}``."""
RESULTS_SCHEMA_FAMILY = "mlel.results/"
EXPERIMENT_SCHEMA = "mlel.experiment/1"
"""``config.json`` of an experiment folder (docs/architecture.md, section 2)."""
BOUNDARIES_SCHEMA = "mlel.boundaries/1"
WEIGHTS_SCHEMA = "mlel.weights/1"

READABLE_RESULTS_SCHEMAS = frozenset({RESULTS_SCHEMA})


def check_results_schema(record: dict, where: str | os.PathLike) -> None:
    version = record.get("schema_version")
    if version not in READABLE_RESULTS_SCHEMAS:
        raise SchemaError(
            f"{where}: results schema {version!r} cannot be read by this version of mlel "
            f"(it reads {', '.join(sorted(READABLE_RESULTS_SCHEMAS))}); update mlel or re-merge the experiment"
        )


def read_json(path: str | os.PathLike, what: str | None = None) -> Any:
    """Parse a JSON file; a missing, truncated or invalid file is a ``SchemaError`` naming it."""
    path = Path(path)
    label = what or str(path)
    try:
        with open(path, "rb") as f:
            return json.loads(f.read())
    except FileNotFoundError as exc:
        raise SchemaError(f"missing {label}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SchemaError(f"truncated or invalid JSON in {label}: {exc}") from exc


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a reader (or a kill) never sees half a file: a temporary
    file in the same folder (a hidden ``.name.*.tmp`` that readers ignore), fsync, then ``os.replace``."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        # mkstemp creates 0600; results are shared files, so give them the usual umask-based mode
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def json_bytes(obj: Any, indent: int | None = 1) -> bytes:
    """Strict JSON (no NaN or infinity: other readers reject them); ValueError/TypeError if it cannot be."""
    return json.dumps(obj, indent=indent, allow_nan=False, default=_json_default).encode()


def atomic_write_json(path: str | os.PathLike, obj: Any, indent: int | None = 1) -> None:
    atomic_write_bytes(path, json_bytes(obj, indent))


def _json_default(value):
    # numpy scalars and enums reach here; everything else is a bug worth a TypeError
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "value"):
        return value.value
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
