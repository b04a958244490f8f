"""Trade-off search results: the runs of one search (non-empty ``search_id``), their front and the
hypervolume after each evaluation. The search itself lives in ``mlel.tradeoff``; this view only reads
the results table."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, html

from mlel.elex import figures, ids
from mlel.elex.data import ResultsData, uploads_from_store
from mlel.elex.view import search_evaluations, search_objective


def layout() -> html.Div:
    return dbc.Card(dbc.CardBody([
        html.P("The evaluations of one search (python -m mlel.tradeoff, merged with merge_results.py) in the order "
               "they ran, with the energy the search optimised (training, per prediction, or training plus "
               "serving: rebuilt from each evaluation's training and inference runs) against the test split's "
               "figure of the metric it chose on (accuracy, or weighted F1 for --objective f1). "
               "A search spans model families: the sidebar's filters do not apply here. A search that chose "
               "on a validation part (--validation-size) found its front by that; its front.json has it.",
               className="elex-small"),
        html.Div("Search", className="elex-label"),
        dcc.Dropdown(id=ids.SEARCH_ID, clearable=False, placeholder="no trade-off search among these runs"),
        html.Div(id=ids.SEARCH_NOTE, className="elex-small mt-1"),
        dbc.Row([
            dbc.Col(dcc.Graph(id=ids.SEARCH_GRAPH, config={"displaylogo": False}), lg=7),
            dbc.Col(dcc.Graph(id=ids.SEARCH_HYPERVOLUME, config={"displaylogo": False}), lg=5),
        ]),
    ]))


def search_ids(runs) -> list[str]:
    return sorted(s for s in runs["search_id"].dropna().astype(str).unique() if s)


def register(app, data: ResultsData) -> None:
    @app.callback(Output(ids.SEARCH_ID, "options"), Output(ids.SEARCH_ID, "value"), Output(ids.SEARCH_NOTE, "children"),
                  Input(ids.STORE_UPLOADS, "data"), State(ids.SEARCH_ID, "value"))
    def searches(uploads, chosen):
        found = search_ids(data.combined(uploads_from_store(uploads)))
        note = "" if found else "No trade-off search in these results: run python -m mlel.tradeoff and merge its folder."
        return found, (chosen if chosen in found else found[0] if found else None), note

    @app.callback(Output(ids.SEARCH_GRAPH, "figure"), Output(ids.SEARCH_HYPERVOLUME, "figure"),
                  Input(ids.SEARCH_ID, "value"), Input(ids.FILTER_TASK, "value"), Input(ids.STORE_UPLOADS, "data"))
    def show(search_id, task, uploads):
        table = data.combined(uploads_from_store(uploads))
        runs = table[table["search_id"].astype(str) == (search_id or "\0")]
        evaluations, title, missing = search_evaluations(runs, task)
        note = (f"{missing} evaluation{'s' if missing > 1 else ''} left out: no inference run merged "
                "(merge the search's whole experiments/ folder)") if missing else ""
        empty = "No search chosen" if not search_id else "No evaluation with its energy: " + (note or "no runs")
        return figures.search_figures(evaluations, "energy_j", search_objective(runs), False, True, x_title=title,
                                      note=note, empty_message=empty)
