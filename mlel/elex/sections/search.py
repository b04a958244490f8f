"""Trade-off search results: the runs of one search (non-empty ``search_id``), their front and the
hypervolume after each evaluation. The search itself lives in ``mlel.tradeoff``; this view only reads
the results table."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Input, Output, dcc, html

from mlel.elex import figures, ids
from mlel.elex.data import ResultsData
from mlel.elex.sections.common import FILTER_INPUTS, filtered_values


def layout() -> html.Div:
    return dbc.Card(dbc.CardBody([
        html.Div("Search", className="elex-label"),
        dcc.Dropdown(id=ids.SEARCH_ID, clearable=False, placeholder="no trade-off search in these results"),
        dbc.Row([
            dbc.Col(dcc.Graph(id=ids.SEARCH_GRAPH, config={"displaylogo": False}), lg=7),
            dbc.Col(dcc.Graph(id=ids.SEARCH_HYPERVOLUME, config={"displaylogo": False}), lg=5),
        ]),
    ]))


def register(app, data: ResultsData) -> None:
    @app.callback(Output(ids.SEARCH_ID, "options"), Output(ids.SEARCH_ID, "value"), inputs=FILTER_INPUTS)
    def searches(task, model, backend, environment, dataset, uploads):
        runs = filtered_values(data, task, None, None, None, None, uploads)
        found = sorted(s for s in runs["search_id"].dropna().astype(str).unique() if s)
        return found, (found[0] if found else None)

    @app.callback(Output(ids.SEARCH_GRAPH, "figure"), Output(ids.SEARCH_HYPERVOLUME, "figure"),
                  Input(ids.SEARCH_ID, "value"), Input(ids.FILTER_TASK, "value"), Input(ids.STORE_UPLOADS, "data"))
    def show(search_id, task, uploads):
        runs = filtered_values(data, task, None, None, None, None, uploads)
        runs = runs[runs["search_id"] == (search_id or "\0")]
        energy = "energy_per_sample_j" if task == "infer" else "energy_j"
        return figures.search_figures(runs, energy, "accuracy", False, True)
