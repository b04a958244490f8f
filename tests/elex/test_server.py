"""The callbacks through the app's endpoint, without a browser: empty results and the MLEE reference logs."""

from __future__ import annotations

import pytest

from mlel.elex import create_app, ids
from mlel.elex.client import CallbackClient, page_defaults


def test_empty_results_folder_gives_a_working_page(tmp_path):
    app = create_app([tmp_path])
    assert app.server.test_client().get("/").status_code == 200
    client = CallbackClient(app)
    page_defaults(client, "infer")
    _, answer = client.post("scatter.figure", f"{ids.FILTER_TASK}.value")
    figure = answer["response"][ids.SCATTER]["figure"]
    assert "No runs" in figure["layout"]["annotations"][0]["text"]


@pytest.fixture(scope="module")
def mlee_client():
    from tests.conftest import REFERENCE_DIR

    if not REFERENCE_DIR.is_dir():
        pytest.fail(f"reference data missing: {REFERENCE_DIR}")
    client = CallbackClient(create_app([REFERENCE_DIR]))
    page_defaults(client, "infer")
    return client


def test_mlee_logs_rate_plot_and_label(mlee_client):
    client = mlee_client
    client.values[(ids.RATING_REFERENCE, "value")] = "ResNet101"
    _, answer = client.post("scatter.figure", f"{ids.RATING_REFERENCE}.value")
    response = answer["response"]
    points = [row for t in response[ids.SCATTER]["figure"]["data"] if t.get("customdata") is not None
              for row in t["customdata"]]
    assert len(points) == 176  # every MLEE inference run is rated and drawn
    assert "176 runs shown" in str(response[ids.SUMMARY_TEXT]["children"])
    # the Pareto table lists exactly the models on the front of the plotted axes, computed here on its own
    from mlel.pareto import pareto_mask
    from mlel.results import load_results
    from mlel.elex.view import default_axes
    from tests.conftest import REFERENCE_DIR

    x, y = default_axes("infer")
    runs = load_results([REFERENCE_DIR])
    runs = runs[runs["task"] == "infer"]
    on_front = set(runs.loc[pareto_mask(runs[[x, y]].to_numpy(dtype=float), maximize=[False, True]), "model"])
    listed = str(response[ids.PARETO_TABLE]["children"])
    assert on_front and all(model in listed for model in on_front)
    assert all(model not in listed for model in set(runs["model"]) - on_front
               if not any(model in other for other in on_front))  # "ResNet50" would match "ResNet50V2"

    client.values[(ids.STORE_SELECTED, "data")] = points[0][0]
    _, answer = client.post("experiment-label.src", f"{ids.STORE_SELECTED}.data")
    shown = answer["response"]
    assert shown[ids.EXPERIMENT_LABEL]["src"].startswith("data:image/png;base64,")
    assert "measured (sampled power): GPU (NVML)" in str(shown[ids.EXPERIMENT_METRICS]["children"])
    assert "Time (whole measured run)" in str(shown[ids.EXPERIMENT_METRICS]["children"])  # beside per-sample rows
    assert "No power trace" in shown[ids.EXPERIMENT_TRACE]["figure"]["layout"]["annotations"][0]["text"]


def test_experiment_view_waits_for_a_run_and_search_view_says_why_it_is_empty(mlee_client):
    client = mlee_client
    client.values[(ids.STORE_SELECTED, "data")] = None
    _, answer = client.post("experiment-label.src", f"{ids.STORE_SELECTED}.data")
    shown = answer["response"]
    assert shown[ids.EXPERIMENT_LABEL]["style"] == {"display": "none"}  # no broken image before a click
    assert shown[ids.EXPERIMENT_LABEL_PDF]["disabled"] and shown[ids.EXPERIMENT_DOWNLOAD_SUMMARY]["disabled"]
    assert "No run chosen yet" in shown[ids.EXPERIMENT_TRACE]["figure"]["layout"]["annotations"][0]["text"]
    client.values[(ids.STORE_SELECTED, "data")] = "not-a-run"
    _, answer = client.post("experiment-label.src", f"{ids.STORE_SELECTED}.data")
    assert "is not among the rated infer runs" in str(answer["response"][ids.EXPERIMENT_TITLE]["children"])
    # settings that cannot rate say why, rather than that the run is missing
    mode = client.values.get((ids.RATING_MODE, "value"))
    client.values[(ids.RATING_MODE, "value")] = "most lenient"
    try:
        _, answer = client.post("experiment-label.src", f"{ids.RATING_MODE}.value")
    finally:
        client.values[(ids.RATING_MODE, "value")] = mode
    title = str(answer["response"][ids.EXPERIMENT_TITLE]["children"])
    assert "cannot be rated with these settings" in title and "'most lenient'" in title

    _, answer = client.post("search-id.options", f"{ids.FILTER_TASK}.value")
    assert answer["response"][ids.SEARCH_ID]["options"] == []
    assert "No trade-off search in these results" in answer["response"][ids.SEARCH_NOTE]["children"]


