"""ELEx's thin layer over ``mlel.ratings``: defaults for the page and the settings files' round trip."""

from __future__ import annotations

import json
import logging

import pandas as pd

from mlel.errors import MlelError, UserInputError
from mlel.ratings import (DEFAULT_MODE, MODES, boundaries_document, boundaries_from_document, metric_specs,
                          most_widespread_model, rate_results, resolve_weights, weights_document, weights_from_document)
from mlel.ratings.metrics import MLEE_REFERENCE_MODEL

log = logging.getLogger(__name__)

__all__ = ["DEFAULT_MODE", "MODES", "default_reference", "rate", "references", "settings_file", "read_settings_file"]


def default_reference(table: pd.DataFrame, task: str) -> str | None:
    """MLEE's ResNet101 where it ran ``task`` (the reference of the paper, and the label generator's
    default: a label in ELEx and one from the command line rate alike); else the model that ran
    ``task`` in the most (environment, data set) groups, so the fewest runs go unrated (ties: the
    alphabetically first)."""
    if (table.loc[table["task"] == task, "model"] == MLEE_REFERENCE_MODEL).any():
        return MLEE_REFERENCE_MODEL
    return most_widespread_model(table, task)


def references(table: pd.DataFrame, task: str, preferred: str | None) -> dict[str, str]:
    """Environment -> reference model: ``preferred`` where it ran, elsewhere that environment's most
    common model. An environment is hardware *and* backend, so no single model (a scikit-learn one
    or a PyTorch one) can be the reference everywhere."""
    sub = table[table["task"] == task].drop_duplicates(["environment", "dataset", "model"])
    chosen = {}
    for env, rows in sub.groupby("environment", sort=True):
        models = rows.groupby("model").size().sort_index()
        chosen[str(env)] = preferred if preferred in models.index else str(models.idxmax())
    return chosen


def rate(table: pd.DataFrame, settings) -> pd.DataFrame:
    """Rate ``table`` (one task) with ``settings`` (a ``mlel.elex.data.RatingSettings``).

    Runs in a group without the reference model are left out (``mlel.ratings`` logs them); the
    boundaries, weights and mode used are in ``result.attrs``.
    """
    if table.empty:
        empty = table.copy()
        empty.attrs = {"task": settings.task, "boundaries": {}, "weights": resolve_weights(settings.task), "mode": settings.mode}
        return empty
    reference = references(table, settings.task, settings.reference)
    return rate_results(table, settings.task, reference, boundaries=settings.boundaries,
                        weights=settings.weights, mode=settings.mode, missing_reference="drop")


def settings_file(kind: str, values: dict, task: str) -> bytes:
    """The bytes of a boundaries or weights file in ``mlel.ratings``' format (readable by its CLI)."""
    from mlel.results.schema import json_bytes

    if kind == "boundaries":
        return json_bytes(boundaries_document(values, task, quantiles=None), indent=2)
    if kind == "weights":
        return json_bytes(weights_document(values, task), indent=2)
    raise UserInputError(f"The 'kind' parameter must be one of 'boundaries', 'weights'; got {kind!r}")


def read_settings_file(raw: bytes, task: str) -> tuple[str, dict]:
    """A boundaries or weights file (bytes) -> ``("boundaries"|"weights", values)``; ``UserInputError`` if neither."""
    try:
        content = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise UserInputError(f"not a JSON file ({exc})") from exc
    names = {s.name for s in metric_specs(task)}
    schema = content.get("schema", "") if isinstance(content, dict) else ""
    if schema.startswith("mlel.weights") or (isinstance(content, dict) and not schema and content
                                             and all(isinstance(v, (int, float)) for v in content.values())):
        kind = "weights"
    elif schema.startswith("mlel.boundaries") or (isinstance(content, dict) and set(content) & names):
        kind = "boundaries"
    else:
        raise UserInputError("neither a boundaries file (metric -> 4 index values) nor a weights file (metric -> weight)")
    try:
        values = boundaries_from_document(content, task) if kind == "boundaries" else weights_from_document(content, task)
    except MlelError as exc:
        raise UserInputError(str(exc)) from exc
    return kind, values
