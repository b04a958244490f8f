"""From the page's controls to tables: the small pure steps every callback shares."""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import pandas as pd

from mlel.elex.data import RatingSettings
from mlel.ratings import metric_specs

# columns worth plotting beside the rated metrics, when the table has them
EXTRA_AXES = ("power_mean_w", "energy_j", "time_s", "co2eq_g", "n_train_samples", "balanced_accuracy", "f1_weighted")


def rated_metrics(task: str) -> list[str]:
    return [s.name for s in metric_specs(task)]


def higher_is_better(task: str, metric: str) -> bool:
    for spec in metric_specs(task):
        if spec.column == metric:
            return spec.higher_is_better
    return metric in {"accuracy", "balanced_accuracy", "f1_weighted", "precision_weighted", "recall_weighted"}


def axis_choices(table: pd.DataFrame, task: str) -> list[str]:
    """Rated metrics first, then other columns that have values for this task."""
    sub = table[table["task"] == task]
    extras = [c for c in EXTRA_AXES if c in sub and c not in rated_metrics(task) and sub[c].notna().any()]
    return rated_metrics(task) + extras


def default_axes(task: str) -> tuple[str, str]:
    names = rated_metrics(task)
    return names[0], "accuracy"


def filter_table(df: pd.DataFrame, selections: dict[str, Sequence[str] | None]) -> pd.DataFrame:
    """Rows whose column is in the selection; an empty selection means "all"."""
    mask = np.ones(len(df), dtype=bool)
    for column, chosen in selections.items():
        if chosen:
            mask &= df[column].isin(list(chosen)).to_numpy()
    return df[mask] if not mask.all() else df


def plotted_column(df: pd.DataFrame, metric: str, use_index: bool) -> str:
    """``<metric>_index`` in index mode when the metric is rated, else the value column."""
    return f"{metric}_index" if use_index and f"{metric}_index" in df else metric


# slider positions are log10 of the index: 0.01x .. 100x the reference fits on one slider
def boundaries_to_slider(values: Sequence[float]) -> list[float]:
    return sorted(round(math.log10(max(float(v), 1e-12)), 4) for v in values)


def slider_to_boundaries(positions: Sequence[float]) -> list[float]:
    return sorted((10 ** float(p) for p in positions), reverse=True)


def slider_range(positions: Sequence[float]) -> tuple[float, float]:
    """The slider's ends (log10 of the index): at least 0.1x..10x around boundaries that span half a
    decade or more; zoomed in around narrow ones (accuracy indices of 0.99..1.02 would sit on one
    spot of a 0.1x..10x slider), always with the reference's 1x inside."""
    low, high = min(min(positions, default=0), 0.0), max(max(positions, default=0), 0.0)
    if high - low >= 0.5:
        return min(-1.0, math.floor(low * 2) / 2), max(1.0, math.ceil(high * 2) / 2)
    pad = max(0.5 * (high - low), 0.005)
    # room to drag a boundary to 0.9x or 1.1x, however close together the boundaries start
    return round(min(low - pad, math.log10(0.9)), 4), round(max(high + pad, math.log10(1.1)), 4)


def slider_marks(low: float, high: float) -> dict[float, str]:
    """Marks in "x the reference": whole decades on a wide slider, the ends and 1x on a narrow one."""
    if high - low >= 1.0:
        return {p: f"{10 ** p:g}x" for p in range(math.ceil(low), math.floor(high) + 1)}
    return {low: f"{10 ** low:.3g}x", 0: "1x", high: f"{10 ** high:.3g}x"}


def settings_from_controls(task: str, reference: str | None, mode: str, weight_values, weight_ids,
                           boundary_values, boundary_ids) -> RatingSettings:
    """The rating settings the sidebar shows. Widgets of another task (during a task switch) are ignored."""
    names = set(rated_metrics(task))
    weights = {i["metric"]: float(v) for v, i in zip(weight_values or [], weight_ids or []) if i["metric"] in names and v is not None}
    bounds = {i["metric"]: slider_to_boundaries(v) for v, i in zip(boundary_values or [], boundary_ids or [])
              if i["metric"] in names and v and len(v) == 4}
    if sum(weights.values()) <= 0:
        weights = {}
    return RatingSettings(
        task=task, reference=reference, mode=mode,
        boundaries_json=RatingSettings.canonical(bounds if set(bounds) == names else None),
        weights_json=RatingSettings.canonical(weights if set(weights) == names else None),
    )


SEARCH_ENERGY_TITLES = {
    "train": "Training energy [J]",
    "infer": "Energy per prediction [J]",
    "train+infer": "Training + {predictions:,} predictions: energy [J]",
}


