"""How ELEx names and formats the columns of the results table (display only; directions and metric
sets per task come from ``mlel.ratings``)."""

from __future__ import annotations

import math

from mlel.units import (format_bytes, format_count, format_energy_j, format_fraction, format_mass_g, format_power_w,
                        format_time_s)
from mlel.ratings.metrics import RATING_COLOURS, RATING_LETTERS

# column -> (title, unit); unit "" for counts and fractions shown as such
METRIC_DISPLAY = {
    "energy_per_sample_j": ("Energy per sample", "J"),
    "time_per_sample_s": ("Time per sample", "s"),
    "energy_j": ("Energy", "J"),
    "net_energy_j": ("Net energy (above idle)", "J"),
    "time_s": ("Time", "s"),
    "power_mean_w": ("Mean power", "W"),
    "accuracy": ("Accuracy", ""),
    "balanced_accuracy": ("Balanced accuracy", ""),
    "f1_weighted": ("F1 (weighted)", ""),
    "precision_weighted": ("Precision (weighted)", ""),
    "recall_weighted": ("Recall (weighted)", ""),
    "parameters": ("Parameters", "count"),
    "model_size_bytes": ("Model size", "bytes"),
    "n_train_samples": ("Training samples", "count"),
    "co2eq_g": ("CO2-equivalent", "g"),
}

FRACTIONS = frozenset({"accuracy", "balanced_accuracy", "f1_weighted", "precision_weighted", "recall_weighted"})
# the labels' scale, A (green) to E (red), in rating order
RATING_COLORS = tuple(RATING_COLOURS[letter] for letter in RATING_LETTERS)
ESTIMATED = "(estimated)"


def metric_title(metric: str) -> str:
    return METRIC_DISPLAY.get(metric, (metric.replace("_", " ").capitalize(), ""))[0]


def unit_of(metric: str) -> str:
    """The unit as shown after a number ("J", "s", ...); "" for fractions and counts."""
    unit = METRIC_DISPLAY.get(metric, ("", ""))[1]
    return "" if unit in ("", "count") else unit


def axis_title(metric: str, use_index: bool) -> str:
    """Axis title with its unit; an index is relative to the reference model, hence no unit. Pass
    ``use_index`` only for a column that is an index: a metric without one is plotted as its value."""
    title, unit = METRIC_DISPLAY.get(metric, (metric.replace("_", " ").capitalize(), ""))
    if use_index:
        return f"{title}: index (x reference; higher is better)"
    if metric in FRACTIONS:
        return f"{title} (fraction)"
    return f"{title} [{unit}]" if unit else title


def format_value(metric: str, value) -> str:
    """Human-readable value with its unit, e.g. '1.23 mJ', '0.951', '1.2 M'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    value = float(value)
    unit = METRIC_DISPLAY.get(metric, ("", ""))[1]
    if unit == "J":  # as on the label: kWh from 0.1 kWh, hours and minutes rather than "132 ks"
        return format_energy_j(value)
    if unit == "s":
        return format_time_s(value)
    if unit == "W":
        return format_power_w(value)
    if unit == "g":
        return format_mass_g(value)
    if unit == "bytes":
        return format_bytes(value)
    if unit == "count":
        return format_count(value)
    if metric in FRACTIONS:
        return format_fraction(value)  # as on the label
    return f"{value:.3f}" if abs(value) < 10 else f"{value:.3g}"
