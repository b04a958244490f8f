"""Hardware comparison: the same model and data set on different hardware or thread counts."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, html

from mlel.elex import figures, ids
from mlel.elex.data import ResultsData
from mlel.elex.metrics import ESTIMATED, format_value, metric_title
from mlel.elex.sections.common import FILTER_INPUTS, filtered_values


def layout() -> html.Div:
    return dbc.Card(dbc.CardBody([
        html.P("The same model and data set on each environment (hardware, thread count, backend): a stronger "
               "machine may draw more power yet finish sooner and spend less energy in total.", className="elex-small"),
        dbc.Row([
            dbc.Col([html.Div("Model", className="elex-label"), dcc.Dropdown(id=ids.HARDWARE_MODEL, clearable=False)], md=6),
            dbc.Col([html.Div("Data set", className="elex-label"), dcc.Dropdown(id=ids.HARDWARE_DATASET, clearable=False)], md=6),
        ]),
        dcc.Graph(id=ids.HARDWARE_GRAPH, config={"displayModeBar": False}),
        html.Div(id=ids.HARDWARE_TABLE),
    ]))


def register(app, data: ResultsData) -> None:
    @app.callback(
        Output(ids.HARDWARE_MODEL, "options"), Output(ids.HARDWARE_MODEL, "value"),
        Output(ids.HARDWARE_DATASET, "options"), Output(ids.HARDWARE_DATASET, "value"),
        inputs=dict(**FILTER_INPUTS, chosen_model=State(ids.HARDWARE_MODEL, "value"),
                    chosen_dataset=State(ids.HARDWARE_DATASET, "value")),
    )
    def choices(task, model, backend, environment, dataset, uploads, chosen_model, chosen_dataset):
        runs = filtered_values(data, task, model, backend, environment, dataset, uploads)
        # models that ran in more than one environment come first: those are the comparisons
        spread = runs.groupby("model")["environment"].nunique().sort_values(ascending=False, kind="stable")
        models = list(spread.index)
        if chosen_model not in models:
            chosen_model = models[0] if models else None
        mine = runs.loc[runs["model"] == chosen_model] if chosen_model else runs.iloc[0:0]
        # data sets where the model ran in most environments first: the default is a real comparison
        spread_ds = mine.groupby("dataset")["environment"].nunique()
        datasets = sorted(spread_ds.index, key=lambda d: (-spread_ds[d], d))
        if chosen_dataset not in datasets:
            chosen_dataset = datasets[0] if datasets else None
        return models, chosen_model, datasets, chosen_dataset

    @app.callback(
        Output(ids.HARDWARE_GRAPH, "figure"), Output(ids.HARDWARE_TABLE, "children"),
        inputs=dict(**FILTER_INPUTS, chosen_model=Input(ids.HARDWARE_MODEL, "value"),
                    chosen_dataset=Input(ids.HARDWARE_DATASET, "value")),
    )
    def compare(task, model, backend, environment, dataset, uploads, chosen_model, chosen_dataset):
        everything = filtered_values(data, task, model, backend, environment, dataset, uploads)
        runs = everything[(everything["model"] == chosen_model) & (everything["dataset"] == chosen_dataset)]
        energy, time = ("energy_per_sample_j", "time_per_sample_s") if task == "infer" else ("energy_j", "time_s")
        table = figures.hardware_summary(runs, energy, time)
        if everything.empty:
            message = "No runs match these filters: clear one of them in the sidebar."
            return figures.hardware_figure(table, energy, time, empty_message=message), html.Div(message, className="elex-small")
        rows = [html.Tr([
            html.Td([r.environment] + ([html.Span(f" {ESTIMATED}", className="elex-estimated")] if r.estimated else [])),
            html.Td("" if not r.threads else int(r.threads)), html.Td(int(r.runs)),
            html.Td(format_value("power_mean_w", r.power_mean_w)), html.Td(format_value(time, getattr(r, time))),
            html.Td(format_value(energy, getattr(r, energy))),
            html.Td(r.provenance, className="elex-estimated" if r.estimated else ""),
        ]) for r in table.itertuples(index=False)]
        head = html.Thead(html.Tr([html.Th(h) for h in ("Environment", "Threads", "Runs", "Mean power", metric_title(time),
                                                         metric_title(energy), "Energy obtained by")]))
        return figures.hardware_figure(table, energy, time), dbc.Table([head, html.Tbody(rows)], size="sm", hover=True)
