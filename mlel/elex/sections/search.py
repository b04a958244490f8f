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
        html.P("The evaluations of one search (python -m mlel.tradeoff, merged with merge_results.py) in the order "
               "they ran. A search spans model families and data set choices of its own: of the sidebar's "
               "filters only the task applies here. The axes are the task's own energy and the test accuracy; a "
               "search that chose on inference cost too (--energy train+infer) or on a validation part "
               "(--validation-size) found its front by those, and its front.json has it.", className="elex-small"),
        html.Div("Search", className="elex-label"),
        dcc.Dropdown(id=ids.SEARCH_ID, clearable=False, placeholder="no trade-off search among these runs"),
        html.Div(id=ids.SEARCH_NOTE, className="elex-small mt-1"),
        dbc.Row([
            dbc.Col(dcc.Graph(id=ids.SEARCH_GRAPH, config={"displaylogo": False}), lg=7),
            dbc.Col(dcc.Graph(id=ids.SEARCH_HYPERVOLUME, config={"displaylogo": False}), lg=5),
        ]),
    ]))


TASK_WORDS = {"train": "training", "infer": "inference"}


def search_ids(runs) -> list[str]:
    return sorted(s for s in runs["search_id"].dropna().astype(str).unique() if s)


def register(app, data: ResultsData) -> None:
    @app.callback(Output(ids.SEARCH_ID, "options"), Output(ids.SEARCH_ID, "value"), Output(ids.SEARCH_NOTE, "children"),
                  inputs=FILTER_INPUTS)
    def searches(task, model, backend, environment, dataset, uploads):
        found = search_ids(filtered_values(data, task, None, None, None, None, uploads))
        note = ""
        if not found:
            other = "train" if task == "infer" else "infer"
            elsewhere = search_ids(filtered_values(data, other, None, None, None, None, uploads))
            note = (f"No trade-off search among the {TASK_WORDS[task]} runs; {len(elsewhere)} among the "
                    f"{TASK_WORDS[other]} runs: switch the task in the sidebar." if elsewhere else
                    "No trade-off search in these results: run python -m mlel.tradeoff and merge its folder.")
        return found, (found[0] if found else None), note

    @app.callback(Output(ids.SEARCH_GRAPH, "figure"), Output(ids.SEARCH_HYPERVOLUME, "figure"),
                  Input(ids.SEARCH_ID, "value"), Input(ids.FILTER_TASK, "value"), Input(ids.STORE_UPLOADS, "data"))
    def show(search_id, task, uploads):
        runs = filtered_values(data, task, None, None, None, None, uploads)
        runs = runs[runs["search_id"] == (search_id or "\0")]
        energy = "energy_per_sample_j" if task == "infer" else "energy_j"
        return figures.search_figures(runs, energy, "accuracy", False, True)
