"""Indices, boundaries, ratings and compound ratings: pure functions over the results table.

- **Index** of a metric: the run's value against the reference model's value in the same
  environment and data set, ``value / ref`` when higher is better, ``ref / value`` otherwise, so
  that an index above 1 always means "better than the reference" and the unit of the metric cancels.
- **Boundaries**: four index values per metric, from best to worst, by default the 80/60/40/20 %
  quantiles of the indices. Rating 0 (A) when ``index > b[0]``, 1 (B) when ``b[1] < index <= b[0]``,
  ..., 4 (E) when ``index <= b[3]``. A missing index (no value) rates 4 (E), as in MLEE.
- **Compound rating**: the metric ratings combined with weights (zero-weight metrics are ignored):

  - ``"optimistic mean"`` / ``"pessimistic mean"``: weighted mean of the ratings, rounded down
    (towards A) / up (towards E).
  - ``"optimistic median"`` / ``"pessimistic median"``: a weighted median. With the weights
    normalised to sum 1, the *lower* weighted median is the smallest rating ``r`` with
    ``W(rating <= r) >= 1/2``, the *upper* one the largest ``r`` with ``W(rating >= r) >= 1/2``.
    They differ only at an exact 50 % tie (the cumulative weight reaches exactly 1/2 at one rating
    and the rest lies at worse ratings); then optimistic takes the lower (better) one and
    pessimistic the upper (worse) one. Both are always ratings that some metric actually has.
    (MLEE's code returned the rating *before* the 50 % crossing, which is not a median, and at an
    exact tie the rounded mean of the two neighbours, which may be a rating no metric has.)
  - ``"best"`` / ``"worst"``: the best / worst rating of any weighted metric.
"""

from __future__ import annotations

import json
import logging
import math
import os
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from mlel.errors import SchemaError, UserInputError
from mlel.results.schema import BOUNDARIES_SCHEMA, WEIGHTS_SCHEMA
from mlel.ratings.metrics import (  # noqa: F401 - MODES and DEFAULT_MODE are read from here too
    DEFAULT_MODE,
    DEFAULT_WEIGHTS,
    MLEE_METRIC_NAMES,
    MODES,
    N_RATINGS,
    RATING_LETTERS,
    WORST_RATING,
    metric_specs,
    normalise_task,
)

log = logging.getLogger(__name__)

QUANTILES: tuple[float, ...] = (0.8, 0.6, 0.4, 0.2)
GROUP_COLUMNS: tuple[str, ...] = ("environment", "dataset")
_TIE_TOLERANCE = 1e-9  # cumulative weights and means are sums of floats: 0.1 + 0.2 + 0.2 must count as 0.5


# ----------------------------------------------------------------------------------------- indices

