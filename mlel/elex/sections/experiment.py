"""One experiment (a clicked point): its energy label, every metric with value, index and rating,
how its energy was obtained, its power draw over time, and downloads."""

from __future__ import annotations

import base64
import json
import logging

import dash_bootstrap_components as dbc
import numpy as np
import pandas as pd
from dash import Input, Output, State, ctx, dcc, html, no_update

from mlel.elex import figures, ids
from mlel.elex.data import RatingSettings, ResultsData, uploads_from_store
from mlel.elex.metrics import ESTIMATED, format_value, metric_title
from mlel.elex.sections.common import RATING_INPUTS
from mlel.elex.sections.tradeoff import rating_badge
from mlel.elex.view import rated_metrics, rating_settings_text, settings_from_controls
from mlel.errors import MlelError
from mlel.measurement.provenance import Provenance
from mlel.ratings import DEFAULT_MODE, rated_alone

log = logging.getLogger(__name__)


HIDDEN = {"display": "none"}
# summary download: where the server keeps the file is none of the reader's business
PRIVATE_COLUMNS = ("path",)


def layout() -> html.Div:
    empty = html.Div("Click a point in the trade-off plot to see one experiment here.", className="elex-small")
    return dbc.Card(dbc.CardBody([
        html.H5(id=ids.EXPERIMENT_TITLE, children=empty),
        dbc.Row([
            dbc.Col([
                # hidden and disabled until a run is chosen: an empty image shows its alt text
                html.Img(id=ids.EXPERIMENT_LABEL, className="elex-label-img", alt="energy label", style=HIDDEN),
                html.Div([
                    dbc.Button("Label (PDF)", id=ids.EXPERIMENT_LABEL_PDF, size="sm", color="primary", className="me-1",
                               disabled=True),
                    dbc.Button("Summary (JSON)", id=ids.EXPERIMENT_DOWNLOAD_SUMMARY, size="sm", color="secondary",
                               outline=True, className="me-1", disabled=True),
                    dbc.Button("Merged log", id=ids.EXPERIMENT_DOWNLOAD_LOG, size="sm", color="secondary", outline=True,
                               disabled=True),
                ], className="mt-2"),
                dcc.Download(id=ids.EXPERIMENT_DOWNLOAD),
            ], lg=5),
            dbc.Col([
                html.Div(id=ids.EXPERIMENT_METRICS),
                html.H6("Power draw over time", className="mt-3"),
                dcc.Graph(id=ids.EXPERIMENT_TRACE, style={"height": "330px"}, config={"displaylogo": False}),
            ], lg=7),
        ]),
    ]))


def trace_items(record: dict | None) -> list[dict]:
    """The merged log's ``trace`` as ``figures.trace_figure`` items, each flagged when its meter is an estimate."""
    if not isinstance(record, dict) or not isinstance(record.get("trace"), dict):
        return []
    meters = ((record.get("results") or {}).get("energy") or {}).get("meters") or []
    provenance = {m.get("meter"): m.get("provenance") for m in meters if isinstance(m, dict)}
    items = []
    for meter, trace in sorted(record["trace"].items()):
        if not isinstance(trace, dict) or not trace.get("elapsed_s"):
            continue
        estimated = provenance.get(meter) == Provenance.ESTIMATE.value or str(meter).startswith("estimate")
        items.append({"meter": meter, "elapsed_s": trace["elapsed_s"], "power_w": trace["power_w"], "estimated": estimated})
    return items


