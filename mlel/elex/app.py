"""The ELEx app factory: ``create_app(results_paths)`` reads the results once and returns a Dash app."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence

import dash_bootstrap_components as dbc
from dash import Dash, dcc, html

from mlel.elex import ids
from mlel.elex.data import ResultsData
from mlel.elex.sections import controls, experiment, hardware, scaling, search, tradeoff, upload

log = logging.getLogger(__name__)

ASSETS = Path(__file__).resolve().parents[2] / "assets"
TITLE = "ELEx - Energy Label Exploration"


def create_app(results_paths: Sequence[str | Path] | None = None, *, data: ResultsData | None = None,
               assets_folder: str | Path = ASSETS) -> Dash:
    """A Dash app over the results in ``results_paths`` (files or folders), or over a prepared ``data``.

    The table is read once here; callbacks only read it (rated tables are cached per rating setting).
    """
    if data is None:
        data = ResultsData.from_paths(list(results_paths or []))
    _warm_up(data)
    app = Dash(__name__, title=TITLE, assets_folder=str(assets_folder), suppress_callback_exceptions=False,
               update_title=None)
    app.layout = layout(data)
    for section in (controls, tradeoff, experiment, hardware, scaling, search, upload):
        section.register(app, data)
    app.server.config["ELEX_DATA"] = data  # for tools and tests; never written to after start-up
    return app


def _warm_up(data: ResultsData) -> None:
    """Rate the first task with the page's defaults and draw one label, so that the first page load and
    the first click do not pay for matplotlib's import and font cache (~0.5 s)."""
    from mlel.elex.data import RatingSettings
    from mlel.elex.rating import DEFAULT_MODE, default_reference
    from mlel.errors import MlelError
    from mlel.labels import label_data_from_row

    task = data.tasks()[0]
    try:
        rated = data.rated(RatingSettings(task=task, reference=default_reference(data.table, task), mode=DEFAULT_MODE))
        if len(rated):
            data.label(label_data_from_row(rated.iloc[0]), "png")
    except MlelError as exc:  # the page shows the problem; start-up goes on
        log.warning("could not prepare the first view: %s", exc)


def layout(data: ResultsData) -> html.Div:
    n = len(data.table)
    estimated = int(data.table["energy_is_estimate"].sum())
    subtitle = f"{n:,} runs, {data.table['environment'].nunique()} environments"
    if estimated:
        subtitle += f", {estimated:,} with estimated energy"
    navbar = dbc.Navbar(dbc.Container([
        html.Div([
            html.Img(src="/assets/logo.svg", height="34px", className="me-2"),
            dbc.NavbarBrand("ELEx", className="me-2"),
            html.Span("Energy Label Exploration", className="elex-sub me-3"),
        ], className="d-flex align-items-center"),
        html.Span(subtitle, className="elex-sub"),
    ], fluid=True), className="elex-navbar mb-3", color="#1f2d3d", dark=True, id=ids.NAVBAR)
    tabs = dbc.Tabs([
        dbc.Tab(tradeoff.layout(), label="Trade-offs", tab_id=ids.TAB_TRADEOFF),
        dbc.Tab(experiment.layout(), label="Experiment", tab_id=ids.TAB_EXPERIMENT),
        dbc.Tab(hardware.layout(), label="Hardware comparison", tab_id=ids.TAB_HARDWARE),
        dbc.Tab(scaling.layout(), label="Scaling", tab_id=ids.TAB_SCALING),
        dbc.Tab(search.layout(), label="Trade-off search", tab_id=ids.TAB_SEARCH),
    ], id=ids.TABS, active_tab=ids.TAB_TRADEOFF, className="mb-2")
    return html.Div([
        dcc.Store(id=ids.STORE_UPLOADS, storage_type="memory", data=[]),
        dcc.Store(id=ids.STORE_SELECTED, storage_type="memory"),
        navbar,
        dbc.Container(dbc.Row([
            dbc.Col([controls.layout(data), upload.layout()], lg=3, md=4),
            dbc.Col(tabs, lg=9, md=8, className="elex-main"),
        ]), fluid=True, className="pb-5"),
    ])
