"""Pure figure builders and the Pareto front, without a browser."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlel.elex import figures
from mlel.elex.metrics import ESTIMATED, RATING_COLORS, axis_title, format_value
from mlel.pareto import pareto_mask


def _table(rows):
    df = pd.DataFrame(rows, columns=["run_id", "model", "environment", "compound_rating", "energy_is_estimate", "energy_j", "accuracy"])
    return df.assign(dataset="iris")


def _scatter(*args, **kwargs) -> go.Figure:
    """The trade-off builder returns a plain dict; plotly validates it here (it raises on anything invalid)."""
    return go.Figure(figures.tradeoff_figure(*args, **kwargs))


HAND = _table([
    ("a", "m1", "env1", 0, False, 1.0, 0.80),   # cheapest: on the front
    ("b", "m2", "env1", 1, False, 2.0, 0.90),   # on the front
    ("c", "m3", "env2", 2, True, 3.0, 0.85),    # dominated by b
    ("d", "m4", "env2", 3, True, 4.0, 0.95),    # most accurate: on the front
    ("e", "m5", "env1", 4, False, 2.0, 0.90),   # duplicate of b: kept, like pareto_mask does
    ("f", "m6", "env1", 4, False, np.nan, 0.99),  # no energy: never on the front
])


def test_pareto_front_hand_checked():
    mask = figures.pareto_front_mask(HAND["energy_j"], HAND["accuracy"], maximize_x=False, maximize_y=True)
    assert mask.tolist() == [True, True, False, True, True, False]


def test_pareto_front_directions():
    # maximising energy and minimising accuracy turns the problem around: now c and a...
    mask = figures.pareto_front_mask(HAND["energy_j"], HAND["accuracy"], maximize_x=True, maximize_y=False)
    assert set(HAND.loc[mask, "run_id"]) == {"a", "c", "d"}


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), min_size=0, max_size=40),
       st.booleans(), st.booleans())
def test_pareto_front_equals_pareto_mask(points, max_x, max_y):
    """The sweep only pre-selects; the result is exactly mlel.pareto.pareto_mask's (ties and duplicates included)."""
    values = np.array(points, dtype=float).reshape(-1, 2)
    fast = figures.pareto_front_mask(values[:, 0], values[:, 1], max_x, max_y)
    assert fast.tolist() == pareto_mask(values, [max_x, max_y]).tolist()


def test_pareto_table_sorted_and_complete():
    front = figures.pareto_table(HAND, "energy_j", "accuracy", False, True)
    assert front["run_id"].tolist() == ["a", "b", "e", "d"]
    assert front["energy_j"].is_monotonic_increasing


def test_axis_bands_index_and_value_space():
    index = figures.axis_bands([2.0, 1.5, 1.0, 0.5], True, None, True)
    assert [(b.low, b.high, b.rating) for b in index] == [
        (-np.inf, 0.5, 4), (0.5, 1.0, 3), (1.0, 1.5, 2), (1.5, 2.0, 1), (2.0, np.inf, 0)]
    # energy (lower is better) with reference 10 J: index = 10 / value, so A is below 10 / 2 = 5 J
    value = figures.axis_bands([2.0, 1.5, 1.0, 0.5], False, 10.0, False)
    assert value[0].rating == 0 and value[0].high == pytest.approx(5.0)
    assert value[-1].rating == 4 and value[-1].low == pytest.approx(20.0)
    assert figures.axis_bands([2.0, 1.5, 1.0, 0.5], False, None, False) == []


def test_tradeoff_figure_marks_estimates_and_draws_front():
    fig = _scatter(HAND, "energy_j", "accuracy", log_x=True, maximize_x=False, maximize_y=True)
    points = [t for t in fig.data if t.customdata is not None]
    names = {t.name for t in points}
    assert names == {"env1", f"env2 {ESTIMATED}"}
    hollow = [t for t in points if t.name.endswith(ESTIMATED)][0]
    assert int(hollow.marker.symbol) >= 100  # plotly's "-open" variants
    assert {row[0] for row in hollow.customdata} == {"c", "d"}
    front = [t for t in fig.data if t.name == "Pareto front"][0]
    assert list(front.x) == [1.0, 2.0, 2.0, 4.0]
    assert fig.layout.xaxis.type == "log"
    assert fig.layout.xaxis.title.text == "Energy [J]"
    assert fig.layout.yaxis.title.text == "Accuracy (fraction)"
    legend = {t.name for t in fig.data}
    assert {"A", "B", "C", "D", "E", f"hollow: energy {ESTIMATED}"} <= legend