def metrics_table(row: pd.Series, task: str) -> dbc.Table:
    estimated = bool(row.get("energy_is_estimate"))
    body = []
    for metric in rated_metrics(task):
        index = row.get(f"{metric}_index")
        name = metric_title(metric)
        if estimated and metric.startswith("energy"):
            name = [name, html.Span(f" {ESTIMATED}", className="elex-estimated")]
        body.append(html.Tr([html.Td(name), html.Td(format_value(metric, row.get(metric))),
                             html.Td("n/a" if index is None or pd.isna(index) else f"{index:.3g}"),
                             html.Td(rating_badge(row.get(f"{metric}_rating")))]))
    for metric in ("energy_j", "power_mean_w", "time_s", "co2eq_g", "n_train_samples"):
        if metric in rated_metrics(task) or metric not in row or pd.isna(row.get(metric)):
            continue
        name = metric_title(metric)
        if task == "infer" and metric in ("energy_j", "time_s", "co2eq_g"):
            name += " (whole measured run)"  # the label and the rows above are per sample
        if estimated and metric in ("energy_j", "power_mean_w", "co2eq_g"):
            name = [name, html.Span(f" {ESTIMATED}", className="elex-estimated")]
        body.append(html.Tr([html.Td(name), html.Td(format_value(metric, row.get(metric))), html.Td(""), html.Td("")]))
    provenance = row.get("energy_provenance_text") or row.get("energy_provenance") or "unknown"
    body.append(html.Tr([html.Td("Energy obtained by"),
                         html.Td(html.Span(provenance, className="elex-estimated" if estimated else ""), colSpan=3)]))
    body.append(html.Tr([html.Td("Compound rating"), html.Td(f"reference {row.get('reference_model', '')}"), html.Td(""),
                         html.Td(rating_badge(row.get("compound_rating")))]))
    head = html.Thead(html.Tr([html.Th("Metric"), html.Th("Value"), html.Th("Index"), html.Th("Rating")]))
    return dbc.Table([head, html.Tbody(body)], size="sm", bordered=False, hover=True, className="mb-0")


def with_alone_flag(row: pd.Series, table: pd.DataFrame) -> pd.Series:
    """``row`` with ``rated_alone``: only its reference model ran its task in its environment and data set,
    so its ratings compare it with itself (the label says "Not compared", as the label generator's do)."""
    row = row.copy()
    row["rated_alone"] = rated_alone(table, row["task"], row["environment"], row["dataset"], row.get("reference_model", ""))
    return row


def summary(row: pd.Series) -> dict:
    """The row as plain JSON (NaN -> null), for the summary download."""
    out = {}
    for key, value in row.items():
        if key in PRIVATE_COLUMNS:
            continue
        if isinstance(value, (np.integer,)):
            value = int(value)
        elif isinstance(value, (float, np.floating)):
            value = None if np.isnan(value) else float(value)
        elif isinstance(value, np.bool_):
            value = bool(value)
        out[key] = value
    return out