def rating_settings_text(settings: RatingSettings, default_boundaries: dict) -> str:
    """What differs from the default rating, for a label ("pessimistic mean, custom weights"), as the
    label generator says it: the mode, weights other than the defaults, boundaries other than the
    quantiles (``default_boundaries``; the sliders round them, so within 0.1 %)."""
    from mlel.labels.data import describe_rating
    from mlel.ratings import DEFAULT_WEIGHTS

    bounds = settings.boundaries or {}
    moved = any(not math.isclose(float(a), float(b), rel_tol=1e-3)
                for metric, values in bounds.items() for a, b in zip(values, default_boundaries.get(metric, values)))
    weights = settings.weights or {}
    defaults = DEFAULT_WEIGHTS[settings.task]
    total, default_total = sum(weights.values()), sum(defaults.values())
    reweighted = bool(weights) and total > 0 and any(
        not math.isclose(weights.get(m, 0.0) / total, w / default_total, rel_tol=1e-6) for m, w in defaults.items())
    return describe_rating(settings.mode, moved, reweighted)


def search_objective(runs: pd.DataFrame) -> str:
    """The results-table column a search chose on (``search_objective``); accuracy for searches that
    did not record it."""
    if "search_objective" in runs:
        recorded = set(runs["search_objective"].fillna("").astype(str)) - {""}
        if len(recorded) == 1 and recorded <= set(runs.columns):
            return recorded.pop()
    return "accuracy"


def search_evaluations(runs: pd.DataFrame, task: str = "train") -> tuple[pd.DataFrame, str, int]:
    """One trade-off search's runs -> one row per evaluation with the energy the search optimised, that
    energy's axis title, and how many evaluations were left out for want of their inference run.

    A search records its energy objective in every run (``search_energy``: ``train``, ``infer`` or
    ``train+infer``, with ``search_predictions``); an evaluation of an ``infer`` mode is a training
    and an inference run with the same ``search_index``, so its energy is rebuilt from both:
    ``train+infer`` = training energy + predictions x energy per prediction. The utility is the test
    accuracy of the training run. Runs of searches older than those columns fall back to ``task``'s
    own energy, one row per run of that task. Of runs sharing a ``search_index`` (an evaluation
    interrupted and run again on ``--resume``) the latest counts. The utility column is the metric
    the search chose on (``search_objective``: accuracy, or f1_weighted for ``--objective f1``).
    """
    objective = search_objective(runs)
    columns = ["search_index", "run_id", "model", "date", "energy_j", objective, "energy_is_estimate"]
    mode = ""
    if "search_energy" in runs and "search_index" in runs:
        modes = set(runs["search_energy"].fillna("").astype(str)) & set(SEARCH_ENERGY_TITLES)
        mode = modes.pop() if len(modes) == 1 else ""
    if not mode or runs["search_index"].isna().all():
        own = runs[runs["task"] == task]
        energy = "energy_per_sample_j" if task == "infer" else "energy_j"
        out = own.assign(energy_j=own[energy]).sort_values("date", kind="stable")
        title = "Energy per sample [J]" if task == "infer" else "Energy [J]"
        out = out.assign(search_index=np.arange(1, len(out) + 1, dtype=float))
        return out[columns].reset_index(drop=True), title, 0
    latest = runs.sort_values("date", kind="stable")
    train = latest[latest["task"] == "train"].drop_duplicates("search_index", keep="last").set_index("search_index")
    infer = latest[latest["task"] == "infer"].drop_duplicates("search_index", keep="last").set_index("search_index")
    predictions = float(pd.to_numeric(runs["search_predictions"], errors="coerce").dropna().iloc[0]) \
        if mode == "train+infer" and runs["search_predictions"].notna().any() else 0.0
    rows, missing = [], 0
    for index in sorted(train.index):
        t = train.loc[index]
        if mode == "train":
            energy, estimated = t["energy_j"], bool(t["energy_is_estimate"])
        elif index not in infer.index:
            missing += 1  # the inference run of an infer mode is missing (failed, or not merged): no energy
            continue
        else:
            i = infer.loc[index]
            per = i["energy_per_sample_j"]
            energy = per if mode == "infer" else t["energy_j"] + predictions * per
            estimated = bool(t["energy_is_estimate"]) or bool(i["energy_is_estimate"])
        rows.append({"search_index": float(index), "run_id": t["run_id"], "model": t["model"], "date": t["date"],
                     "energy_j": float(energy), objective: float(t[objective]), "energy_is_estimate": estimated})
    title = SEARCH_ENERGY_TITLES[mode].format(predictions=int(predictions))
    return pd.DataFrame(rows, columns=columns), title, missing