def test_tradeoff_figure_grid_and_index_titles():
    bands = figures.axis_bands([2.0, 1.5, 1.0, 0.5], True, None, True)
    fig = _scatter(HAND.assign(energy_j_index=HAND["energy_j"] / 2), "energy_j_index", "accuracy",
                                  use_index=True, x_bands=bands, y_bands=[], x_metric="energy_j", y_metric="accuracy")
    assert "index" in fig.layout.xaxis.title.text and "Energy" in fig.layout.xaxis.title.text
    colours = [s.fillcolor for s in fig.layout.shapes]
    assert colours and set(colours) <= set(RATING_COLORS)


def test_tradeoff_figure_samples_but_keeps_front():
    rng = np.random.default_rng(0)
    n = 2000
    df = _table([(f"r{i}", "m", f"env{i % 3}", i % 5, bool(i % 2), e, a)
                 for i, (e, a) in enumerate(zip(rng.random(n), rng.random(n)))])
    fig = _scatter(df, "energy_j", "accuracy", max_points=300)
    shown = {row[0] for t in fig.data if t.customdata is not None for row in t.customdata}
    front = set(df.loc[figures.pareto_front_mask(df["energy_j"], df["accuracy"], False, True), "run_id"])
    assert len(shown) == 300 and front <= shown
    assert "showing 300 of 2,000 runs" in fig.layout.title.text


def test_tradeoff_figure_empty_and_log_of_non_positive():
    df = HAND.assign(energy_j=[0.0, -1.0, np.nan, 0.0, 0.0, 0.0])
    fig = _scatter(df, "energy_j", "accuracy", log_x=True)
    assert not [t for t in fig.data if t.customdata is not None]
    assert "No runs" in fig.layout.annotations[0].text


def test_rating_counts_figure_counts_per_environment():
    fig = go.Figure(figures.rating_counts_figure(HAND))
    by_letter = {t.name: dict(zip(t.y, t.x)) for t in fig.data}
    assert by_letter["E"]["env1"] == 2 and by_letter["A"]["env1"] == 1
    assert by_letter["C"][f"env2 {ESTIMATED}"] == 1  # estimated environments say so
    assert sum(sum(v.values()) for v in by_letter.values()) == len(HAND)


def test_trace_figure_dashes_estimates():
    fig = go.Figure(figures.trace_figure([
        {"meter": "nvml:0", "elapsed_s": [0, 1, 2], "power_w": [50, 60, 55], "estimated": False},
        {"meter": "estimate:cpu", "elapsed_s": [0, 1, 2], "power_w": [20, 21, 22], "estimated": True},
    ]))
    assert [t.name for t in fig.data] == ["nvml:0", f"CPU {ESTIMATED}"]
    assert fig.data[1].line.dash == "dash" and fig.data[0].line.dash == "solid"
    assert fig.layout.yaxis.title.text == "Power [W]"
    assert "No power trace" in go.Figure(figures.trace_figure([])).layout.annotations[0].text


def test_hardware_summary_and_figure():
    runs = pd.DataFrame({
        "run_id": ["1", "2", "3"], "environment": ["cpu", "cpu", "gpu"], "threads": [2, 2, np.nan],
        "power_mean_w": [30.0, 50.0, 300.0], "time_s": [100.0, 80.0, 5.0], "energy_j": [3000.0, 4000.0, 1500.0],
        "energy_is_estimate": [True, True, False],
    })
    table = figures.hardware_summary(runs)
    assert table["environment"].tolist() == ["gpu", "cpu"]  # least energy first
    cpu = table.set_index("environment").loc["cpu"]
    assert cpu["runs"] == 2 and cpu["power_mean_w"] == 40.0 and cpu["energy_j"] == 3500.0 and cpu["estimated"]
    fig = figures.hardware_figure(table)
    assert len(fig.data) == 3
    assert fig.data[0].y[1].endswith(ESTIMATED) and list(fig.data[0].marker.pattern.shape) == ["", "/"]


def test_fit_power_law_recovers_exponent():
    x = np.array([1e3, 3e3, 1e4, 3e4, 1e5])
    a, b = figures.fit_power_law(x, 0.5 * x ** 1.2)
    assert a == pytest.approx(0.5) and b == pytest.approx(1.2)
    assert figures.fit_power_law([10, 10], [1, 2]) is None


