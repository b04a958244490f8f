"""The sidebar: filters, axes and rating settings (reference, mode, weights, boundaries, files)."""

from __future__ import annotations

import base64
import logging

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, ctx, dcc, html, no_update

from mlel.elex import ids
from mlel.elex.data import RatingSettings, ResultsData
from mlel.elex.metrics import axis_title, metric_title
from mlel.elex.rating import MODES, DEFAULT_MODE, default_reference, read_settings_file, settings_file
from mlel.elex.sections.common import rated_view
from mlel.elex.view import (
    axis_choices, boundaries_to_slider, default_axes, rated_metrics, settings_from_controls, slider_marks, slider_range,
)
from mlel.errors import MlelError
from mlel.ratings import DEFAULT_WEIGHTS, compute_boundaries

log = logging.getLogger(__name__)

TASK_OPTIONS = [{"label": "Inference", "value": "infer"}, {"label": "Training", "value": "train"}]


def _label(text: str) -> html.Div:
    return html.Div(text, className="elex-label")


def _dropdown(id_: str, placeholder: str) -> dcc.Dropdown:
    return dcc.Dropdown(id=id_, multi=True, placeholder=placeholder, options=[], value=[])


def layout(data: ResultsData) -> html.Div:
    task = data.tasks()[0]
    filters = dbc.Card([
        dbc.CardHeader("Runs"),
        dbc.CardBody([
            dbc.RadioItems(id=ids.FILTER_TASK, options=TASK_OPTIONS, value=task, inline=True),
            _label("Model"), _dropdown(ids.FILTER_MODEL, "all models"),
            _label("Backend"), _dropdown(ids.FILTER_BACKEND, "all backends"),
            _label("Hardware and backend (environment)"), _dropdown(ids.FILTER_ENVIRONMENT, "all environments"),
            _label("Data set"), _dropdown(ids.FILTER_DATASET, "all data sets"),
        ]),
    ])
    axes = dbc.Card([
        dbc.CardHeader("Axes"),
        dbc.CardBody([
            _label("x"), dcc.Dropdown(id=ids.AXIS_X, clearable=False),
            dbc.RadioItems(id=ids.AXIS_SCALE_X, options=["linear", "log"], value="log", inline=True),
            _label("y"), dcc.Dropdown(id=ids.AXIS_Y, clearable=False),
            dbc.RadioItems(id=ids.AXIS_SCALE_Y, options=["linear", "log"], value="linear", inline=True),
            _label("Show"),
            dbc.RadioItems(id=ids.AXIS_VALUES, inline=True, value="value",
                           options=[{"label": "real values", "value": "value"}, {"label": "index", "value": "index"}]),
        ]),
    ])
    rating = dbc.Card([
        dbc.CardHeader("Rating"),
        dbc.CardBody([
            _label("Reference model (index = 1); where it did not run, each environment's most common model"),
            dcc.Dropdown(id=ids.RATING_REFERENCE, clearable=False),
            _label("Compound rating"),
            dcc.Dropdown(id=ids.RATING_MODE, options=list(MODES), value=DEFAULT_MODE, clearable=False),
            dbc.Accordion([
                dbc.AccordionItem(html.Div(id=ids.RATING_WIDGETS), title="Weights and boundaries"),
            ], start_collapsed=True, className="mt-2"),
            dbc.Button("Boundaries from quantiles", id=ids.BOUNDARIES_FROM_QUANTILES, size="sm",
                       color="secondary", outline=True, className="mt-2 me-1"),
            dbc.ButtonGroup([
                dbc.Button("Save boundaries", id=ids.SETTINGS_SAVE_BOUNDARIES, size="sm", color="secondary", outline=True),
                dbc.Button("Save weights", id=ids.SETTINGS_SAVE_WEIGHTS, size="sm", color="secondary", outline=True),
            ], className="mt-2"),
            dcc.Upload(id=ids.SETTINGS_LOAD, children=html.Div("Load boundaries or weights (JSON)"),
                       className="elex-upload mt-2", style={"padding": "0.4rem"}),
            html.Div(id=ids.SETTINGS_MESSAGE, className="elex-small mt-1"),
            dcc.Download(id=ids.SETTINGS_DOWNLOAD),
        ]),
    ])
    return html.Div([filters, axes, rating], className="elex-sidebar")


