"""The experiment folder: one self-describing directory per run (docs/experiment-folder.md).

Write order makes a half-written folder recognisable: ``status.json`` first (``running``),
then ``config.json`` and ``platform.json``, the streamed ``power/*.csv`` and ``run.log``,
``results.json`` and the model at the end, and ``COMPLETE`` last. A folder without
``COMPLETE`` is incomplete, whatever else it holds; ``status.json`` says why
(``interrupted`` by a signal, ``failed`` with the error, or still ``running``, e.g. after SIGKILL).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Iterator

from mlel.errors import IncompleteExperimentError, RunInterrupted, SchemaError, UserInputError  # noqa: F401 - RunInterrupted lives here for callers
from mlel.experiments.datasets import dataset_slug

log = logging.getLogger(__name__)

CONFIG_SCHEMA = "mlel.experiment/1"
STATUS_FILE, CONFIG_FILE, PLATFORM_FILE, RESULTS_FILE = "status.json", "config.json", "platform.json", "results.json"
COMPLETE_FILE, LOG_FILE, POWER_DIR, SPLIT_FILE = "COMPLETE", "run.log", "power", "split.npz"
STATES = ("running", "complete", "failed", "interrupted")


def now_iso() -> str:
    return datetime.now().astimezone().isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class ExperimentOutcome:
    """What ``run_training`` / ``run_inference`` return."""

    folder: Path
    results: dict
    summary: str = ""
    config: dict = field(default_factory=dict)


def check_output_dir(output_dir: str | os.PathLike, option: str = "--output-dir") -> Path:
    """Fail early, before any work, when ``output_dir`` cannot take files; ``option`` names it in the message."""
    import tempfile

    if str(output_dir).strip() == "":
        raise UserInputError(f"{option} is empty; pass a folder (it is created if needed)")
    output_dir = Path(output_dir)
    if output_dir.exists() and not output_dir.is_dir():
        raise UserInputError(f"{option} {str(output_dir)!r} is a file, not a folder; pass a folder (it is created if needed)")
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=output_dir):
            pass
    except OSError as exc:
        raise UserInputError(
            f"{option} {str(output_dir)!r} is not writable ({exc.strerror or exc}); pass a writable folder"
        ) from exc
    return output_dir


class ExperimentFolder:
    def __init__(self, path: Path):
        self.path = Path(path)

    @classmethod
    def create(cls, output_dir: Path, task: str, model: str, dataset: str, backend: str) -> "ExperimentFolder":
        """Make ``<output_dir>/<task>_<model>_<dataset>_<backend>_<timestamp>/`` and write ``status.json``."""
        output_dir = Path(output_dir)
        try:
            output_dir.mkdir(parents=True, exist_ok=True)
            for _ in range(100):
                stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
                path = output_dir / f"{task}_{model}_{dataset_slug(dataset)}_{backend}_{stamp}"
                try:
                    path.mkdir()
                    break
                except FileExistsError:
                    continue
            else:
                raise FileExistsError(f"could not create a fresh folder in {output_dir}")
            folder = cls(path)
            folder.set_status("running")
        except OSError as exc:
            raise UserInputError(
                f"the output directory {str(output_dir)!r} is not writable ({exc.strerror or exc}); "
                "pass a writable --output-dir"
            ) from exc
        return folder

    # -- files ----------------------------------------------------------------------------
    @property
    def power_dir(self) -> Path:
        return self.path / POWER_DIR

    def write_json(self, name: str, data: dict) -> Path:
        """Write atomically (temporary file + rename): a reader never sees half a JSON file."""
        target = self.path / name
        tmp = target.with_name(f".{name}.tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2, default=_json_default)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
        return target

    def set_status(self, state: str, reason: str | None = None) -> None:
        assert state in STATES, state
        self.write_json(STATUS_FILE, {"state": state, "reason": reason, "updated": now_iso()})

    def mark_complete(self) -> None:
        """Status ``complete``, then the ``COMPLETE`` marker: always the last file written."""
        self.set_status("complete")
        self.write_json(COMPLETE_FILE, {"finished": now_iso()})

    @contextlib.contextmanager
    def guard(self) -> Iterator["ExperimentFolder"]:
        """Run the experiment inside: streams ``run.log``; SIGINT/SIGTERM (main thread only) and
        exceptions leave ``status.json`` saying ``interrupted``/``failed`` with the reason, no ``COMPLETE``."""
        handler = _attach_log(self.path / LOG_FILE)
        previous = _install_signal_handlers()
        try:
            yield self
        except RunInterrupted as exc:
            exc.folder = self.path
            log.warning("%s; the folder stays incomplete: %s", exc, self.path)
            self.set_status("interrupted", str(exc))
            raise
        except KeyboardInterrupt:
            log.warning("interrupted (KeyboardInterrupt); the folder stays incomplete: %s", self.path)
            self.set_status("interrupted", "interrupted by KeyboardInterrupt")
            raise
        except BaseException as exc:
            log.error("run failed: %s: %s", type(exc).__name__, exc)
            self.set_status("failed", f"{type(exc).__name__}: {exc}")
            raise
        finally:
            _restore_signal_handlers(previous)
            _detach_log(handler)


def _json_default(value):
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if hasattr(value, "value"):  # enums
        return value.value
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _raise_interrupt(signum, frame):
    # One-shot: a second Ctrl-C while the folder is being marked must not cut that short.
    for other in (signal.SIGINT, signal.SIGTERM):
        signal.signal(other, signal.SIG_IGN)
    raise RunInterrupted(signum)


@contextlib.contextmanager
def signals_interrupt() -> Iterator[None]:
    """SIGINT and SIGTERM raise ``RunInterrupted`` inside (main thread; elsewhere nothing changes):
    for work made of several runs (``--repeat``, a search), so that a signal between two runs stops
    as cleanly as one inside a run. A run's own guard takes over while it runs."""
    previous = _install_signal_handlers()
    try:
        yield
    finally:
        _restore_signal_handlers(previous)