def test_scaling_figure_fits_each_model(small_table):
    series = small_table[(small_table["dataset"] == "synthetic") & (small_table["task"] == "train")]
    fig, fits = figures.scaling_figure(series)
    assert set(fits["metric"]) == {"energy_j", "accuracy"}
    assert set(fits["model"]) <= set(series["model"])
    assert fits.loc[fits["metric"] == "energy_j", "exponent"].between(0.5, 2.0).all()
    assert fig.layout.xaxis.type == "log" and fig.layout.yaxis.type == "log"


def test_search_figures_hypervolume_never_falls():
    runs = pd.DataFrame({"run_id": list("abcde"), "model": ["m"] * 5, "date": [f"2025-01-0{i}" for i in range(1, 6)],
                         "energy_j": [5.0, 4.0, 6.0, 2.0, 1.0], "accuracy": [0.5, 0.7, 0.6, 0.8, 0.75],
                         "energy_is_estimate": [True] * 5})
    scatter, hv = figures.search_figures(runs, "energy_j", "accuracy", False, True)
    curve = list(hv.data[0].y)
    # by hand: reference = the worst energy and accuracy (6 J, 0.5), areas over the box (6 - 1) x (0.8 - 0.5) = 1.5.
    # a: 0; b: 2 x 0.2; c: nothing (at the reference's energy); d dominates b: 4 x 0.3; e: 5 x 0.25 + 4 x 0.05
    assert curve == pytest.approx([0.0, 0.4 / 1.5, 0.4 / 1.5, 1.2 / 1.5, 1.45 / 1.5])
    front = [t for t in scatter.data if t.name == "Pareto front"][0]
    assert sorted(front.x) == [1.0, 2.0]  # (1 J, 0.75) and (2 J, 0.8) dominate the rest


def test_axis_titles_and_values_carry_units():
    assert axis_title("energy_per_sample_j", False) == "Energy per sample [J]"
    assert axis_title("power_mean_w", False) == "Mean power [W]"
    assert format_value("energy_j", 0.0123) == "12.3 mJ"
    assert format_value("time_s", float("nan")) == "n/a"


def test_tradeoff_figure_range_of_one_value_is_not_degenerate():
    df = HAND.assign(energy_j=3.0 - 1e-15, accuracy=0.9)
    fig = _scatter(df, "energy_j", "accuracy")
    lo, hi = fig.layout.xaxis.range
    assert lo < 2.8 and hi > 3.2
    assert format_value("accuracy", 0.8904) == "89.0 %"


def test_search_scatter_puts_energy_on_a_log_axis_when_it_can():
    import pandas as pd

    from mlel.elex.figures import search_figures

    runs = pd.DataFrame({"run_id": ["a", "b", "c"], "model": ["knn", "svm", "random_forest"],
                         "date": ["2026-01-01T00:00:0%d" % i for i in range(3)],
                         "energy_j": [0.02, 1.5, 120.0], "accuracy": [0.9, 0.95, 0.97], "energy_is_estimate": [True] * 3})
    scatter, _ = search_figures(runs, "energy_j", "accuracy", False, True)
    assert scatter.layout.xaxis.type == "log"
    runs.loc[0, "energy_j"] = 0.0  # a zero cannot sit on a log axis
    scatter, _ = search_figures(runs, "energy_j", "accuracy", False, True)
    assert scatter.layout.xaxis.type == "linear"


def test_index_mode_titles_only_index_columns_and_hover_names_units():
    df = HAND.assign(power_mean_w=[20.0, 21.0, 22.0, 28.0, 21.0, 25.0], accuracy_index=HAND["accuracy"] / 0.9)
    fig = _scatter(df, "power_mean_w", "accuracy_index", use_index=True, x_metric="power_mean_w", y_metric="accuracy")
    # mean power has no index: it is plotted (and titled) as watts, with the unit
    assert fig.layout.xaxis.title.text == "Mean power [W]"
    assert fig.layout.yaxis.title.text.startswith("Accuracy: index")
    hover = [t for t in fig.data if t.customdata is not None][0].hovertemplate
    assert "Mean power: %{x:.4g} W" in hover and "Accuracy: %{y:.4g}x the reference" in hover
    plain = [t for t in _scatter(HAND, "energy_j", "accuracy").data if t.customdata is not None][0].hovertemplate
    assert "Energy: %{x:.4g} J" in plain and "Accuracy: %{y:.2%}" in plain


