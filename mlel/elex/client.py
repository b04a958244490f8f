"""Callback requests the way the browser sends them, without a browser: for the benchmark
(``bench/elex_scale.py``) and for tests of the server side (Flask test client,
``POST /_dash-update-component``)."""

from __future__ import annotations

import json
import time


class CallbackClient:
    """Posts callback requests the way the browser does, with the page's current control values."""

    def __init__(self, app):
        self.app = app
        self.client = app.server.test_client()
        self.values: dict[tuple, object] = {}

    def _key(self, output_contains: str) -> str:
        for key in self.app.callback_map:
            if output_contains in key:
                return key
        raise KeyError(output_contains)

    def _resolve(self, dep: dict):
        cid, prop = dep["id"], dep["property"]
        if cid.startswith("{"):  # a pattern-matching dependency: the widgets that exist now
            pattern = json.loads(cid)
            widgets = [(dict(wid_key), value) for (wid_key, p), value in self.values.items()
                       if p == "value" and isinstance(wid_key, tuple) and dict(wid_key).get("type") == pattern["type"]]
            # a widget's "id" property is its id, as the browser sends it (the rating settings read them)
            return [{"id": wid, "property": prop, "value": wid if prop == "id" else value} for wid, value in widgets]
        return {"id": cid, "property": prop, "value": self.values.get((cid, prop))}

    def post(self, output_contains: str, changed: str) -> tuple[float, dict]:
        key = self._key(output_contains)
        spec = self.app.callback_map[key]
        outputs = [{"id": o.split(".")[0], "property": o.split(".")[1]} for o in key.strip(".").split("...")]
        payload = {
            "output": key, "outputs": outputs if len(outputs) > 1 else outputs[0],
            "inputs": [self._resolve(d) for d in spec["inputs"]],
            "state": [self._resolve(d) for d in spec.get("state", [])],
            "changedPropIds": [changed],
        }
        start = time.perf_counter()
        response = self.client.post("/_dash-update-component", json=payload)
        elapsed = time.perf_counter() - start
        if response.status_code != 200:
            raise RuntimeError(f"{key}: HTTP {response.status_code}: {response.get_data(as_text=True)[:500]}")
        return elapsed, response.get_json()


def pattern_widgets(children) -> list[dict]:
    """The pattern-matching widgets (weights, boundaries) inside a serialised component tree."""
    found = []
    stack = [children]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            props = node.get("props", {})
            if isinstance(props.get("id"), dict):
                found.append({"id": props["id"], "value": props.get("value")})
            stack.append(props.get("children"))
    return found


def page_defaults(client: "CallbackClient", task: str) -> dict:
    """Set the controls as a fresh page does (the task callback's answer); returns that answer."""
    from mlel.elex import ids

    v = client.values
    v.update({(ids.FILTER_TASK, "value"): task, (ids.STORE_UPLOADS, "data"): [],
              (ids.RATING_REFERENCE, "value"): None, (ids.AXIS_X, "value"): None, (ids.AXIS_Y, "value"): None,
              (ids.RATING_MODE, "value"): "optimistic median", (ids.AXIS_VALUES, "value"): "value",
              (ids.AXIS_SCALE_X, "value"): "log", (ids.AXIS_SCALE_Y, "value"): "linear"})
    for c in (ids.FILTER_MODEL, ids.FILTER_BACKEND, ids.FILTER_ENVIRONMENT, ids.FILTER_DATASET):
        v[(c, "value")] = []
    _, response = client.post("rating-widgets.children", f"{ids.FILTER_TASK}.value")
    r = response["response"]
    for cid in (ids.RATING_REFERENCE, ids.AXIS_X, ids.AXIS_Y):
        v[(cid, "value")] = r[cid]["value"]
    for widget in pattern_widgets(r[ids.RATING_WIDGETS]["children"]):
        v[(tuple(sorted(widget["id"].items())), "value")] = widget["value"]
    return r
