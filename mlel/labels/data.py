"""What a label shows: a small frozen record built from one rated results-table row.

The drawing code (``mlel.labels.draw``) only ever sees a ``LabelData``; everything that depends on
the results table's columns and the ratings' conventions (0 = A ... 4 = E) is translated here, once.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Mapping
from urllib.parse import quote

from mlel.errors import UserInputError
from mlel.ratings.metrics import RATING_LETTERS, TASKS, metric_specs, rating_letter
from mlel.units import format_bytes, format_count, format_energy_j, format_fraction, format_mass_g, format_time_s

FORMATS = ("png", "pdf", "svg")  # what render_label writes
DEFAULT_PNG_DPI = 150  # 590 x 1062 px: sharp in the dashboard, fast to render
FILE_PNG_DPI = 300  # the label generator's PNG files: the QR code's modules about 5 px, so phones and
                    # OpenCV read it from the whole image (at 150 dpi, 2.4 px, they did not)

QR_PAYLOAD_VERSION = "mlel.label/2"  # 2: "energy" says how it was obtained (a Provenance value), not "measured"

TASK_NAMES = {"infer": "Inference", "train": "Training"}

# Which drawn icon stands for which rated metric (the metric sets live in mlel.ratings.metrics).
ICON_BY_METRIC = {
    "energy_per_sample_j": "energy",
    "energy_j": "energy",
    "time_per_sample_s": "time",
    "time_s": "time",
    "accuracy": "accuracy",
    "parameters": "parameters",
    "model_size_bytes": "size",
}


@dataclass(frozen=True)
class MetricFigure:
    """One key figure: its value in base units (J, s, fraction, count, bytes), the text shown and its rating."""

    metric: str  # metric name of mlel.ratings (= results-table column), e.g. "energy_per_sample_j"
    title: str  # e.g. "Energy per sample"
    icon: str  # "energy" | "time" | "accuracy" | "parameters" | "size"
    value: float | None  # base unit named by the column; None when the run does not have it
    unit: str  # base unit: "J", "s", "", "B"
    text: str  # formatted for people, e.g. "12.3 mJ", "76.1 %"
    rating: int | None  # 0 = A ... 4 = E; None when the metric could not be rated

    @property
    def letter(self) -> str | None:
        return None if self.rating is None else RATING_LETTERS[self.rating]


@dataclass(frozen=True)
class LabelData:
    """Everything one label shows. Build it with ``label_data_from_row``; draw it with ``render_label``."""

    model: str
    task: str  # "infer" | "train"
    dataset: str
    environment: str
    compound_rating: int  # 0 = A ... 4 = E
    metrics: tuple[MetricFigure, ...]
    co2eq_g: float | None
    date: str  # YYYY-MM-DD, or "" when unknown
    energy_provenance_text: str  # e.g. "measured (sampled power): GPU (NVML) + CPU (RAPL)"
    energy_is_estimate: bool
    qr_payload: str
    link: str | None = None
    co2eq_per_sample: bool = False  # inference: co2eq_g is per sample, as the energy beside it
    rating_settings: str = ""  # what differs from the default rating, e.g. "pessimistic mean, custom weights"
    reference_model: str | None = None  # what the ratings are relative to (same environment)
    rated_alone: bool = False  # no other model ran in the environment: the letters compare it with itself

    def __post_init__(self) -> None:
        rating_letter(self.compound_rating)  # validates
        if self.task not in TASK_NAMES:
            raise UserInputError(f"The 'task' parameter must be one of {', '.join(map(repr, TASKS))}; got {self.task!r}")

    @property
    def compound_letter(self) -> str:
        return RATING_LETTERS[self.compound_rating]

    @property
    def task_name(self) -> str:
        return TASK_NAMES[self.task]

    @property
    def co2eq_text(self) -> str:
        return format_mass_g(self.co2eq_g)


_FORMATTERS = {
    "energy_per_sample_j": (format_energy_j, "J"),
    "energy_j": (format_energy_j, "J"),
    "time_per_sample_s": (format_time_s, "s"),
    "time_s": (format_time_s, "s"),
    "accuracy": (format_fraction, ""),
    "parameters": (format_count, ""),
    "model_size_bytes": (format_bytes, "B"),
}


# --------------------------------------------------------------------------- building from a row


def _get(row: Mapping[str, Any] | Any, key: str) -> Any:
    try:
        value = row.get(key)
    except AttributeError as exc:  # not a Mapping / pandas Series
        raise UserInputError(f"A label is built from one results-table row (a mapping); got {type(row).__name__}") from exc
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    try:  # pandas.NA / NaT
        import pandas as pd

        if value is pd.NA or value is pd.NaT:
            return None
    except ImportError:  # pragma: no cover - pandas is a requirement
        pass
    return value


def _float(row, key: str) -> float | None:
    value = _get(row, key)
    if value is None:
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(out) else out


def _rating(row, key: str) -> int | None:
    value = _float(row, key)
    if value is None:
        return None
    rating = int(round(value))
    return rating if 0 <= rating < len(RATING_LETTERS) else None


def _date(row) -> str:
    value = _get(row, "date")
    if value is None:
        return ""
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d")
    return str(value)[:10]


def _round(value: float | None) -> float | int | None:
    if value is None:
        return None
    if float(value).is_integer() and abs(value) < 1e15:
        return int(value)
    return float(f"{value:.4g}")


def describe_rating(mode: str | None, custom_boundaries: bool, custom_weights: bool) -> str:
    """What a label says of how it was rated, where that differs from the default:
    "pessimistic mean, custom weights"; "" when nothing does."""
    from mlel.ratings import DEFAULT_MODE, normalise_mode

    parts = [normalise_mode(mode)] if mode is not None and normalise_mode(mode) != DEFAULT_MODE else []
    parts += [f"custom {what}" for what, custom in (("boundaries", custom_boundaries), ("weights", custom_weights)) if custom]
    return ", ".join(parts)


def build_qr_payload(
    *,
    run_id: str,
    model: str,
    task: str,
    dataset: str,
    environment: str,
    compound_letter: str,
    metrics: tuple[MetricFigure, ...],
    co2eq_g: float | None,
    energy_provenance: str,
    date: str,
    link: str | None,
    rated_alone: bool = False,
    rating_settings: str = "",
) -> str:
    """Compact JSON with the label's key data; keys are results-table columns, so units are in the names.

    Values are rounded to 4 significant digits: a smaller payload gives a smaller, easier-to-scan code."""
    payload: dict[str, Any] = {
        "v": QR_PAYLOAD_VERSION,
        "run": run_id,
        "model": model,
        "task": task,
        "dataset": dataset,
        "env": environment,
        "rating": compound_letter,
    }
    if rated_alone:
        payload["compared"] = False  # the only model in its environment: its letters compare it with itself
    if rating_settings:
        payload["rated_with"] = rating_settings
    for m in metrics:
        if m.value is not None:
            payload[m.metric] = _round(m.value)
    if co2eq_g is not None:
        payload["co2eq_per_sample_g" if task == "infer" else "co2eq_g"] = _round(co2eq_g)
    payload["energy"] = energy_provenance  # "hardware counter", "sampled power" or "estimate"
    if date:
        payload["date"] = date
    if link:
        payload["url"] = link
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def label_data_from_row(row: Mapping[str, Any], *, link: str | None = None, rating_settings: str = "") -> LabelData:
    """Build the label record from one row of a table rated by ``mlel.ratings.rate_results``.

    ``link`` may hold ``{run_id}``, ``{model}``, ``{task}``, ``{environment}`` placeholders
    (e.g. ``"https://elex.example.org/?run={run_id}"``); it goes into the QR code and the footer.
    """
    task = _get(row, "task")
    if task not in TASKS:
        raise UserInputError(f"The row's 'task' must be one of 'infer', 'train'; got {task!r}")
    compound = _rating(row, "compound_rating")
    if compound is None:
        raise UserInputError(
            "The row has no 'compound_rating' (0..4): rate the table with mlel.ratings.rate_results first"
        )
    model = str(_get(row, "model") or "unknown model")
    dataset = str(_get(row, "dataset") or "unknown data set")
    environment = str(_get(row, "environment") or "unknown environment")

    metrics = []
    for spec in metric_specs(task):
        value = _float(row, spec.column)
        formatter, unit = _FORMATTERS[spec.name]
        metrics.append(
            MetricFigure(
                metric=spec.name,
                title=spec.label,
                icon=ICON_BY_METRIC[spec.name],
                value=value,
                unit=unit,
                text=formatter(value),
                rating=_rating(row, f"{spec.name}_rating"),
            )
        )
    metrics_t = tuple(metrics)

    is_estimate = bool(_get(row, "energy_is_estimate"))
    provenance_text = str(_get(row, "energy_provenance_text") or ("estimated" if is_estimate else "unknown"))
    if link:
        try:
            # each value URL-encoded: an environment such as "AMD EPYC (2 threads) - PyTorch 2.13.0+cpu"
            # would otherwise break the link ("+" reads back as a space, spaces end it)
            values = {"run_id": _get(row, "run_id") or "", "model": model, "task": task, "environment": environment}
            link = link.format(**{k: quote(str(v), safe="") for k, v in values.items()})
        except (KeyError, IndexError, ValueError) as exc:
            raise UserInputError(
                f"The link template may use {{run_id}}, {{model}}, {{task}}, {{environment}}; got {link!r}"
            ) from exc
    co2 = _float(row, "co2eq_g")
    if task == "infer":
        # the row's co2eq_g is the whole measured run, whose length the harness chose; beside the energy
        # per sample the label shows the CO2 per sample (same grid intensity, same share)
        total_j, per_sample_j = _float(row, "energy_j"), _float(row, "energy_per_sample_j")
        co2 = co2 * per_sample_j / total_j if None not in (co2, total_j, per_sample_j) and total_j > 0 else None
    date = _date(row)
    payload = build_qr_payload(
        run_id=str(_get(row, "run_id") or ""),
        model=model,
        task=task,
        dataset=dataset,
        environment=environment,
        compound_letter=RATING_LETTERS[compound],
        metrics=metrics_t,
        co2eq_g=co2,
        energy_provenance=str(_get(row, "energy_provenance") or ("estimate" if is_estimate else "kind not recorded")),
        date=date,
        link=link or None,
        rated_alone=bool(_get(row, "rated_alone") or False),
        rating_settings=rating_settings,
    )
    return LabelData(
        model=model,
        task=task,
        dataset=dataset,
        environment=environment,
        compound_rating=compound,
        metrics=metrics_t,
        co2eq_g=co2,
        date=date,
        energy_provenance_text=provenance_text,
        energy_is_estimate=is_estimate,
        qr_payload=payload,
        link=link or None,
        reference_model=_get(row, "reference_model") or None,
        rated_alone=bool(_get(row, "rated_alone") or False),
        co2eq_per_sample=task == "infer",
        rating_settings=rating_settings,
    )
