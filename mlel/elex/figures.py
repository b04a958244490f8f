"""Pure figure builders: a table in, a plotly figure out. No Dash, no state; tested without a browser.

Estimated energy is marked everywhere it appears: hollow markers in scatter plots, hatched bars,
dashed lines, and "(estimated)" in names and legends.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from mlel.elex.metrics import ESTIMATED, FRACTIONS, RATING_COLORS, RATING_LETTERS, axis_title, metric_title, unit_of
from mlel.measurement.provenance import Provenance
from mlel.pareto import hypervolume_2d, pareto_mask

UNKNOWN_KIND = "kind not recorded"  # a table without energy_provenance: measured, but not said how

# plotly marker symbol numbers; +100 is the hollow ("-open") variant, used for estimated energy
_SYMBOLS = (0, 1, 2, 5, 17, 3, 4, 13, 14, 6, 18, 26, 7, 8, 22, 23, 24, 19, 20, 21, 25, 16, 15)
_OPEN = 100
_SVG_LIMIT = 3000  # above this many points, WebGL draws faster than SVG
_TEMPLATE = "plotly_white"
_RATING_COLORSCALE = [
    [pos, color]
    for i, color in enumerate(RATING_COLORS)
    for pos in (i / len(RATING_COLORS), (i + 1) / len(RATING_COLORS))
]


@dataclass(frozen=True)
class Band:
    """One rating band along an axis, in the plotted units: [low, high) gets ``rating`` (0 = A)."""

    low: float
    high: float
    rating: int


def pareto_front_mask(x, y, maximize_x: bool, maximize_y: bool) -> np.ndarray:
    """Non-dominated points of two objectives, as ``mlel.pareto.pareto_mask`` defines them.

    A sort-and-sweep first keeps only candidates (a superset of the front), so that the exact but
    quadratic ``pareto_mask`` runs on a handful of rows even for 100,000 points.
    """
    values = np.column_stack([np.asarray(x, dtype=float), np.asarray(y, dtype=float)])
    mask = np.zeros(len(values), dtype=bool)
    finite = np.flatnonzero(np.all(np.isfinite(values), axis=1))
    if finite.size == 0:
        return mask
    cost = values[finite] * np.where([maximize_x, maximize_y], -1.0, 1.0)
    order = np.lexsort((cost[:, 1], cost[:, 0]))
    best_before = np.minimum.accumulate(cost[order, 1])
    candidates = finite[order[cost[order, 1] <= best_before]]
    mask[candidates] = pareto_mask(values[candidates], [maximize_x, maximize_y])
    return mask


def axis_bands(boundaries: Sequence[float], higher_is_better: bool, reference_value: float | None, use_index: bool) -> list[Band]:
    """Rating bands along one axis from the metric's index boundaries (best first, 4 values).

    In index space an index at or above ``boundaries[0]`` is an A. In value space the index
    boundaries map through the reference value (index = value/ref, or ref/value when lower is
    better), which is only meaningful when one reference applies, so callers pass None otherwise.
    """
    edges = sorted(float(b) for b in boundaries)  # ascending index: E | D | C | B | A
    if not use_index:
        if reference_value is None or not np.isfinite(reference_value) or reference_value <= 0:
            return []
        edges = [reference_value * e for e in edges] if higher_is_better else sorted(reference_value / e for e in edges if e > 0)
    if len(edges) != len(RATING_LETTERS) - 1:
        return []
    lows = [-np.inf, *edges]
    highs = [*edges, np.inf]
    ratings = list(range(len(RATING_LETTERS) - 1, -1, -1))  # ascending index: worst first
    if not use_index and not higher_is_better:
        ratings = ratings[::-1]  # small values are good: ascending value goes best to worst
    return [Band(lo, hi, r) for lo, hi, r in zip(lows, highs, ratings)]


def _range(values: np.ndarray, log: bool) -> list[float]:
    lo, hi = float(np.min(values)), float(np.max(values))
    if log:
        lo, hi = np.log10(lo), np.log10(hi)
    span = hi - lo
    if span > 1e-9 * max(abs(lo), abs(hi), 1e-300):
        pad = span * 0.06
    else:  # one value (or float noise around it): centre it in a range of its own size
        pad = 0.2 if log else (abs(hi) * 0.1 or 1.0)
    return [lo - pad, hi + pad]


def _band_shapes(x_bands, y_bands, x_range, y_range, log_x, log_y) -> list[dict]:
    """Background rectangles of the rating grid, clipped to the visible range."""
    def clip(band_list, rng, log):
        lo_v, hi_v = (10 ** rng[0], 10 ** rng[1]) if log else (rng[0], rng[1])
        out = []
        for b in band_list:
            lo, hi = max(b.low, lo_v), min(b.high, hi_v)
            if lo < hi:
                out.append(Band(lo, hi, b.rating))
        return out

    xs = clip(x_bands, x_range, log_x) or [Band(*(10 ** np.array(x_range) if log_x else x_range), -1)]
    ys = clip(y_bands, y_range, log_y) or [Band(*(10 ** np.array(y_range) if log_y else y_range), -1)]
    if all(b.rating < 0 for b in xs) and all(b.rating < 0 for b in ys):
        return []
    shapes = []
    for bx in xs:
        for by in ys:
            known = [r for r in (bx.rating, by.rating) if r >= 0]
            rating = int(np.floor(np.mean(known) + 0.5))
            # plotly.js 3 places shapes in data values on log axes too (axis ranges stay in log10 units)
            shapes.append(dict(type="rect", xref="x", yref="y", x0=bx.low, x1=bx.high, y0=by.low, y1=by.high, layer="below",
                               line=dict(width=0), fillcolor=RATING_COLORS[rating], opacity=0.13))
    return shapes


@functools.cache
def _template() -> dict:
    """The plotly_white template as plain JSON (a figure dict cannot name a template)."""
    import plotly.io as pio

    return pio.templates[_TEMPLATE].to_plotly_json()


def tradeoff_figure(
    df: pd.DataFrame,
    x: str,
    y: str,
    *,
    use_index: bool = False,
    log_x: bool = False,
    log_y: bool = False,
    maximize_x: bool = False,
    maximize_y: bool = True,
    x_bands: Sequence[Band] = (),
    y_bands: Sequence[Band] = (),
    max_points: int = 5000,
    seed: int = 0,
    x_metric: str | None = None,
    y_metric: str | None = None,
    front: np.ndarray | None = None,
) -> dict:
    """The trade-off scatter: one point per run, colour = compound rating, symbol = environment,
    hollow = estimated energy, the rating grid behind and the Pareto front drawn on top.

    ``df`` needs the columns ``x``, ``y``, ``run_id``, ``model``, ``environment``,
    ``compound_rating`` and ``energy_is_estimate``. ``x_metric``/``y_metric`` name the metrics for
    titles when ``x``/``y`` are their index columns; ``front`` is the Pareto mask over ``df`` when the
    caller has it already.

    Returns a plotly figure as a plain dict (``go.Figure(result)`` validates it, as the tests do):
    plotly's graph objects copy and validate every array, which cost ~100 ms per request here.
    """
    x_metric, y_metric = x_metric or x, y_metric or y
    layout = {
        "template": _template(), "margin": dict(l=60, r=20, t=40, b=50), "clickmode": "event",
        "legend": dict(font=dict(size=11), itemsizing="constant"), "uirevision": f"{x}|{y}",
        "xaxis": {"title": {"text": axis_title(x_metric, use_index and x.endswith("_index"))}, "type": "log" if log_x else "linear"},
        "yaxis": {"title": {"text": axis_title(y_metric, use_index and y.endswith("_index"))}, "type": "log" if log_y else "linear"},
    }
    fig = {"data": [], "layout": layout}
    xs = pd.to_numeric(df[x], errors="coerce").to_numpy(dtype=float)
    ys = pd.to_numeric(df[y], errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(xs) & np.isfinite(ys)
    if log_x:
        ok &= xs > 0
    if log_y:
        ok &= ys > 0
    if not ok.any():
        layout["annotations"] = [dict(text="No runs with both metrics in this selection", showarrow=False,
                                      xref="paper", yref="paper", x=0.5, y=0.5, font=dict(size=15))]
        layout["xaxis"]["showticklabels"] = layout["yaxis"]["showticklabels"] = False
        return fig
    xs, ys = xs[ok], ys[ok]
    if front is None or (front & ~ok).any():  # a run the log axis hides may dominate: recompute
        on_front = pareto_front_mask(xs, ys, maximize_x, maximize_y)
    else:
        on_front = np.asarray(front, dtype=bool)[ok]
    shown = _sample_index(len(xs), on_front, max_points, seed)
    layout["xaxis"]["range"] = _range(xs, log_x)
    layout["yaxis"]["range"] = _range(ys, log_y)
    layout["shapes"] = _band_shapes(x_bands, y_bands, layout["xaxis"]["range"], layout["yaxis"]["range"], log_x, log_y)

    kind = "scatter" if len(shown) <= _SVG_LIMIT else "scattergl"
    rows = df[ok].iloc[shown]
    xs_shown, ys_shown = xs[shown], ys[shown]
    rating = pd.to_numeric(rows["compound_rating"], errors="coerce").fillna(-1).to_numpy().astype(int)
    letters = np.array([*RATING_LETTERS, "unrated"])[np.where(rating < 0, len(RATING_LETTERS), rating)]
    estimated = rows["energy_is_estimate"].fillna(False).to_numpy().astype(bool)
    how = rows["energy_provenance"].astype(str).to_numpy() if "energy_provenance" in rows else np.full(len(rows), UNKNOWN_KIND)
    note = np.where(estimated, f" - energy {ESTIMATED}", np.char.add(" - energy measured: ", how.astype(str)))

    def hover_value(metric: str, column: str, axis: str) -> str:
        if column.endswith("_index"):
            return f"{metric_title(metric)}: %{{{axis}:.4g}}x the reference"
        if metric in FRACTIONS:
            return f"{metric_title(metric)}: %{{{axis}:.2%}}"
        return f"{metric_title(metric)}: %{{{axis}:.4g}} {unit_of(metric)}".rstrip()

    hover = ("<b>%{customdata[1]}</b><br>%{customdata[2]}<br>rating %{customdata[3]}%{customdata[4]}<br>"
             + hover_value(x_metric, x, "x") + "<br>" + hover_value(y_metric, y, "y") + "<extra></extra>")
    env_all = rows["environment"].astype(str).to_numpy()
    run_ids, models = rows["run_id"].astype(str).to_numpy(), rows["model"].astype(str).to_numpy()
    for i, env in enumerate(sorted(set(env_all))):
        symbol = _SYMBOLS[i % len(_SYMBOLS)]
        # one trace per (environment, provenance) keeps the symbol a scalar
        for est in (False, True):
            sel = (env_all == env) & (estimated == est)
            if not sel.any():
                continue
            colour = np.where(rating[sel] < 0, np.nan, rating[sel]).astype(float)
            fig["data"].append(dict(
                type=kind, x=xs_shown[sel], y=ys_shown[sel], mode="markers", name=f"{env} {ESTIMATED}" if est else env,
                legendgroup="environment", legendgrouptitle=dict(text="Environment (symbol)"),
                customdata=np.column_stack([run_ids[sel], models[sel], np.full(sel.sum(), env), letters[sel], note[sel]]),
                hovertemplate=hover,
                marker=dict(size=10, symbol=symbol + _OPEN if est else symbol, color=colour, cmin=0,
                            cmax=len(RATING_LETTERS) - 1, colorscale=_RATING_COLORSCALE,
                            line=dict(width=2 if est else 1, color="#333")),
            ))
    for letter, color in zip(RATING_LETTERS, RATING_COLORS):
        fig["data"].append(dict(type="scatter", x=[None], y=[None], mode="markers", name=letter, legendgroup="rating",
                                legendgrouptitle=dict(text="Compound rating (colour)"),
                                marker=dict(symbol="square", size=12, color=color), hoverinfo="skip"))
    if (~estimated).any():
        fig["data"].append(dict(type="scatter", x=[None], y=[None], mode="markers",
                                name="filled: energy measured (counter or sampled power)",
                                marker=dict(symbol="circle", size=11, color="#333"), hoverinfo="skip"))
    if estimated.any():
        fig["data"].append(dict(type="scatter", x=[None], y=[None], mode="markers", name=f"hollow: energy {ESTIMATED}",
                                marker=dict(symbol="circle-open", size=11, color="#333"), hoverinfo="skip"))
    order = np.flatnonzero(on_front)
    order = order[np.argsort(xs[order], kind="stable")]
    fig["data"].append(dict(type="scatter", x=xs[order], y=ys[order], mode="lines", name="Pareto front",
                            line=dict(color="#222", width=2, dash="dot"), hoverinfo="skip"))
    if len(shown) < len(xs):
        layout["title"] = dict(text=f"showing {len(shown):,} of {len(xs):,} runs (random sample; "
                                    f"every Pareto-optimal run included)", font=dict(size=12))
    return fig


def _sample_index(n: int, keep: np.ndarray, max_points: int, seed: int) -> np.ndarray:
    """Positions of at most ``max_points`` of ``n`` rows, always including those flagged in ``keep``."""
    if n <= max_points:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    rest = np.flatnonzero(~keep)
    n_rest = max(max_points - int(keep.sum()), 0)
    return np.sort(np.concatenate([np.flatnonzero(keep), rng.choice(rest, size=min(n_rest, rest.size), replace=False)]))


def pareto_table(df: pd.DataFrame, x: str, y: str, maximize_x: bool, maximize_y: bool,
                 mask: np.ndarray | None = None) -> pd.DataFrame:
    """The Pareto-optimal runs of ``df`` on (x, y), best x first, with the columns the page lists."""
    xs = pd.to_numeric(df[x], errors="coerce").to_numpy(dtype=float)
    ys = pd.to_numeric(df[y], errors="coerce").to_numpy(dtype=float)
    if mask is None:
        mask = pareto_front_mask(xs, ys, maximize_x, maximize_y)
    mask = np.asarray(mask, dtype=bool)
    columns = ["run_id", "model", "environment", "dataset", "compound_rating", "energy_is_estimate"]
    front = df[columns][mask].reset_index(drop=True)
    front[x], front[y] = xs[mask], ys[mask]
    return front.sort_values(x, ascending=not maximize_x, kind="stable").reset_index(drop=True)


def rating_counts_figure(df: pd.DataFrame) -> dict:
    """Stacked bars: how many runs of each environment got each compound rating (a figure dict, as
    ``tradeoff_figure``: it is redrawn with every filter change)."""
    environments = df["environment"].astype(str).to_numpy()
    ratings = pd.to_numeric(df["compound_rating"], errors="coerce").to_numpy()
    names = sorted(set(environments))
    estimated = set(environments[df["energy_is_estimate"].fillna(False).to_numpy().astype(bool)])
    labels = [f"{env} {ESTIMATED}" if env in estimated else env for env in names]
    position = {env: i for i, env in enumerate(names)}
    codes = np.array([position[e] for e in environments], dtype=int) if len(environments) else np.zeros(0, dtype=int)
    data = []
    for r, (letter, color) in enumerate(zip(RATING_LETTERS, RATING_COLORS)):
        counts = np.bincount(codes[ratings == r], minlength=len(names)) if len(names) else np.zeros(0, dtype=int)
        data.append(dict(type="bar", y=labels, x=counts, name=letter, orientation="h", marker=dict(color=color),
                         hovertemplate=f"%{{y}}<br>{letter}: %{{x}} runs<extra></extra>"))
    # The legend above the bars: below them it sat on the x axis' title.
    layout = dict(template=_template(), barmode="stack", margin=dict(l=10, r=10, t=30, b=40),
                  legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0, traceorder="normal"),
                  height=max(240, 90 + 30 * len(names)), xaxis=dict(title=dict(text="Runs [count]")),
                  yaxis=dict(automargin=True))
    return {"data": data, "layout": layout}


def trace_figure(traces: Sequence[dict], empty_message: str = "No power trace in this log (MLEE logs keep summary statistics only)") -> dict:
    """Power over time, one line per meter; ``traces`` items: ``{"meter", "elapsed_s", "power_w", "estimated"}``.

    Estimated meters are dashed and named "(estimated)". A figure dict (see ``tradeoff_figure``): it is
    part of the click that shows one experiment, which has 100 ms in all.
    """
    # the legend below the plot: above it, the mode bar's icons sat on its text
    layout = dict(template=_template(), margin=dict(l=60, r=20, t=30, b=50), showlegend=True,
                  legend=dict(orientation="h", yanchor="top", y=-0.22, x=0),
                  xaxis=dict(title=dict(text="Elapsed time [s]")),
                  yaxis=dict(title=dict(text="Power [W]"), rangemode="tozero"))
    if not traces:
        layout["annotations"] = [dict(text=empty_message, showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5)]
        layout["xaxis"]["showticklabels"] = layout["yaxis"]["showticklabels"] = False
    data = []
    for t in traces:
        estimated = bool(t.get("estimated"))
        meter = str(t["meter"])
        # "estimate:cpu (estimated)" said it twice: "CPU (estimated)"
        part = meter.split(":", 1)[1].upper() if meter.startswith("estimate:") else meter
        name = f"{part} {ESTIMATED}" if estimated else meter
        data.append(dict(
            type="scatter", x=list(t["elapsed_s"]), y=list(t["power_w"]), mode="lines", name=name,
            line=dict(dash="dash" if estimated else "solid", width=2),
            hovertemplate="%{x:.1f} s: %{y:.1f} W<extra>" + str(t["meter"]) + "</extra>",
        ))
    return {"data": data, "layout": layout}


def hardware_summary(df: pd.DataFrame, energy: str = "energy_j", time: str = "time_s") -> pd.DataFrame:
    """Per environment and thread count: mean power, time and energy (and how many runs). For inference
    pass the per-sample columns: the whole window's time is what the run was told to last."""
    df = df.assign(threads=df["threads"].fillna(0))
    if "energy_provenance" not in df:
        df = df.assign(energy_provenance=np.where(df["energy_is_estimate"].fillna(False).astype(bool),
                                                  Provenance.ESTIMATE.value, UNKNOWN_KIND))
    group = df.groupby(["environment", "threads"], dropna=False)
    out = group.agg(runs=("run_id", "size"), power_mean_w=("power_mean_w", "mean"), time=(time, "mean"),
                    energy=(energy, "mean"), estimated=("energy_is_estimate", "any"),
                    provenance=("energy_provenance", lambda p: ", ".join(sorted(set(map(str, p)))))).reset_index()
    return out.rename(columns={"energy": energy, "time": time}).sort_values(energy, kind="stable").reset_index(drop=True)


