"""MLEE-style ratings: pure functions over the results table (see ``mlel.ratings.core``).

Main entry: ``rate_results(df, task, reference, boundaries=None, weights=None, mode="optimistic median")``.
Command line: ``python -m mlel.ratings --results results/ --task inference --reference ResNet101``.
"""

from mlel.ratings.core import (
    DEFAULT_MODE,
    GROUP_COLUMNS,
    MODES,
    QUANTILES,
    check_boundaries,
    compound_rating,
    compound_ratings,
    compute_boundaries,
    compute_indices,
    index_values,
    load_boundaries,
    load_weights,
    most_widespread_model,
    normalise_mode,
    rate_results,
    rated_alone,
    ratings_from_index,
    references_by_group,
    resolve_weights,
    save_boundaries,
    save_weights,
)
from mlel.ratings.metrics import (
    DEFAULT_WEIGHTS,
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

__all__ = [
    "DEFAULT_MODE", "DEFAULT_WEIGHTS", "GROUP_COLUMNS", "MODES", "N_RATINGS", "QUANTILES", "RATING_COLOURS",
    "RATING_LETTERS", "TASKS", "TASK_METRICS", "MetricSpec", "check_boundaries", "compound_rating",
    "compound_ratings", "compute_boundaries", "compute_indices", "index_values", "load_boundaries",
    "load_weights", "metric_spec", "metric_specs", "most_widespread_model", "normalise_mode", "normalise_task",
    "rate_results", "rated_alone", "rating_colour", "rating_letter", "ratings_from_index", "references_by_group",
    "resolve_weights",
    "save_boundaries", "save_weights",
]