def _letters(client) -> dict[str, str]:
    _, answer = client.post("scatter.figure", f"{ids.RATING_REFERENCE}.value")
    return {row[0]: row[3] for t in answer["response"][ids.SCATTER]["figure"]["data"]
            if t.get("customdata") is not None for row in t["customdata"]}


def _widgets(client, kind: str) -> dict[str, tuple]:
    return {dict(key[0])["metric"]: key for key in client.values
            if isinstance(key[0], tuple) and dict(key[0]).get("type") == kind}


def test_rating_settings_change_the_ratings_as_the_method_says(mlee_client):
    from mlel.elex.view import slider_to_boundaries
    from mlel.ratings import rate_results
    from mlel.results import load_results
    from tests.conftest import REFERENCE_DIR

    client = mlee_client
    saved = dict(client.values)
    try:
        client.values[(ids.RATING_REFERENCE, "value")] = None
        page_defaults(client, "infer")
        assert client.values[(ids.RATING_REFERENCE, "value")] == "ResNet101"  # MLEE's, as the label generator's
        default = _letters(client)
        assert len(default) == 176

        # all the weight on accuracy: each compound rating is the accuracy rating, with the sliders' boundaries
        weights, bounds = _widgets(client, ids.WEIGHT), _widgets(client, ids.BOUNDARY)
        for metric, key in weights.items():
            client.values[key] = 1.0 if metric == "accuracy" else 0.0
        boundaries = {metric: slider_to_boundaries(client.values[key]) for metric, key in bounds.items()}
        expected = rate_results(load_results([REFERENCE_DIR]), "infer", "ResNet101", boundaries=boundaries)
        by_accuracy = dict(zip(expected["run_id"], expected["accuracy_rating"].map(lambda r: "ABCDE"[r])))
        assert _letters(client) == by_accuracy != default

        # 'worst' takes each run's worst metric: no rating gets better
        for metric, key in weights.items():
            client.values[key] = saved[key]
        client.values[(ids.RATING_MODE, "value")] = "worst"
        worst = _letters(client)
        assert all(worst[run] >= default[run] for run in default) and worst != default

        # boundaries far below every index: every metric rates A, so every run is A
        client.values[(ids.RATING_MODE, "value")] = "optimistic median"
        for key in bounds.values():
            client.values[key] = [-9.0, -8.9, -8.8, -8.7]
        assert set(_letters(client).values()) == {"A"}
    finally:
        client.values.clear()
        client.values.update(saved)


def test_a_label_from_elex_says_how_it_was_rated(mlee_client):
    import base64
    import io

    from pypdf import PdfReader

    client = mlee_client
    saved = dict(client.values)

    def pdf_text() -> str:
        _, answer = client.post("experiment-download.data", f"{ids.EXPERIMENT_LABEL_PDF}.n_clicks")
        sent = answer["response"][ids.EXPERIMENT_DOWNLOAD]["data"]
        return PdfReader(io.BytesIO(base64.b64decode(sent["content"]))).pages[0].extract_text()

    try:
        page_defaults(client, "infer")
        client.values[(ids.STORE_SELECTED, "data")] = _first_run(client)
        client.values[(ids.EXPERIMENT_LABEL_PDF, "n_clicks")] = 1
        assert "Rated with" not in pdf_text()  # the sidebar as it opens: the default rating
        client.values[(ids.RATING_MODE, "value")] = "worst"
        assert "Rated with worst" in pdf_text()
    finally:
        client.values.clear()
        client.values.update(saved)


def _first_run(client) -> str:
    _, answer = client.post("scatter.figure", f"{ids.RATING_REFERENCE}.value")
    return next(row[0] for t in answer["response"][ids.SCATTER]["figure"]["data"] if t.get("customdata") is not None
                for row in t["customdata"])