@contextlib.contextmanager
def signals_ignored() -> Iterator[None]:
    """SIGINT and SIGTERM are ignored inside (main thread): work that must finish once stopping has
    begun, such as writing what an interrupted search found."""
    previous = _install_signal_handlers(signal.SIG_IGN)
    try:
        yield
    finally:
        _restore_signal_handlers(previous)


def _install_signal_handlers(handler=_raise_interrupt) -> dict:
    # Signal handlers can only be set from the main thread; in-process callers on other threads
    # (e.g. a search running experiments in a worker) still get failed/complete status.
    if threading.current_thread() is not threading.main_thread():
        return {}
    previous = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        previous[signum] = signal.signal(signum, handler)
    return previous


def _restore_signal_handlers(previous: dict) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, handler if handler is not None else signal.SIG_DFL)


def _attach_log(path: Path) -> logging.Handler:
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(logging.INFO)
    logger = logging.getLogger("mlel")
    handler._mlel_previous_level = logger.level  # restored on detach
    if logger.getEffectiveLevel() > logging.INFO:
        logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    return handler


def _detach_log(handler: logging.Handler) -> None:
    logger = logging.getLogger("mlel")
    logger.removeHandler(handler)
    logger.setLevel(handler._mlel_previous_level)
    handler.close()


# -- reading ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExperimentRecord:
    path: Path
    config: dict
    results: dict
    platform: dict


def read_json(path: Path) -> dict:
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except FileNotFoundError as exc:
        raise IncompleteExperimentError(f"{str(path)!r} is missing") from exc
    except (OSError, ValueError) as exc:
        raise SchemaError(f"cannot read {str(path)!r}: {exc}") from exc


def load_experiment(path: Path, task: str | None = None) -> ExperimentRecord:
    """Read a finished experiment folder; raises if it is not one, or not complete."""
    path = Path(path)
    if path.is_file():
        raise UserInputError(f"{str(path)!r} is a file; pass the experiment folder that holds it")
    if not path.is_dir():
        raise UserInputError(f"experiment folder not found: {str(path)!r}")
    if not (path / CONFIG_FILE).is_file():
        raise UserInputError(f"{str(path)!r} is not an experiment folder (no {CONFIG_FILE})")
    if not (path / COMPLETE_FILE).is_file():
        status = {}
        with contextlib.suppress(Exception):
            status = read_json(path / STATUS_FILE)
        state = status.get("state", "unknown")
        reason = f": {status['reason']}" if status.get("reason") else ""
        raise IncompleteExperimentError(
            f"experiment folder {str(path)!r} is incomplete (no {COMPLETE_FILE}; status {state}{reason})"
        )
    config = read_json(path / CONFIG_FILE)
    if config.get("schema") != CONFIG_SCHEMA:
        raise SchemaError(f"{str(path / CONFIG_FILE)!r} has schema {config.get('schema')!r}; "
                          f"this version of mlel reads {CONFIG_SCHEMA!r}")
    if task is not None and config.get("task") != task:
        raise UserInputError(f"{str(path)!r} is an experiment of task {config.get('task')!r}; a {task!r} folder is needed")
    return ExperimentRecord(path=path, config=config, results=read_json(path / RESULTS_FILE),
                            platform=read_json(path / PLATFORM_FILE))