def rating_widgets(task: str, weights: dict, boundaries: dict) -> list:
    """One weight slider and one boundary range slider (log10 of the index) per rated metric."""
    rows = []
    for metric in rated_metrics(task):
        positions = boundaries_to_slider(boundaries.get(metric, [2.0, 1.5, 1.0, 0.5]))
        lo, hi = slider_range(positions)
        marks = slider_marks(lo, hi)
        rows.append(html.Div([
            html.Div(metric_title(metric), className="fw-semibold mt-2"),
            _label("weight"),
            dcc.Slider(id=ids.weight(metric), min=0, max=1, step=0.05, value=float(weights.get(metric, 0.0)),
                       marks={0: "0", 0.5: "0.5", 1: "1"}, tooltip={"placement": "bottom"}),
            _label("boundaries E|D|C|B|A (index, log scale)"),
            dcc.RangeSlider(id=ids.boundary(metric), min=lo, max=hi, step=round((hi - lo) / 400, 5), value=positions,
                            marks=marks, pushable=False, allowCross=False),
        ], className="elex-metric-slider"))
    return rows


def register(app, data: ResultsData) -> None:
    @app.callback(
        Output(ids.FILTER_MODEL, "options"), Output(ids.FILTER_BACKEND, "options"),
        Output(ids.FILTER_ENVIRONMENT, "options"), Output(ids.FILTER_DATASET, "options"),
        Output(ids.RATING_REFERENCE, "options"), Output(ids.RATING_REFERENCE, "value"),
        Output(ids.AXIS_X, "options"), Output(ids.AXIS_X, "value"),
        Output(ids.AXIS_Y, "options"), Output(ids.AXIS_Y, "value"),
        Output(ids.RATING_WIDGETS, "children"),
        Input(ids.FILTER_TASK, "value"), Input(ids.STORE_UPLOADS, "data"),
        State(ids.RATING_REFERENCE, "value"), State(ids.AXIS_X, "value"), State(ids.AXIS_Y, "value"),
    )
    def task_changed(task, uploads, reference, x, y):
        from mlel.elex.data import uploads_from_store

        table = data.combined(uploads_from_store(uploads))
        sub = table[table["task"] == task]
        options = [sorted(v for v in sub[c].dropna().astype(str).unique() if v) for c in ("model", "backend", "environment", "dataset")]
        models = options[0]
        if reference not in models:
            reference = default_reference(table, task)
        choices = axis_choices(table, task)
        axis_options = [{"label": axis_title(c, False), "value": c} for c in choices]
        default_x, default_y = default_axes(task)
        x = x if x in choices and ctx.triggered_id != ids.FILTER_TASK else default_x
        y = y if y in choices and ctx.triggered_id != ids.FILTER_TASK else default_y
        if ctx.triggered_id == ids.STORE_UPLOADS:
            widgets = no_update  # keep what the user set; uploads only add choices
        else:
            try:
                rated = data.rated(RatingSettings(task=task, reference=reference, mode=DEFAULT_MODE))
                boundaries = rated.attrs.get("boundaries", {})
            except MlelError as exc:  # the plots say why; the sliders start from no boundaries
                log.warning("cannot rate the %s runs for the boundary sliders: %s", task, exc)
                boundaries = {}
            widgets = rating_widgets(task, dict(DEFAULT_WEIGHTS[task]), boundaries)
        return (*options, models, reference, axis_options, x, axis_options, y, widgets)

    @app.callback(
        Output({"type": ids.BOUNDARY, "metric": ALL}, "value"),
        Output(ids.SETTINGS_MESSAGE, "children", allow_duplicate=True),
        Input(ids.BOUNDARIES_FROM_QUANTILES, "n_clicks"),
        State(ids.FILTER_TASK, "value"), State(ids.FILTER_MODEL, "value"), State(ids.FILTER_BACKEND, "value"),
        State(ids.FILTER_ENVIRONMENT, "value"), State(ids.FILTER_DATASET, "value"), State(ids.STORE_UPLOADS, "data"),
        State(ids.RATING_REFERENCE, "value"), State(ids.RATING_MODE, "value"),
        State({"type": ids.WEIGHT, "metric": ALL}, "value"), State({"type": ids.WEIGHT, "metric": ALL}, "id"),
        State({"type": ids.BOUNDARY, "metric": ALL}, "value"), State({"type": ids.BOUNDARY, "metric": ALL}, "id"),
        prevent_initial_call=True,
    )
    def boundaries_from_quantiles(_, task, model, backend, environment, dataset, uploads, reference, mode,
                                  weights, weight_ids, bounds, bound_ids):
        _, shown, error = rated_view(data, task, model, backend, environment, dataset, uploads, reference, mode,
                                     weights, weight_ids, bounds, bound_ids)
        if error or shown.empty:
            return [no_update] * len(bound_ids), error or "no runs selected"
        try:
            computed = compute_boundaries(shown, task)
        except MlelError as exc:
            return [no_update] * len(bound_ids), str(exc)
        flat = [metric_title(m) for m, b in computed.items() if max(b) - min(b) <= 1e-9 * max(1.0, abs(max(b)))]
        message = f"boundaries from the 80/60/40/20 % quantiles of {len(shown):,} runs"
        if flat:
            message = html.Span([message + ". ", html.B("Not useful for " + ", ".join(flat)),
                                 ": the runs shown do not differ there (all four boundaries are equal), so those "
                                 "ratings can only be A or E; select more runs first."], className="text-warning")
        return [boundaries_to_slider(computed[i["metric"]]) for i in bound_ids], message

    @app.callback(
        Output({"type": ids.BOUNDARY, "metric": ALL}, "min"), Output({"type": ids.BOUNDARY, "metric": ALL}, "max"),
        Output({"type": ids.BOUNDARY, "metric": ALL}, "marks"), Output({"type": ids.BOUNDARY, "metric": ALL}, "step"),
        Input({"type": ids.BOUNDARY, "metric": ALL}, "value"),
        State({"type": ids.BOUNDARY, "metric": ALL}, "min"), State({"type": ids.BOUNDARY, "metric": ALL}, "max"),
        prevent_initial_call=True,
    )
    def widen_sliders(values, lows, highs):
        """Boundaries set from quantiles or a file may lie beyond a slider's ends: widen it (never narrow
        it, which would move the handles under the user's pointer)."""
        out = [[no_update] * len(values) for _ in range(4)]
        for i, (value, low, high) in enumerate(zip(values, lows, highs)):
            if not value or (low is not None and high is not None and low <= min(value) and max(value) <= high):
                continue
            new_low, new_high = slider_range([*value, low if low is not None else 0.0, high if high is not None else 0.0])
            out[0][i], out[1][i], out[2][i] = new_low, new_high, slider_marks(new_low, new_high)
            out[3][i] = round((new_high - new_low) / 400, 5)
        return out

    @app.callback(
        Output(ids.SETTINGS_DOWNLOAD, "data"),
        Input(ids.SETTINGS_SAVE_BOUNDARIES, "n_clicks"), Input(ids.SETTINGS_SAVE_WEIGHTS, "n_clicks"),
        State(ids.FILTER_TASK, "value"), State(ids.RATING_REFERENCE, "value"), State(ids.RATING_MODE, "value"),
        State({"type": ids.WEIGHT, "metric": ALL}, "value"), State({"type": ids.WEIGHT, "metric": ALL}, "id"),
        State({"type": ids.BOUNDARY, "metric": ALL}, "value"), State({"type": ids.BOUNDARY, "metric": ALL}, "id"),
        prevent_initial_call=True,
    )
    def save_settings(_b, _w, task, reference, mode, weights, weight_ids, bounds, bound_ids):
        settings = settings_from_controls(task, reference, mode, weights, weight_ids, bounds, bound_ids)
        kind = "boundaries" if ctx.triggered_id == ids.SETTINGS_SAVE_BOUNDARIES else "weights"
        values = settings.boundaries if kind == "boundaries" else settings.weights
        if not values:
            return no_update
        return dcc.send_bytes(settings_file(kind, values, task), f"elex-{kind}-{task}.json")

    @app.callback(
        Output({"type": ids.WEIGHT, "metric": ALL}, "value"),
        Output({"type": ids.BOUNDARY, "metric": ALL}, "value", allow_duplicate=True),
        Output(ids.SETTINGS_MESSAGE, "children"),
        Input(ids.SETTINGS_LOAD, "contents"), State(ids.SETTINGS_LOAD, "filename"),
        State(ids.FILTER_TASK, "value"),
        State({"type": ids.WEIGHT, "metric": ALL}, "id"), State({"type": ids.BOUNDARY, "metric": ALL}, "id"),
        prevent_initial_call=True,
    )
    def load_settings(contents, filename, task, weight_ids, bound_ids):
        unchanged = ([no_update] * len(weight_ids), [no_update] * len(bound_ids))
        try:
            raw = base64.b64decode(contents.split(",", 1)[1])
            kind, values = read_settings_file(raw, task)
        except (MlelError, ValueError, IndexError) as exc:
            return (*unchanged, html.Span(f"{filename}: {exc}", className="text-danger"))
        if kind == "weights":
            return [values[i["metric"]] for i in weight_ids], unchanged[1], f"weights loaded from {filename}"
        return unchanged[0], [boundaries_to_slider(values[i["metric"]]) for i in bound_ids], f"boundaries loaded from {filename}"