def hardware_figure(summary: pd.DataFrame, energy: str = "energy_j", time: str = "time_s",
                    empty_message: str = "No runs of this model and data set in the selection") -> go.Figure:
    """Side by side: mean power [W], time [s] and energy [J] per environment (hatched = estimated)."""
    fig = make_subplots(rows=1, cols=3, shared_yaxes=True, horizontal_spacing=0.04,
                        subplot_titles=("Mean power [W]", f"{metric_title(time)} [s]", f"{metric_title(energy)} [J]"))
    fig.update_layout(template=_TEMPLATE, showlegend=False, margin=dict(l=10, r=20, t=30, b=40),
                      height=max(260, 80 + 40 * len(summary)))
    if summary.empty:
        fig.add_annotation(text=empty_message, showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5)
        fig.update_xaxes(visible=False)
        fig.update_yaxes(visible=False)
        return fig
    labels = [
        # the environment names the threads already where it knows them ("AMD EPYC (2 threads) - ...")
        (f"{env} ({int(th)} thr.)" if th and "thread" not in str(env) else str(env)) + (f" {ESTIMATED}" if est else "")
        for env, th, est in zip(summary["environment"], summary["threads"], summary["estimated"])
    ]
    patterns = ["/" if e else "" for e in summary["estimated"]]
    for col, (column, color) in enumerate((("power_mean_w", "#4C78A8"), (time, "#72B7B2"), (energy, "#F58518")), start=1):
        fig.add_trace(go.Bar(y=labels, x=summary[column], orientation="h", marker_color=color,
                             marker_pattern_shape=patterns, hovertemplate="%{y}: %{x:.4g}<extra></extra>"),
                      row=1, col=col)
    fig.update_yaxes(automargin=True, row=1, col=1)
    fig.update_yaxes(autorange="reversed")  # top to bottom in the table's order: least energy first
    return fig


