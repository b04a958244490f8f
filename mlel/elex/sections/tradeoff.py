"""The trade-off view: scatter of two metrics with the rating grid and the Pareto front, the front
as a list, and the rating counts per environment."""

from __future__ import annotations

import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, dcc, html

from mlel.elex import figures, ids
from mlel.elex.data import ResultsData
from mlel.elex.metrics import ESTIMATED, RATING_COLORS, RATING_LETTERS, format_value, metric_title
from mlel.elex.sections.common import FILTER_INPUTS, RATING_INPUTS, filtered_values, rated_view
from mlel.elex.view import higher_is_better, plotted_column

MAX_POINTS = 4000
"""Points drawn at most; more runs are sampled (the Pareto front always complete), since a browser
cannot show 100,000 markers usefully and the figure's JSON would dominate the callback's time."""

AXIS_INPUTS = dict(
    x=Input(ids.AXIS_X, "value"), y=Input(ids.AXIS_Y, "value"), values=Input(ids.AXIS_VALUES, "value"),
    scale_x=Input(ids.AXIS_SCALE_X, "value"), scale_y=Input(ids.AXIS_SCALE_Y, "value"),
)


def layout() -> html.Div:
    return html.Div([
        dbc.Card(dbc.CardBody([
            html.Div(id=ids.SUMMARY_TEXT, className="elex-small mb-1"),
            dcc.Graph(id=ids.SCATTER, style={"height": "560px"}, config={"displaylogo": False}),
            html.Div("Click a point to see its energy label, metrics and power draw.", className="elex-small"),
        ])),
        dbc.Row([
            dbc.Col(dbc.Card([dbc.CardHeader("Pareto front of the runs shown"),
                              dbc.CardBody(html.Div(id=ids.PARETO_TABLE), style={"maxHeight": "420px", "overflowY": "auto"})]), lg=6),
            dbc.Col(dbc.Card([dbc.CardHeader("Compound ratings per environment"),
                              dbc.CardBody(dcc.Graph(id=ids.RATING_BARS, config={"displayModeBar": False}))]), lg=6),
        ]),
    ])


def rating_badge(rating) -> html.Span:
    if rating is None or pd.isna(rating):
        return html.Span("-", className="elex-rating", style={"background": "#999"})
    r = int(rating)
    return html.Span(RATING_LETTERS[r], className="elex-rating", style={"background": RATING_COLORS[r]})


def pareto_list(front: pd.DataFrame, x: str, y: str, x_metric: str, y_metric: str, use_index: bool) -> html.Div:
    if front.empty:
        return html.Div("No runs with both metrics.", className="elex-small")

    def shown(metric, column, value):
        return f"{value:.3g}x" if use_index and column.endswith("_index") else format_value(metric, value)

    # the two plotted values next to the model, the long environment name last: a narrow card shows what matters
    header = html.Thead(html.Tr([html.Th("Rating"), html.Th("Model"), html.Th(metric_title(x_metric)),
                                 html.Th(metric_title(y_metric)), html.Th("Data set"), html.Th("Environment")]))
    rows = [
        html.Tr([
            html.Td(rating_badge(r.compound_rating)), html.Td(r.model),
            html.Td(shown(x_metric, x, xv), className="text-nowrap"), html.Td(shown(y_metric, y, yv), className="text-nowrap"),
            html.Td(r.dataset),
            html.Td([r.environment] + ([html.Span(f" {ESTIMATED}", className="elex-estimated")] if r.energy_is_estimate else []),
                    className="elex-small"),
        ])
        for r, xv, yv in zip(front.itertuples(index=False), front[x], front[y])
    ]
    return dbc.Table([header, html.Tbody(rows)], size="sm", hover=True, className="mb-0")