def test_every_environment_gets_its_own_symbol_and_both_marker_kinds_are_explained():
    envs = [f"env{i:02d}" for i in range(20)]
    df = _table([(f"r{i}", "m", env, 0, i % 2 == 0, 1.0 + i, 0.5 + i / 100) for i, env in enumerate(envs)])
    fig = _scatter(df, "energy_j", "accuracy")
    points = [t for t in fig.data if t.customdata is not None]
    symbols = {t.name.replace(f" {ESTIMATED}", ""): int(t.marker.symbol) % 100 for t in points}
    assert len(symbols) == 20 and len(set(symbols.values())) == 20
    names = [t.name for t in fig.data]
    assert "filled: energy measured (counter or sampled power)" in names and f"hollow: energy {ESTIMATED}" in names
    notes = {str(row[4]) for t in points for row in t.customdata}
    assert notes == {f" - energy {ESTIMATED}", " - energy measured: kind not recorded"}  # no energy_provenance column
    df = df.assign(energy_provenance=np.where(df["energy_is_estimate"], "estimate", "hardware counter"))
    notes = {str(row[4]) for t in _scatter(df, "energy_j", "accuracy").data if t.customdata is not None for row in t.customdata}
    assert " - energy measured: hardware counter" in notes


def test_values_read_as_on_the_label():
    assert format_value("time_s", 132_000.0) == "36.7 h"
    assert format_value("time_s", 1660.0) == "27.7 min"
    assert format_value("energy_j", 27.8e6) == "7.72 kWh"
    assert format_value("energy_j", 1500.0) == "1.50 kJ"
    assert format_value("energy_j", 0.0) == "0 J"


def test_inference_hardware_comparison_uses_per_sample_time_and_names_threads_once():
    runs = pd.DataFrame({
        "run_id": ["1", "2"], "environment": ["AMD EPYC (2 threads) - scikit-learn 1.9.1", "gpu box"], "threads": [2, 4],
        "power_mean_w": [30.0, 300.0], "time_s": [1.0, 1.0], "time_per_sample_s": [2e-5, 1e-6],
        "energy_per_sample_j": [6e-4, 3e-4], "energy_is_estimate": [True, False],
    })
    table = figures.hardware_summary(runs, "energy_per_sample_j", "time_per_sample_s")
    fig = figures.hardware_figure(table, "energy_per_sample_j", "time_per_sample_s")
    assert [a.text for a in fig.layout.annotations][:3] == ["Mean power [W]", "Time per sample [s]", "Energy per sample [J]"]
    assert list(fig.data[1].x) == [1e-6, 2e-5]
    assert table["provenance"].tolist() == ["kind not recorded", "estimate"]
    assert list(fig.data[0].y) == ["gpu box (4 thr.)", f"AMD EPYC (2 threads) - scikit-learn 1.9.1 {ESTIMATED}"]
    empty = figures.hardware_figure(table.iloc[0:0], empty_message="nothing here")
    assert "nothing here" in [a.text for a in empty.layout.annotations]


def test_accuracy_fits_stop_at_one_and_empty_views_say_so(small_table):
    n = np.array([100.0, 300.0, 1000.0, 3000.0])
    runs = pd.DataFrame({"model": "m", "n_train_samples": n, "energy_j": n / 100, "accuracy": [0.6, 0.8, 0.95, 0.99],
                         "energy_is_estimate": True})
    fig, fits = figures.scaling_figure(runs)
    line = [t for t in fig.data if t.mode == "lines" and t.xaxis == "x2"][0]
    assert max(line.y) <= 1.0 and len(line.y) > 0
    empty, _ = figures.scaling_figure(runs.iloc[0:0])
    assert len(empty.layout.annotations) == 4  # two subplot titles, two "no series" notes
    scatter, hv = figures.search_figures(small_table.iloc[0:0].assign(search_id=""), "energy_j", "accuracy", False, True)
    assert "No search chosen" in [a.text for a in scatter.layout.annotations]
    assert "No search chosen" in [a.text for a in hv.layout.annotations]


def test_narrow_boundaries_get_a_zoomed_slider_wide_ones_whole_decades():
    from mlel.elex.view import boundaries_to_slider, slider_marks, slider_range

    narrow = boundaries_to_slider([1.018, 1.0025, 1.0, 0.99])
    low, high = slider_range(narrow)
    assert low < min(narrow) and max(narrow) < high and high - low < 0.1  # 0.99x..1.02x spread over the slider
    assert list(slider_marks(low, high).values()) == ["0.9x", "1x", "1.1x"]  # and room to drag to either
    wide = boundaries_to_slider([20.0, 2.0, 1.0, 0.5])
    assert slider_range(wide) == (-1.0, 1.5)
    assert slider_marks(-1.0, 1.5) == {-1: "0.1x", 0: "1x", 1: "10x"}