def fit_power_law(x, y) -> tuple[float, float] | None:
    """Least squares in log-log space: y = a * x**b; None when fewer than two distinct positive x."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    ok = np.isfinite(x) & np.isfinite(y) & (x > 0) & (y > 0)
    if np.unique(x[ok]).size < 2:
        return None
    b, log_a = np.polyfit(np.log(x[ok]), np.log(y[ok]), 1)
    return float(np.exp(log_a)), float(b)


def scaling_figure(df: pd.DataFrame, energy: str = "energy_j", accuracy: str = "accuracy") -> tuple[go.Figure, pd.DataFrame]:
    """Energy and accuracy against training samples per model (log-log) with fitted power laws.

    Returns the figure and a table of the fits (model, metric, a, exponent b).
    """
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1,
                        subplot_titles=(f"{metric_title(energy)} vs training samples", "Accuracy vs training samples"))
    fig.update_layout(template=_TEMPLATE, margin=dict(l=60, r=20, t=40, b=50), legend=dict(font=dict(size=11)))
    fig.update_xaxes(type="log", title="Training samples [count]")
    fig.update_yaxes(type="log", title=f"{metric_title(energy)} [J]", row=1, col=1)
    fig.update_yaxes(type="log", title="Accuracy (fraction)", row=1, col=2)
    fits = []
    palette = ("#4C78A8", "#F58518", "#54A24B", "#E45756", "#72B7B2", "#B279A2", "#FF9DA6", "#9D755D", "#BAB0AC", "#EECA3B")
    for i, (model, rows) in enumerate(sorted(df.groupby("model"), key=lambda kv: kv[0])):
        color = palette[i % len(palette)]
        estimated = rows["energy_is_estimate"].fillna(False).astype(bool).to_numpy()
        for col, metric in ((1, energy), (2, accuracy)):
            xs, ys = rows["n_train_samples"].to_numpy(dtype=float), rows[metric].to_numpy(dtype=float)
            est = estimated if metric == energy else np.zeros_like(estimated)
            fig.add_trace(go.Scatter(
                x=xs, y=ys, mode="markers", legendgroup=model, showlegend=col == 1,
                name=model + (f" {ESTIMATED}" if est.any() else ""),
                marker=dict(color=color, size=8, symbol=np.where(est, "circle-open", "circle")),
                hovertemplate=f"{model}<br>%{{x:,}} samples: %{{y:.4g}}<extra></extra>"), row=1, col=col)
            fit = fit_power_law(xs, ys)
            if fit is None:
                continue
            a, b = fit
            fits.append({"model": model, "metric": metric, "a": a, "exponent": b, "estimated": bool(est.any())})
            grid = np.geomspace(np.nanmin(xs[xs > 0]), np.nanmax(xs), 30)
            line = a * grid ** b
            if metric == accuracy:  # a power law rises without bound; an accuracy stops at 1
                grid, line = grid[line <= 1.0], line[line <= 1.0]
            fig.add_trace(go.Scatter(x=grid, y=line, mode="lines", legendgroup=model, showlegend=False,
                                     line=dict(color=color, dash="dash" if est.any() else "solid", width=1.5),
                                     hovertemplate=f"{model} fit: y = {a:.3g} x^{b:.2f}<extra></extra>"), row=1, col=col)
    if df.empty:
        for col in (1, 2):
            fig.add_annotation(text="No synthetic-data series in this selection", showarrow=False, row=1, col=col,
                               xref="x domain" if col == 1 else "x2 domain", yref="y domain" if col == 1 else "y2 domain",
                               x=0.5, y=0.5)
    return fig, pd.DataFrame(fits, columns=["model", "metric", "a", "exponent", "estimated"])


def search_figures(df: pd.DataFrame, x: str, y: str, maximize_x: bool, maximize_y: bool,
                   x_title: str | None = None, note: str = "", empty_message: str = "No search chosen") -> tuple[go.Figure, go.Figure]:
    """One trade-off search: its evaluations (in order: ``search_index`` where known, else date) with
    the front, and the hypervolume after each evaluation."""
    order_by = "search_index" if "search_index" in df and df["search_index"].notna().all() else "date"
    runs = df.sort_values(order_by, kind="stable").reset_index(drop=True)
    values = runs[[x, y]].to_numpy(dtype=float)
    order = np.arange(1, len(runs) + 1)
    front = pareto_front_mask(values[:, 0], values[:, 1], maximize_x, maximize_y)
    scatter = go.Figure()
    scatter.update_layout(template=_TEMPLATE, margin=dict(l=60, r=20, t=30, b=90),
                          legend=dict(orientation="h", yanchor="top", y=-0.2, x=0))
    positive = np.isfinite(values[:, 0]) & (values[:, 0] > 0)
    # a search's energies span decades (a k-NN fit next to a boosted ensemble): log axis when it can be
    scatter.update_xaxes(title=x_title or axis_title(x, False),
                         type="log" if x.startswith("energy") and positive.all() and len(runs) else "linear")
    scatter.update_yaxes(title=axis_title(y, False))
    estimated = runs["energy_is_estimate"].fillna(False).astype(bool).to_numpy()
    scatter.add_trace(go.Scatter(x=values[:, 0], y=values[:, 1], mode="markers",
                                 name=f"evaluations (hollow: energy {ESTIMATED})" if estimated.any() else "evaluations",
                                 customdata=np.column_stack([runs["run_id"], runs["model"]]),
                                 marker=dict(color=order, colorscale="Viridis", size=11, showscale=True,
                                             colorbar=dict(title="evaluation", thickness=14),
                                             line=dict(width=2), symbol=np.where(estimated, "circle-open", "circle")),
                                 hovertemplate="%{customdata[1]}<br>%{x:.4g}, %{y:.4g}<extra></extra>"))
    f = np.flatnonzero(front)
    f = f[np.argsort(values[f, 0])]
    scatter.add_trace(go.Scatter(x=values[f, 0], y=values[f, 1], mode="lines+markers", name="Pareto front",
                                 line=dict(color="#222", dash="dot")))
    finite = np.all(np.isfinite(values), axis=1)
    hv = go.Figure()
    hv.update_layout(template=_TEMPLATE, margin=dict(l=60, r=20, t=30, b=50))
    if note:
        scatter.update_layout(title=dict(text=note, font=dict(size=12)), margin=dict(t=50))
    if runs.empty:
        for figure in (scatter, hv):
            figure.add_annotation(text=empty_message, showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5)
            figure.update_xaxes(showticklabels=False)
            figure.update_yaxes(showticklabels=False)
    hv.update_xaxes(title="Evaluation [count]")
    hv.update_yaxes(title="Hypervolume (normalised)")
    if finite.any():
        # worst value seen in each objective, so every evaluation that improves on it counts
        worst = [values[finite, i].min() if m else values[finite, i].max() for i, m in enumerate((maximize_x, maximize_y))]
        span = np.ptp(values[finite], axis=0)
        span[span == 0] = 1.0
        curve = [hypervolume_2d(values[: k + 1][finite[: k + 1]], worst, [maximize_x, maximize_y]) / float(np.prod(span))
                 for k in range(len(values))]
        hv.add_trace(go.Scatter(x=order, y=curve, mode="lines+markers", name="hypervolume"))
    return scatter, hv