def register(app, data: ResultsData) -> None:
    @app.callback(
        output=dict(figure=Output(ids.SCATTER, "figure"), front=Output(ids.PARETO_TABLE, "children"),
                    bars=Output(ids.RATING_BARS, "figure"), summary=Output(ids.SUMMARY_TEXT, "children")),
        inputs=dict(**FILTER_INPUTS, **RATING_INPUTS, **AXIS_INPUTS),
    )
    def update(task, model, backend, environment, dataset, uploads, reference, mode, weights, weight_ids,
               bounds, bound_ids, x, y, values, scale_x, scale_y):
        rated, shown, error = rated_view(data, task, model, backend, environment, dataset, uploads, reference, mode,
                                         weights, weight_ids, bounds, bound_ids)
        if error or not x or not y or "compound_rating" not in shown or shown.empty:
            message = error or _why_empty(data, task, model, backend, environment, dataset, uploads)
            empty = data.table.iloc[0:0].assign(compound_rating=[])
            return dict(figure=figures.tradeoff_figure(empty, x or "energy_j", y or "accuracy"),
                        front=html.Div(message, className="elex-small"),
                        bars=figures.rating_counts_figure(empty),
                        summary=html.Span(message, className="text-danger" if error else ""))
        use_index = values == "index"
        x_col, y_col = plotted_column(shown, x, use_index), plotted_column(shown, y, use_index)
        max_x = True if x_col.endswith("_index") else higher_is_better(task, x)
        max_y = True if y_col.endswith("_index") else higher_is_better(task, y)
        boundaries = rated.attrs.get("boundaries", {})
        x_bands, y_bands = _bands(shown, rated, boundaries, x, x_col, max_x), _bands(shown, rated, boundaries, y, y_col, max_y)
        front_mask = figures.pareto_front_mask(shown[x_col], shown[y_col], max_x, max_y)
        figure = figures.tradeoff_figure(shown, x_col, y_col, use_index=use_index, log_x=scale_x == "log",
                                         log_y=scale_y == "log", maximize_x=max_x, maximize_y=max_y,
                                         x_bands=x_bands, y_bands=y_bands, max_points=MAX_POINTS,
                                         x_metric=x, y_metric=y, front=front_mask)
        front = figures.pareto_table(shown, x_col, y_col, max_x, max_y, mask=front_mask)
        n_est = int(shown["energy_is_estimate"].sum())
        unrated = len(data.table[data.table["task"] == task]) - len(rated)
        summary = [f"{len(shown):,} runs shown of {len(rated):,} rated {task} runs"]
        drawn = int((pd.to_numeric(shown[x_col], errors="coerce").notna()
                     & pd.to_numeric(shown[y_col], errors="coerce").notna()).sum())
        if drawn < len(shown):
            summary.append(f" ({drawn:,} drawn: {len(shown) - drawn:,} have no {metric_title(x)} or {metric_title(y)})")
        used = shown.drop_duplicates("environment")["reference_model"].astype(str).value_counts()
        if len(used) > 1 or (reference and used.index[0] != reference):
            summary.append("; references: " + ", ".join(f"{m} in {n} environment{'s' if n > 1 else ''}" for m, n in used.items()))
        if unrated > 0:
            summary.append(f"; {unrated:,} not rated (no reference run in their environment and data set)")
        if n_est:
            summary.append(html.Span(f"; {n_est:,} with energy {ESTIMATED} (hollow markers)", className="elex-estimated"))
        return dict(figure=figure, front=pareto_list(front, x_col, y_col, x, y, use_index),
                    bars=figures.rating_counts_figure(shown), summary=summary)


def _why_empty(data: ResultsData, task, model, backend, environment, dataset, uploads) -> str:
    if data.table.empty:
        return "No runs in these results."
    if filtered_values(data, task, model, backend, environment, dataset, uploads).empty:
        return "No runs match these filters: clear one of them in the sidebar."
    return "No rated runs in this selection: none has a run of the reference model in its environment and data set."


def _bands(shown: pd.DataFrame, rated: pd.DataFrame, boundaries: dict, metric: str, column: str, higher: bool):
    """The rating grid along one axis: in index space always; in value space only when the runs shown
    share one reference (one environment and data set), whose value turns index boundaries into values."""
    if metric not in boundaries:
        return []
    if column.endswith("_index"):
        return figures.axis_bands(boundaries[metric], True, None, True)
    groups = shown[["environment", "dataset"]].drop_duplicates()
    if len(groups) != 1:
        return []
    env, dataset = groups.iloc[0]
    ref = rated[(rated["environment"] == env) & (rated["dataset"] == dataset) & (rated["model"] == rated["reference_model"])]
    if ref.empty:
        return []
    return figures.axis_bands(boundaries[metric], higher, float(ref[metric].median()), False)