def test_a_searchs_evaluations_carry_the_energy_it_optimised():
    from mlel.elex.view import search_evaluations

    def run(task, index, energy, per_sample, accuracy, estimated=True):
        return {"run_id": f"{task}-{index}", "task": task, "model": f"m{index}", "date": f"2026-01-0{index}",
                "search_index": float(index), "search_energy": "train+infer", "search_predictions": 1000.0,
                "energy_j": energy, "energy_per_sample_j": per_sample, "accuracy": accuracy, "energy_is_estimate": estimated}

    runs = pd.DataFrame([run("train", 1, 2.0, np.nan, 0.90), run("infer", 1, 5.0, 0.004, 0.90),
                         run("train", 2, 10.0, np.nan, 0.95), run("infer", 2, 3.0, 0.001, 0.95, estimated=False),
                         run("train", 3, 1.0, np.nan, 0.80)])  # evaluation 3's inference run is missing
    evaluations, title, missing = search_evaluations(runs)
    assert title == "Training + 1,000 predictions: energy [J]" and missing == 1
    assert evaluations["search_index"].tolist() == [1.0, 2.0]
    assert evaluations["energy_j"].tolist() == pytest.approx([2.0 + 1000 * 0.004, 10.0 + 1000 * 0.001])
    assert evaluations["accuracy"].tolist() == [0.90, 0.95] and evaluations["energy_is_estimate"].all()
    per_prediction, title, _ = search_evaluations(runs.assign(search_energy="infer"))
    assert title == "Energy per prediction [J]" and per_prediction["energy_j"].tolist() == pytest.approx([0.004, 0.001])
    training, _, missing = search_evaluations(runs.assign(search_energy="train"))
    assert missing == 0
    assert training["energy_j"].tolist() == [2.0, 10.0, 1.0]
    # a search merged before these columns existed: the task's own energy, one row per run
    old, title, _ = search_evaluations(runs.drop(columns=["search_energy", "search_index"]), "infer")
    assert title == "Energy per sample [J]" and old["energy_j"].tolist() == pytest.approx([0.004, 0.001])
    scatter, _ = figures.search_figures(evaluations, "energy_j", "accuracy", False, True, x_title="T")
    assert scatter.layout.xaxis.title.text == "T"
    # a column without values (a table merged with uploads) is no mode; an evaluation run again on --resume
    # counts its latest runs, not an orphan training run of the interrupted try
    nan_mode, title, _ = search_evaluations(runs.assign(search_energy=np.nan), "train")
    assert title == "Energy [J]" and len(nan_mode) == 3
    orphan = pd.DataFrame([run("train", 2, 99.0, np.nan, 0.10) | {"date": "2026-01-00"}])
    again, _, _ = search_evaluations(pd.concat([orphan, runs], ignore_index=True))
    assert again["energy_j"].tolist() == pytest.approx([2.0 + 1000 * 0.004, 10.0 + 1000 * 0.001])


def test_a_search_on_f1_is_shown_on_f1():
    from mlel.elex.view import search_evaluations, search_objective

    runs = pd.DataFrame([{"run_id": f"train-{i}", "task": "train", "model": "m", "date": f"2026-01-0{i}",
                          "search_index": float(i), "search_energy": "train", "search_predictions": np.nan,
                          "search_objective": "f1_weighted", "energy_j": 1.0 + i, "energy_per_sample_j": np.nan,
                          "accuracy": 0.9, "f1_weighted": 0.8 + i / 100, "energy_is_estimate": True} for i in (1, 2)])
    assert search_objective(runs) == "f1_weighted"
    evaluations, _, _ = search_evaluations(runs)
    assert evaluations["f1_weighted"].tolist() == pytest.approx([0.81, 0.82]) and "accuracy" not in evaluations
    scatter, _ = figures.search_figures(evaluations, "energy_j", "f1_weighted", False, True)
    assert scatter.layout.yaxis.title.text == "F1 (weighted) (fraction)"
    # searches that did not record it chose on accuracy
    assert search_objective(runs.drop(columns=["search_objective"])) == "accuracy"
    assert search_objective(runs.assign(search_objective="")) == "accuracy"
