"""Upload of merged logs (drag and drop) to explore beside the loaded results, per user."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, html, no_update

from mlel.elex import ids
from mlel.elex.data import MAX_UPLOAD_BYTES, parse_upload, uploads_from_store, uploads_to_store
from mlel.errors import MlelError


def layout() -> dbc.Card:
    return dbc.Card([
        dbc.CardHeader("Your logs"),
        dbc.CardBody([
            dcc.Upload(id=ids.UPLOAD, multiple=True, className="elex-upload",
                       children=html.Div(["Drop merged logs (JSON) here or ", html.A("choose files")])),
            html.Div(f"mlel merged results or MLEE logs, at most {MAX_UPLOAD_BYTES // 2**20} MB each; "
                     "they stay in this browser tab.", className="elex-small mt-1"),
            html.Div(id=ids.UPLOAD_MESSAGE, className="mt-1"),
            dbc.Button("Remove uploaded logs", id=ids.UPLOAD_CLEAR, size="sm", color="link", className="p-0"),
        ]),
    ], className="elex-sidebar-card")


def register(app, data) -> None:
    @app.callback(
        Output(ids.STORE_UPLOADS, "data"), Output(ids.UPLOAD_MESSAGE, "children"),
        # emptied after each drop: dropping the same file again must reach the server (and be answered)
        Output(ids.UPLOAD, "contents"),
        Input(ids.UPLOAD, "contents"), State(ids.UPLOAD, "filename"), State(ids.STORE_UPLOADS, "data"),
        prevent_initial_call=True,
    )
    def upload(contents, filenames, stored):
        """All files must be good: one bad file rejects the drop, so nothing changes half-way."""
        stored, message = _drop(contents, filenames, stored)
        return stored, message, None

    def _drop(contents, filenames, stored):
        if not contents:
            return no_update, no_update
        current = list(uploads_from_store(stored))
        added, errors = [], []
        for name, content in zip(filenames or [], contents):
            try:
                added.append(parse_upload(name, content))
            except MlelError as exc:
                errors.append(str(exc))
        if errors:
            return no_update, dbc.Alert([html.B("Nothing was added. "), *[html.Div(e) for e in errors]],
                                        color="danger", className="py-2 mb-0 small")
        known = {u.digest for u in current}
        twice = [u for u in added if u.digest in known]
        fresh = [u for u in added if u.digest not in known]
        loaded = [u for u in fresh if data.already_loaded(u)]
        new = [u for u in fresh if u not in loaded]
        parts = [f"Added {len(new)} run(s)" + (": " + ", ".join(row["model"] for u in new for row in u.rows) if new else "") + "."]
        if twice:
            parts.append(f"{len(twice)} already uploaded.")
        if loaded:
            parts.append(f"{len(loaded)} already among the loaded results (not added twice).")
        alert = dbc.Alert(" ".join(parts), color="success" if new else "secondary", className="py-2 mb-0 small")
        return (uploads_to_store(current + new) if new else no_update), alert  # nothing new: no view redraws

    @app.callback(Output(ids.STORE_UPLOADS, "data", allow_duplicate=True),
                  Output(ids.UPLOAD_MESSAGE, "children", allow_duplicate=True),
                  Input(ids.UPLOAD_CLEAR, "n_clicks"), prevent_initial_call=True)
    def clear(_):
        return [], "Uploaded logs removed."