def index_values(values, reference, higher_is_better: bool) -> np.ndarray:
    """Index of ``values`` against ``reference`` (arrays broadcast): >1 is better than the reference.

    An index is a ratio of positive figures. A value or reference that is missing, zero or negative
    gives NaN (not rated, so E), as MLEE rated an index of 0 E: an energy of 0 J is a meter that
    recorded nothing, not a free model, and must not rate A."""
    values = np.asarray(values, dtype="float64")
    reference = np.asarray(reference, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        index = values / reference if higher_is_better else reference / values
    return np.where((values > 0) & (reference > 0), index, np.nan)


def references_by_group(df: pd.DataFrame, task: str) -> dict[tuple[str, str], list[str]]:
    """``(environment, dataset)`` -> sorted model names that ran ``task`` there (the possible references)."""
    task = normalise_task(task)
    sub = df[df["task"] == task]
    return {key: sorted(set(models)) for key, models in sub.groupby(list(GROUP_COLUMNS), sort=True)["model"]}


def most_widespread_model(df: pd.DataFrame, task: str, among=None) -> str | None:
    """The model (of ``among``, if given) that ran ``task`` in the most (environment, data set) groups, so
    that the fewest runs lack it as a reference; ties go to the alphabetically first. None if none ran."""
    sub = df[df["task"] == normalise_task(task)]
    groups = sub.drop_duplicates([*GROUP_COLUMNS, "model"]).groupby("model", observed=True).size()
    if among is not None:
        groups = groups[groups.index.isin(list(among))]
    if groups.empty:
        return None
    return str(groups[groups == groups.max()].sort_index().index[0])


def rated_alone(df: pd.DataFrame, task: str, environment: str, dataset: str, reference: str) -> bool:
    """Whether only ``reference`` ran ``task`` in that environment and data set: ratings there compare
    the reference with itself and say nothing."""
    sub = df[(df["task"] == normalise_task(task)) & (df["environment"] == environment) & (df["dataset"] == dataset)]
    return set(sub["model"].astype(str)) == {str(reference)}


def compute_indices(df: pd.DataFrame, task: str, reference, missing_reference: str = "raise") -> pd.DataFrame:
    """The rows of ``task`` with ``<metric>_index`` columns added and ``reference_model`` set.

    ``reference``: a model name, or a mapping environment -> model name. Several reference runs in
    one group are combined by their median. ``missing_reference``: ``"raise"`` (a ``UserInputError``
    that lists the models in each group lacking the reference) or ``"drop"`` (those rows are
    left out, with a warning)."""
    task = normalise_task(task)
    if missing_reference not in ("raise", "drop"):
        raise UserInputError(f"The 'missing_reference' parameter must be one of 'drop', 'raise'; got {missing_reference!r}")
    _require_columns(df, ["task", "model", *GROUP_COLUMNS, *(s.column for s in metric_specs(task))])
    sub = df[df["task"] == task]
    if isinstance(reference, Mapping):
        ref_model = sub["environment"].map(dict(reference))
    else:
        ref_model = pd.Series(str(reference), index=sub.index)
    is_ref = sub["model"].to_numpy() == ref_model.to_numpy()
    keys = list(GROUP_COLUMNS)
    columns = list(dict.fromkeys(s.column for s in metric_specs(task)))
    ref_values = sub.loc[is_ref].groupby(keys, sort=False)[columns].median()

    group_index = pd.MultiIndex.from_frame(sub[keys])
    has_ref = group_index.isin(ref_values.index)
    if not has_ref.all():
        missing = _missing_reference_message(sub.loc[~has_ref], reference, task)
        if missing_reference == "raise" or not has_ref.any():
            raise UserInputError(missing)
        log.debug("%s; those runs are not rated", missing)  # callers say it their way (the CLI's notes, ELEx's summary)
        sub = sub.loc[has_ref]
        ref_model = ref_model.loc[has_ref]
        group_index = group_index[has_ref]

    out = sub.copy()
    out["reference_model"] = ref_model.astype(str).to_numpy()
    aligned = ref_values.reindex(group_index)
    for spec in metric_specs(task):
        out[f"{spec.name}_index"] = index_values(out[spec.column].to_numpy(dtype="float64", na_value=np.nan),
                                                 aligned[spec.column].to_numpy(dtype="float64"), spec.higher_is_better)
    return out


def _missing_reference_message(rows: pd.DataFrame, reference, task: str) -> str:
    parts = []
    for (env, dataset), models in rows.groupby(list(GROUP_COLUMNS), sort=True)["model"]:
        names = sorted(set(models))
        wanted = reference.get(env) if isinstance(reference, Mapping) else reference
        shown = ", ".join(names[:12]) + (f", ... ({len(names)} models)" if len(names) > 12 else "")
        lacking = "no reference model chosen" if wanted is None else f"no {task} run of reference {wanted!r}"
        parts.append(f"environment {env!r} (dataset {dataset!r}) has {lacking}; references there: {shown}")
    return "; ".join(parts)


# -------------------------------------------------------------------------------------- boundaries

def compute_boundaries(indexed: pd.DataFrame, task: str, quantiles: Sequence[float] = QUANTILES) -> dict[str, list[float]]:
    """Per metric, the ``quantiles`` (best first) of the finite ``<metric>_index`` values in ``indexed``."""
    quantiles = _check_quantiles(quantiles)
    boundaries = {}
    for spec in metric_specs(task):
        values = indexed[f"{spec.name}_index"].to_numpy(dtype="float64")
        values = values[np.isfinite(values)]
        if values.size == 0:
            raise UserInputError(f"no finite {spec.name} index to derive rating boundaries from")
        boundaries[spec.name] = [float(b) for b in np.quantile(values, quantiles)]
    return boundaries


def _check_quantiles(quantiles) -> list[float]:
    q = [float(x) for x in quantiles]
    if len(q) != N_RATINGS - 1 or any(not 0 <= x <= 1 for x in q) or any(a < b for a, b in zip(q, q[1:])):
        raise UserInputError(f"quantiles must be {N_RATINGS - 1} fractions from high to low, e.g. {list(QUANTILES)}; got {q}")
    return q


def check_boundaries(boundaries: Mapping, task: str) -> dict[str, list[float]]:
    """Validated boundaries for every metric of ``task``: four numbers each, best first (non-increasing)."""
    checked = {}
    for spec in metric_specs(task):
        if spec.name not in boundaries:
            has = f"they have {', '.join(map(repr, boundaries))}" if boundaries else "they are empty"
            raise UserInputError(f"rating boundaries have no entry for {spec.name!r} ({has}); "
                                 f"{task} needs {', '.join(repr(s.name) for s in metric_specs(task))}")
        values = boundaries[spec.name]
        try:
            values = [float(v) for v in values]
        except (TypeError, ValueError) as exc:
            raise UserInputError(f"rating boundaries for {spec.name!r} must be numbers; got {values!r}") from exc
        if len(values) != N_RATINGS - 1 or any(a < b for a, b in zip(values, values[1:])) or any(math.isnan(v) for v in values):
            raise UserInputError(f"rating boundaries for {spec.name!r} must be {N_RATINGS - 1} numbers from best to worst "
                                 f"(non-increasing); got {values}")
        checked[spec.name] = values
    return checked


def ratings_from_index(index, boundaries: Sequence[float]) -> np.ndarray:
    """Ratings 0 (A) .. 4 (E) for an array of indices; NaN rates 4."""
    index = np.asarray(index, dtype="float64")
    b = np.asarray(boundaries, dtype="float64")
    ratings = (index[..., None] <= b).sum(axis=-1)
    return np.where(np.isnan(index), WORST_RATING, ratings).astype("int64")


# ----------------------------------------------------------------------------------- compound

def normalise_mode(mode: str) -> str:
    key = " ".join(str(mode).replace("_", " ").replace("-", " ").lower().split())
    if key not in MODES:
        raise UserInputError(f"The 'mode' parameter must be one of {', '.join(map(repr, MODES))}; got {mode!r}")
    return key


def compound_ratings(ratings, weights, mode: str = DEFAULT_MODE) -> np.ndarray:
    """Compound ratings of many runs at once: ``ratings`` is (runs x metrics) of ints 0..4,
    ``weights`` one non-negative weight per metric (zero-weight metrics are ignored)."""
    mode = normalise_mode(mode)
    r = np.asarray(ratings, dtype="int64")
    if r.ndim == 1:
        r = r[None, :]
    w = np.asarray(weights, dtype="float64")
    if w.ndim != 1 or w.shape[0] != r.shape[1]:
        raise UserInputError(f"one weight per metric: {r.shape[1]} metrics, got weights of shape {w.shape}")
    if (w < 0).any() or not np.isfinite(w).all() or w.sum() <= 0:
        raise UserInputError(f"weights must be finite, non-negative and not all zero; got {w.tolist()}")
    if ((r < 0) | (r > WORST_RATING)).any():
        raise UserInputError(f"ratings must be integers 0 (A) to {WORST_RATING} (E)")
    used = w > 0
    r, w = r[:, used], w[used] / w[used].sum()
    if mode == "best":
        return r.min(axis=1)
    if mode == "worst":
        return r.max(axis=1)
    if mode.endswith("mean"):
        mean = r @ w
        rounded = np.floor(mean + _TIE_TOLERANCE) if mode.startswith("optimistic") else np.ceil(mean - _TIE_TOLERANCE)
        return rounded.astype("int64")
    # weighted median: weight per rating level, then cumulative weight W(rating <= level)
    levels = np.arange(N_RATINGS)
    per_level = (r[:, :, None] == levels).astype("float64")          # runs x metrics x levels
    cumulative = np.cumsum(np.einsum("rml,m->rl", per_level, w), axis=1)
    if mode.startswith("optimistic"):
        return np.argmax(cumulative >= 0.5 - _TIE_TOLERANCE, axis=1).astype("int64")
    # largest r with W(rating >= r) = 1 - W(rating <= r-1) >= 1/2
    return (cumulative[:, :-1] <= 0.5 + _TIE_TOLERANCE).sum(axis=1).astype("int64")


def compound_rating(ratings, weights=None, mode: str = DEFAULT_MODE) -> int:
    """One run's compound rating. ``ratings``: a sequence of ints, or a mapping metric -> rating (then
    ``weights`` is a mapping metric -> weight; metrics it lacks weigh 0). Equal weights by default."""
    if isinstance(ratings, Mapping):
        names = list(ratings)
        values = [ratings[n] for n in names]
        w = [1.0] * len(names) if weights is None else [float(weights.get(n, 0.0)) for n in names]
    else:
        values = list(ratings)
        w = [1.0] * len(values) if weights is None else list(weights)
    return int(compound_ratings([values], w, mode)[0])


# ---------------------------------------------------------------------------------------- weights

def resolve_weights(task: str, weights: Mapping | None = None) -> dict[str, float]:
    """The defaults of ``task`` overridden by ``weights`` (metric -> weight); unknown names are an error."""
    task = normalise_task(task)
    resolved = dict(DEFAULT_WEIGHTS[task])
    if weights:
        if "weights" in weights and isinstance(weights["weights"], Mapping):  # a file's full content
            weights = weights["weights"]
        names = [s.name for s in metric_specs(task)]
        for name, value in weights.items():
            if name not in names:
                raise UserInputError(f"weights name an unknown {task} metric {name!r}; metrics: {', '.join(names)}")
            try:
                value = float(value)
            except (TypeError, ValueError) as exc:
                raise UserInputError(f"the weight of {name!r} must be a number; got {value!r}") from exc
            if not math.isfinite(value) or value < 0:
                raise UserInputError(f"the weight of {name!r} must be a finite non-negative number; got {value!r}")
            resolved[name] = value
    if sum(resolved.values()) <= 0:
        raise UserInputError("at least one metric weight must be positive")
    return resolved


# ------------------------------------------------------------------------------------ main entry

def rate_results(df: pd.DataFrame, task: str, reference, boundaries: Mapping | None = None,
                 weights: Mapping | None = None, mode: str = DEFAULT_MODE,
                 missing_reference: str = "raise") -> pd.DataFrame:
    """Rate the ``task`` runs of a results table (``mlel.results.load_results``).

    Returns those rows (a copy) with, for every metric of the task, ``<metric>_index`` and
    ``<metric>_rating`` (int, 0 = A .. 4 = E), plus ``reference_model``, ``compound_rating`` (int)
    and ``compound_rating_letter``. ``boundaries``: metric -> four index values, best first (or a
    boundaries file's content); ``None`` derives them from these runs' indices (``QUANTILES``).
    ``weights``: metric -> weight, overriding ``DEFAULT_WEIGHTS``. ``mode``: one of ``MODES``.
    The boundaries, weights and mode used are in ``result.attrs``.
    """
    task = normalise_task(task)
    mode = normalise_mode(mode)
    resolved_weights = resolve_weights(task, weights)
    out = compute_indices(df, task, reference, missing_reference=missing_reference)
    if boundaries is None:
        used_boundaries = compute_boundaries(out, task) if len(out) else {}
    else:
        if "boundaries" in boundaries and isinstance(boundaries["boundaries"], Mapping):
            boundaries = boundaries["boundaries"]
        used_boundaries = check_boundaries(boundaries, task)
    specs = metric_specs(task)
    rating_columns = []
    for spec in specs:
        column = f"{spec.name}_rating"
        if len(out):
            out[column] = ratings_from_index(out[f"{spec.name}_index"].to_numpy(), used_boundaries[spec.name])
        else:
            out[column] = pd.Series(dtype="int64")
        rating_columns.append(column)
    if len(out):
        out["compound_rating"] = compound_ratings(out[rating_columns].to_numpy(),
                                                  [resolved_weights[s.name] for s in specs], mode)
    else:
        out["compound_rating"] = pd.Series(dtype="int64")
    out["compound_rating_letter"] = np.asarray(RATING_LETTERS, dtype=object)[out["compound_rating"].to_numpy(dtype="int64")]
    out["compound_rating_letter"] = out["compound_rating_letter"].astype(str)
    out.attrs = {"task": task, "boundaries": used_boundaries, "weights": resolved_weights, "mode": mode}
    return out


def _require_columns(df: pd.DataFrame, columns) -> None:
    missing = [c for c in dict.fromkeys(columns) if c not in df.columns]
    if missing:
        raise UserInputError(f"the results table lacks the column(s) {', '.join(missing)} (see mlel.results.load_results)")


# -------------------------------------------------------------------------------------- files

def boundaries_document(boundaries: Mapping, task: str | None = None,
                        quantiles: Sequence[float] | None = QUANTILES) -> dict:
    """The JSON document ``save_boundaries`` writes (pure: no file)."""
    return {"schema": BOUNDARIES_SCHEMA, "task": normalise_task(task) if task else None,
            "quantiles": list(quantiles) if quantiles is not None else None,
            "boundaries": {k: [float(x) for x in v] for k, v in boundaries.items()}}


def boundaries_from_document(content, task: str | None = None, source: str = "the file") -> dict[str, list[float]]:
    """Boundaries from a parsed document: ``boundaries_document``'s, or a plain ``{metric: [4 numbers]}``
    in our metric names or in MLEE's (its ``boundaries.json`` as published, read with ``task``).
    ``source`` names the document in messages."""
    if isinstance(content, dict) and "schema" in content:
        if content["schema"] != BOUNDARIES_SCHEMA:
            raise SchemaError(f"{source}: boundaries schema {content['schema']!r} cannot be read (this mlel reads {BOUNDARIES_SCHEMA!r})")
        if task and content.get("task") and content["task"] != normalise_task(task):
            raise UserInputError(f"{source} holds boundaries for task {content['task']!r}, not {normalise_task(task)!r}")
        content = content.get("boundaries")
    if not isinstance(content, dict):
        raise SchemaError(f"{source}: rating boundaries must be a JSON object metric -> [4 numbers]")
    if task:
        return check_boundaries(_from_mlee_names(content, task), task)
    return {k: [float(x) for x in v] for k, v in content.items()}


def save_boundaries(boundaries: Mapping, path: str | os.PathLike, task: str | None = None,
                    quantiles: Sequence[float] | None = QUANTILES) -> None:
    from mlel.results.schema import atomic_write_json

    atomic_write_json(path, boundaries_document(boundaries, task, quantiles), indent=2)


def load_boundaries(path: str | os.PathLike, task: str | None = None) -> dict[str, list[float]]:
    """Read boundaries saved by ``save_boundaries`` (or a plain file: ``boundaries_from_document``)."""
    return boundaries_from_document(_read_json_file(path, "boundaries"), task, source=str(path))


def _from_mlee_names(boundaries: Mapping, task: str) -> dict:
    """MLEE's own boundaries.json (``inference_power_draw``, ``top1_val``, ...) under our metric names;
    boundaries already in our names are returned as they are."""
    names = MLEE_METRIC_NAMES[normalise_task(task)]
    mlee_only = {k for k, v in names.items() if k != v}
    ours_only = {spec.name for spec in metric_specs(task)} - set(names)
    if not mlee_only & set(boundaries) or ours_only & set(boundaries):
        return dict(boundaries)
    unread = sorted(set(boundaries) - set(names))
    if unread:
        log.info("MLEE boundaries: not rated here, so not read: %s", ", ".join(unread))
    return {names[k]: v for k, v in boundaries.items() if k in names}


def weights_document(weights: Mapping, task: str | None = None) -> dict:
    """The JSON document ``save_weights`` writes (pure: no file)."""
    return {"schema": WEIGHTS_SCHEMA, "task": normalise_task(task) if task else None,
            "weights": {k: float(v) for k, v in weights.items()}}


def weights_from_document(content, task: str, source: str = "the file") -> dict[str, float]:
    """Weights from a parsed document (``weights_document``'s or a plain ``{metric: weight}``),
    merged over the defaults."""
    if isinstance(content, dict) and "schema" in content:
        if content["schema"] != WEIGHTS_SCHEMA:
            raise SchemaError(f"{source}: weights schema {content['schema']!r} cannot be read (this mlel reads {WEIGHTS_SCHEMA!r})")
        content = content.get("weights")
    if not isinstance(content, dict):
        raise SchemaError(f"{source}: weights must be a JSON object metric -> weight")
    return resolve_weights(task, content)


def save_weights(weights: Mapping, path: str | os.PathLike, task: str | None = None) -> None:
    from mlel.results.schema import atomic_write_json

    atomic_write_json(path, weights_document(weights, task), indent=2)


def load_weights(path: str | os.PathLike, task: str) -> dict[str, float]:
    """Read weights (``save_weights``'s format or a plain ``{metric: weight}``) merged over the defaults."""
    return weights_from_document(_read_json_file(path, "weights"), task, source=str(path))


def _read_json_file(path, what: str):
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError as exc:
        raise UserInputError(f"{what} file not found: {path}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SchemaError(f"{path}: not valid JSON ({exc})") from exc
