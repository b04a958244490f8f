"""ELEx in real headless Chromium (dash_duo): every control and view, on made-up merged logs.

One app start per test; each test walks through several controls to keep the suite lean.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

from mlel.elex import create_app
from mlel.elex.metrics import ESTIMATED

pytestmark = pytest.mark.browser

POINTS_JS = """
const g = document.querySelector('#scatter .js-plotly-plot');
if (!g || !g.data) return null;
const out = [];
for (const t of g.data) { if (t.customdata) for (const c of t.customdata) out.push(c[1]); }
return out;"""


def wait_until(predicate, timeout=20.0, what="condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
            if last:
                return last
        except Exception as exc:  # the page is still re-rendering
            last = exc
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


def models_shown(dash_duo):
    return dash_duo.driver.execute_script(POINTS_JS)


def layout_of(dash_duo, graph_id):
    return dash_duo.driver.execute_script(f"return document.querySelector('#{graph_id} .js-plotly-plot').layout")


def click(dash_duo, css):
    element = dash_duo.find_element(css)
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", element)
    element.click()


def click_radio(dash_duo, group_id, value):
    click(dash_duo, f"#{group_id} input[value='{value}']")


def start(dash_duo, paths):
    app = create_app([str(p) for p in paths])
    dash_duo.start_server(app)
    wait_until(lambda: models_shown(dash_duo), what="scatter points")
    return app


def test_filter_axes_click_and_downloads(dash_duo, demo_logs):
    start(dash_duo, [demo_logs])
    all_models = models_shown(dash_duo)
    assert set(all_models) == {"logreg", "forest", "mlp"}

    # filter: one model
    dash_duo.select_dcc_dropdown("#filter-model", value="logreg")
    wait_until(lambda: set(models_shown(dash_duo)) == {"logreg"}, what="filtered points")
    wait_until(lambda: (lambda text: "logreg" in text and "forest" not in text and "mlp" not in text)(
        dash_duo.find_element("#pareto-table").text), what="Pareto table of the filtered runs")

    # axes: another metric, index values, linear scale
    dash_duo.select_dcc_dropdown("#axis-x", value="Time per sample [s]")
    wait_until(lambda: layout_of(dash_duo, "scatter")["xaxis"]["title"]["text"] == "Time per sample [s]", what="x title")
    click_radio(dash_duo, "axis-values", "index")
    wait_until(lambda: "index" in layout_of(dash_duo, "scatter")["xaxis"]["title"]["text"], what="index axis")
    assert layout_of(dash_duo, "scatter")["shapes"], "the rating grid is drawn in index space"
    click_radio(dash_duo, "axis-scale-x", "linear")
    wait_until(lambda: layout_of(dash_duo, "scatter")["xaxis"]["type"] == "linear", what="linear x axis")

    # estimated energy is marked in the summary and the legend
    assert ESTIMATED in dash_duo.find_element("#summary-text").text
    # click a point: its label, metrics and power trace
    point = dash_duo.find_elements("#scatter .scatterlayer .points path")[0]
    ActionChains(dash_duo.driver).move_to_element(point).pause(0.5).click().perform()
    wait_until(lambda: (dash_duo.find_element("#experiment-label").get_attribute("src") or "").startswith("data:image/png;base64,"),
               what="label image")
    assert "logreg" in dash_duo.find_element("#experiment-title").text
    metrics = dash_duo.find_element("#experiment-metrics").text
    assert "Energy per sample" in metrics and ESTIMATED in metrics and "estimated: CPU" in metrics
    trace = wait_until(lambda: dash_duo.driver.execute_script(
        "return document.querySelector('#experiment-trace .js-plotly-plot').data.map(t => t.name)"), what="trace")
    assert trace == [f"CPU {ESTIMATED}"]

    # downloads: summary JSON and the label as PDF
    click(dash_duo, "#experiment-download-summary")
    download = Path(dash_duo.download_path)
    summary = wait_until(lambda: [p for p in download.glob("summary_*.json")], what="summary download")[0]
    assert json.loads(summary.read_text())["model"] == "logreg"
    click(dash_duo, "#experiment-label-pdf")
    pdf = wait_until(lambda: [p for p in download.glob("label_*.pdf") if p.stat().st_size > 0], what="pdf download")[0]
    assert pdf.read_bytes().startswith(b"%PDF")
    click(dash_duo, "#experiment-download-log")
    merged = wait_until(lambda: [p for p in download.glob("*.json") if not p.name.startswith("summary_")], what="log")[0]
    assert "trace" in json.loads(merged.read_text())
    assert dash_duo.get_logs() == []


def test_uploads_and_rating_settings(dash_duo, demo_logs, tmp_path):
    logs = sorted(demo_logs.glob("*.json"))
    start(dash_duo, logs[1:])
    before = len(models_shown(dash_duo))
    extra = next(p for p in [logs[0]] if json.loads(p.read_text())["config"]["task"] == "infer")

    bad = tmp_path / "broken.json"
    bad.write_text('{"schema_version": "mlel.results/1", "config": ')
    dash_duo.find_element("#upload input[type=file]").send_keys(str(bad))
    dash_duo.wait_for_contains_text("#upload-message", "Nothing was added", timeout=20)
    assert "broken.json" in dash_duo.find_element("#upload-message").text
    assert len(models_shown(dash_duo)) == before

    upload_input = dash_duo.find_element("#upload input[type=file]")
    dash_duo.driver.execute_script("arguments[0].value = null", upload_input)  # a new drop, not bad + good
    upload_input.send_keys(str(extra))
    dash_duo.wait_for_contains_text("#upload-message", "Added 1 run", timeout=20)
    wait_until(lambda: len(models_shown(dash_duo)) == before + 1, what="uploaded point")
    # the same file again, then a copy of a loaded log: answered, and neither counted twice
    for again, answer in ((extra, "1 already uploaded"), (logs[1], "1 already among the loaded results")):
        upload_input = dash_duo.find_element("#upload input[type=file]")
        dash_duo.driver.execute_script("arguments[0].value = null", upload_input)
        upload_input.send_keys(str(again))
        dash_duo.wait_for_contains_text("#upload-message", answer, timeout=20)
        assert "Added 0 run(s)." in dash_duo.find_element("#upload-message").text
    assert len(models_shown(dash_duo)) == before + 1

    # rating settings: boundaries from quantiles, save them, load weights
    click(dash_duo, "#boundaries-from-quantiles")
    dash_duo.wait_for_contains_text("#settings-message", "quantiles", timeout=20)
    click(dash_duo, "#settings-save-boundaries")
    saved = wait_until(lambda: list(Path(dash_duo.download_path).glob("elex-boundaries-infer.json")), what="boundaries file")[0]
    assert json.loads(saved.read_text())["schema"] == "mlel.boundaries/1"
    weights = tmp_path / "weights.json"
    weights.write_text(json.dumps({"accuracy": 1.0, "energy_per_sample_j": 0.0}))
    dash_duo.find_element("#settings-load input[type=file]").send_keys(str(weights))
    dash_duo.wait_for_contains_text("#settings-message", "weights loaded", timeout=20)
    click(dash_duo, "#rating-mode")
    assert dash_duo.get_logs() == []


def test_hardware_scaling_and_search_views(dash_duo, demo_logs):
    start(dash_duo, [demo_logs])
    click_radio(dash_duo, "filter-task", "train")
    dash_duo.driver.find_element(By.XPATH, "//a[contains(@class,'nav-link') and normalize-space()='Hardware comparison']").click()
    bars = wait_until(lambda: dash_duo.driver.execute_script(
        "return document.querySelector('#hardware-graph .js-plotly-plot').data[0].y"), what="hardware bars")
    assert any("1 thread" in b for b in bars) and any("2 threads" in b for b in bars)
    assert all(ESTIMATED in b for b in bars)
    # the table and the graph come from one callback but render separately: wait, don't race
    dash_duo.wait_for_contains_text("#hardware-table", "Mean power", timeout=20)

    dash_duo.driver.find_element(By.XPATH, "//a[contains(@class,'nav-link') and normalize-space()='Scaling']").click()
    dash_duo.wait_for_contains_text("#scaling-fits", "exponent", timeout=20)
    fits = dash_duo.find_element("#scaling-fits").text
    assert all(m in fits for m in ("logreg", "forest", "mlp"))
    assert layout_of(dash_duo, "scaling-graph")["xaxis"]["type"] == "log"

    dash_duo.driver.find_element(By.XPATH, "//a[contains(@class,'nav-link') and normalize-space()='Trade-off search']").click()
    hv = wait_until(lambda: dash_duo.driver.execute_script(
        "const g = document.querySelector('#search-hypervolume .js-plotly-plot'); return g.data.length && g.data[0].y"),
        what="hypervolume curve")
    assert len(hv) == 6
    assert dash_duo.get_logs() == []
