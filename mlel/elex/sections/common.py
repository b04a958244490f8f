"""Callback inputs several sections share, and the step from those inputs to a rated, filtered table."""

from __future__ import annotations

import logging

import pandas as pd
from dash import ALL, Input, State

from mlel.elex import ids
from mlel.elex.data import ResultsData, uploads_from_store
from mlel.elex.view import settings_from_controls, filter_table
from mlel.errors import MlelError

log = logging.getLogger(__name__)

FILTER_INPUTS = dict(
    task=Input(ids.FILTER_TASK, "value"),
    model=Input(ids.FILTER_MODEL, "value"),
    backend=Input(ids.FILTER_BACKEND, "value"),
    environment=Input(ids.FILTER_ENVIRONMENT, "value"),
    dataset=Input(ids.FILTER_DATASET, "value"),
    uploads=Input(ids.STORE_UPLOADS, "data"),
)
RATING_INPUTS = dict(
    reference=Input(ids.RATING_REFERENCE, "value"),
    mode=Input(ids.RATING_MODE, "value"),
    weights=Input({"type": ids.WEIGHT, "metric": ALL}, "value"),
    weight_ids=State({"type": ids.WEIGHT, "metric": ALL}, "id"),
    bounds=Input({"type": ids.BOUNDARY, "metric": ALL}, "value"),
    bound_ids=State({"type": ids.BOUNDARY, "metric": ALL}, "id"),
)


def selections(model, backend, environment, dataset) -> dict:
    return {"model": model, "backend": backend, "environment": environment, "dataset": dataset}


def filtered_values(data: ResultsData, task, model, backend, environment, dataset, uploads) -> pd.DataFrame:
    """The runs of ``task`` (loaded and uploaded) that pass the filters; values only, no ratings."""
    table = data.combined(uploads_from_store(uploads))
    return filter_table(table[table["task"] == task], selections(model, backend, environment, dataset))


def rated_view(data: ResultsData, task, model, backend, environment, dataset, uploads, reference, mode,
               weights, weight_ids, bounds, bound_ids) -> tuple[pd.DataFrame, pd.DataFrame, str | None]:
    """(all rated runs of the task, the filtered ones, an error message or None)."""
    settings = settings_from_controls(task, reference, mode, weights, weight_ids, bounds, bound_ids)
    try:
        rated = data.rated(settings, uploads_from_store(uploads))
    except MlelError as exc:
        log.info("cannot rate: %s", exc)
        empty = data.table.iloc[0:0]
        return empty, empty, str(exc)
    return rated, filter_table(rated, selections(model, backend, environment, dataset)), None
