"""Scaling: energy and accuracy against the number of training samples, per model, log-log with
fitted power laws, from the synthetic-data series (data sets named ``synthetic...``)."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Output, dcc, html

from mlel.elex import figures, ids
from mlel.elex.data import ResultsData
from mlel.elex.metrics import ESTIMATED, metric_title
from mlel.elex.sections.common import FILTER_INPUTS, filtered_values

SCALING_PREFIX = "synthetic"
TASK_WORDS = {"train": "training", "infer": "inference"}


def layout() -> html.Div:
    return dbc.Card(dbc.CardBody([
        html.P("Runs on synthetic data of growing size: each line is a fitted power law y = a·n^b "
               "(straight on log-log axes). These series are their own data sets: the sidebar's data set filter "
               "does not apply here.", className="elex-small"),
        dcc.Graph(id=ids.SCALING_GRAPH, style={"height": "460px"}, config={"displaylogo": False}),
        html.Div(id=ids.SCALING_FITS),
    ]))


def register(app, data: ResultsData) -> None:
    @app.callback(Output(ids.SCALING_GRAPH, "figure"), Output(ids.SCALING_FITS, "children"), inputs=FILTER_INPUTS)
    def scaling(task, model, backend, environment, dataset, uploads):
        runs = filtered_values(data, task, model, backend, environment, None, uploads)
        runs = runs[runs["dataset"].str.startswith(SCALING_PREFIX) & runs["n_train_samples"].notna()]
        energy = "energy_per_sample_j" if task == "infer" else "energy_j"
        if runs["backend"].nunique() > 1:
            # one series per model and backend: a torch and a scikit-learn MLP scale differently
            runs = runs.assign(model=runs["model"].astype(str) + " / " + runs["backend"].astype(str))
        figure, fits = figures.scaling_figure(runs, energy)
        if fits.empty:
            return figure, html.Div(f"No synthetic-data series of {TASK_WORDS[task]} runs with at least two sizes in "
                                    "this selection.", className="elex-small")
        rows = [html.Tr([html.Td(f.model), html.Td(metric_title(f.metric) + (f" {ESTIMATED}" if f.estimated else "")),
                         html.Td(f"{f.a:.3g}"), html.Td(f"{f.exponent:.2f}")]) for f in fits.itertuples(index=False)]
        head = html.Thead(html.Tr([html.Th("Model"), html.Th("Metric"), html.Th("a"), html.Th("exponent b")]))
        return figure, dbc.Table([head, html.Tbody(rows)], size="sm", hover=True)
