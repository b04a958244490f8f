"""MLEE-style ratings: pure functions over the results table (see ``mlel.ratings.core``).

Main entry: ``rate_results(df, task, reference, boundaries=None, weights=None, mode="optimistic median")``.
Command line: ``python -m mlel.ratings --results results/ --task inference --reference ResNet101``.

The metric definitions load with the package; the functions of ``core`` (and pandas with them) on
first use, so that what only needs the definitions (``--help``, the label data model) stays light.
"""

import importlib

from mlel.ratings.metrics import (
    DEFAULT_MODE,
    DEFAULT_WEIGHTS,
    MODES,
    N_RATINGS,
    RATING_COLOURS,
    RATING_LETTERS,
    TASK_METRICS,
    TASKS,
    MetricSpec,
    metric_spec,
    metric_specs,
    normalise_task,
    rating_colour,
    rating_letter,
)

_CORE = frozenset({
    "GROUP_COLUMNS", "QUANTILES", "boundaries_document", "boundaries_from_document", "weights_document",
    "weights_from_document", "check_boundaries", "compound_rating", "compound_ratings", "compute_boundaries",
    "compute_indices", "index_values", "load_boundaries", "load_weights", "most_widespread_model", "normalise_mode",
    "rate_results", "rated_alone", "ratings_from_index", "references_by_group", "resolve_weights",
    "save_boundaries", "save_weights",
})

__all__ = [
    "DEFAULT_MODE", "DEFAULT_WEIGHTS", "GROUP_COLUMNS", "boundaries_document", "boundaries_from_document",
    "weights_document", "weights_from_document", "MODES", "N_RATINGS", "QUANTILES", "RATING_COLOURS",
    "RATING_LETTERS", "TASKS", "TASK_METRICS", "MetricSpec", "check_boundaries", "compound_rating",
    "compound_ratings", "compute_boundaries", "compute_indices", "index_values", "load_boundaries",
    "load_weights", "metric_spec", "metric_specs", "most_widespread_model", "normalise_mode", "normalise_task",
    "rate_results", "rated_alone", "rating_colour", "rating_letter", "ratings_from_index", "references_by_group",
    "resolve_weights",
    "save_boundaries", "save_weights",
]


def __getattr__(name: str):
    if name in _CORE:
        return getattr(importlib.import_module("mlel.ratings.core"), name)
    raise AttributeError(f"module 'mlel.ratings' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _CORE)