def register(app, data: ResultsData) -> None:
    @app.callback(
        Output(ids.STORE_SELECTED, "data"), Output(ids.TABS, "active_tab"),
        Input(ids.SCATTER, "clickData"), prevent_initial_call=True,
    )
    def select(click):
        try:
            run_id = click["points"][0]["customdata"][0]
        except (TypeError, KeyError, IndexError):
            return no_update, no_update
        return run_id, ids.TAB_EXPERIMENT

    def selected_row(run_id, task, uploads, reference, mode, weights, weight_ids, bounds, bound_ids):
        if not run_id:
            return None
        """The chosen run, rated with the current settings; None if it is not among them. Raises
        ``MlelError`` where the settings cannot rate the runs (the caller says why)."""
        settings = settings_from_controls(task, reference, mode, weights, weight_ids, bounds, bound_ids)
        row = data.rated_row(settings, run_id, uploads_from_store(uploads))
        return None if row is None else with_alone_flag(row, data.combined(uploads_from_store(uploads)))

    def label_of(row, task, uploads, reference, mode, weights, weight_ids, bounds, bound_ids):
        """The row's label data, saying how it was rated where that differs from the default (as the
        label generator's labels do)."""
        from mlel.labels import label_data_from_row

        settings = settings_from_controls(task, reference, mode, weights, weight_ids, bounds, bound_ids)
        plain = RatingSettings(task=settings.task, reference=settings.reference, mode=DEFAULT_MODE)
        defaults = data.rated(plain, uploads_from_store(uploads)).attrs.get("boundaries", {})
        return label_data_from_row(row, rating_settings=rating_settings_text(settings, defaults))

    @app.callback(
        output=dict(title=Output(ids.EXPERIMENT_TITLE, "children"), label=Output(ids.EXPERIMENT_LABEL, "src"),
                    label_style=Output(ids.EXPERIMENT_LABEL, "style"),
                    no_pdf=Output(ids.EXPERIMENT_LABEL_PDF, "disabled"),
                    no_summary=Output(ids.EXPERIMENT_DOWNLOAD_SUMMARY, "disabled"),
                    no_log=Output(ids.EXPERIMENT_DOWNLOAD_LOG, "disabled"),
                    metrics=Output(ids.EXPERIMENT_METRICS, "children"), trace=Output(ids.EXPERIMENT_TRACE, "figure")),
        inputs=dict(run_id=Input(ids.STORE_SELECTED, "data"), task=Input(ids.FILTER_TASK, "value"),
                    uploads=Input(ids.STORE_UPLOADS, "data"), **RATING_INPUTS),
    )
    def show(run_id, task, uploads, reference, mode, weights, weight_ids, bounds, bound_ids):
        try:
            row = selected_row(run_id, task, uploads, reference, mode, weights, weight_ids, bounds, bound_ids)
            problem = None
        except MlelError as exc:
            row, problem = None, f"The {task} runs cannot be rated with these settings: {exc}"
        if row is None:
            text = problem or ("Click a point in the trade-off plot to see one experiment here." if not run_id else
                               f"Run {run_id} is not among the rated {task} runs.")
            return dict(title=html.Div(text, className="elex-small"), label=None, label_style=HIDDEN, no_pdf=True,
                        no_summary=True, no_log=True, metrics=None,
                        trace=figures.trace_figure([], empty_message="No run chosen yet"))
        try:
            png = data.label(label_of(row, task, uploads, reference, mode, weights, weight_ids, bounds, bound_ids), "png")
            src = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
        except MlelError as exc:
            log.warning("no label for %s: %s", run_id, exc)
            src = None
        title = [f"{row['model']} ", html.Small(f"{row['environment']} · {row['dataset']} · {row.get('date', '')}",
                                                  className="text-muted")]
        if row.get("energy_is_estimate"):
            title.append(dbc.Badge(f"energy {ESTIMATED}", color="warning", className="ms-2"))
        record = merged_log(row, uploads)
        return dict(title=title, label=src, label_style={} if src else HIDDEN, no_pdf=src is None, no_summary=False,
                    no_log=record is None, metrics=metrics_table(row, task),
                    trace=figures.trace_figure(trace_items(record)))

    def merged_log(row, uploads) -> dict | None:
        for upload in uploads_from_store(uploads):
            if row["run_id"] in upload.logs:
                return upload.logs[row["run_id"]]
        return data.merged_log(row.get("path") or "")

    @app.callback(
        Output(ids.EXPERIMENT_DOWNLOAD, "data"),
        Input(ids.EXPERIMENT_LABEL_PDF, "n_clicks"), Input(ids.EXPERIMENT_DOWNLOAD_SUMMARY, "n_clicks"),
        Input(ids.EXPERIMENT_DOWNLOAD_LOG, "n_clicks"),
        State(ids.STORE_SELECTED, "data"), State(ids.FILTER_TASK, "value"), State(ids.STORE_UPLOADS, "data"),
        *(State(i.component_id, i.component_property) for i in RATING_INPUTS.values()),
        prevent_initial_call=True,
    )
    def download(_pdf, _summary, _log, run_id, task, uploads, *rating):
        try:
            row = selected_row(run_id, task, uploads, *rating)
        except MlelError:  # the experiment view already says why
            return no_update
        if row is None:
            return no_update
        stem = str(row["run_id"]).replace("/", "_")
        if ctx.triggered_id == ids.EXPERIMENT_LABEL_PDF:
            return dcc.send_bytes(data.label(label_of(row, task, uploads, *rating), "pdf"), f"label_{stem}.pdf")
        if ctx.triggered_id == ids.EXPERIMENT_DOWNLOAD_SUMMARY:
            return dcc.send_string(json.dumps(summary(row), indent=2), f"summary_{stem}.json")
        record = merged_log(row, uploads)
        if record is None:
            return no_update
        return dcc.send_string(json.dumps(record, indent=1), f"{stem}.json")
