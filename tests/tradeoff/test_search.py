"""The search loop, its files, resume and interruption, on the cheap synthetic evaluator."""

import json

import pytest

from mlel.errors import UserInputError
from mlel.measurement.provenance import Provenance
from mlel.tradeoff.evaluators import (BRANIN_CURRIN_REFERENCE, BraninCurrinEvaluator, Evaluation,
                                      branin_currin_space)
from mlel.tradeoff.search import (EVALUATIONS_FILE, FRONT_FILE, HV_FILE, Search, default_reference, hypervolume,
                                  hypervolume_curve, hypervolume_curve_on_test, hypervolume_on_test,
                                  read_records)


def test_hypervolume_is_taken_on_log10_energy_hand_checked():
    # (utility, energy_j); reference (0.5, 1000 J) -> log10 = 3.
    # points: (0.9, 10 J) -> log 1; (0.7, 1 J) -> log 0; (0.6, 100 J) dominated by (0.9, 10 J).
    # staircase (maximise u, minimise log e): (0.7-0.5)*(3-0) + (0.9-0.7)*(3-1) = 0.6 + 0.4 = 1.0
    assert hypervolume([0.9, 0.7, 0.6], [10.0, 1.0, 100.0], (0.5, 1000.0)) == pytest.approx(1.0)
    # a point worse than the reference in one objective adds nothing
    assert hypervolume([0.9, 0.4], [10.0, 0.001], (0.5, 1000.0)) == pytest.approx(0.4 * 2)


def test_hypervolume_curve_repeats_over_failures_and_is_monotone():
    recs = [{"status": "complete", "utility": 0.7, "energy_j": 1.0},
            {"status": "failed"},
            {"status": "complete", "utility": 0.9, "energy_j": 10.0}]
    assert hypervolume_curve(recs, (0.5, 1000.0)) == pytest.approx([0.6, 0.6, 1.0])
    assert hypervolume_curve(recs, None) == [None, None, None]


def test_hypervolume_on_test_scores_the_front_chosen_on_validation_hand_checked():
    # reference (0.5, 1000 J) -> log10 3. Chosen on utility (validation), scored with test_utility:
    # 1: (0.7 | test 0.8, 1 J)        front {1}      -> (0.8-0.5)*3 = 0.9
    # 2: (0.6 | test 0.95, 10 J)      dominated by 1 on validation: not chosen, its test 0.95 is never seen -> 0.9
    # 3: failed                                       -> 0.9
    # 4: (0.9 | test 0.6, 10 J)       front {1, 4}   -> (0.8-0.5)*3 + 0 (0.6 < 0.8 at more energy) = 0.9
    # 5: (0.75 | test 0.55, 1 J)      displaces 1 (better on validation, same energy) -> front {5, 4}:
    #                                 test points (0.55, log 0) and (0.6, log 1): (0.6-0.5)*(3-1) + (0.55-0.5)*(1-0) = 0.25
    recs = [{"status": "complete", "utility": 0.7, "test_utility": 0.8, "energy_j": 1.0},
            {"status": "complete", "utility": 0.6, "test_utility": 0.95, "energy_j": 10.0},
            {"status": "failed"},
            {"status": "complete", "utility": 0.9, "test_utility": 0.6, "energy_j": 10.0},
            {"status": "complete", "utility": 0.75, "test_utility": 0.55, "energy_j": 1.0}]
    assert hypervolume_curve_on_test(recs, (0.5, 1000.0)) == pytest.approx([0.9, 0.9, 0.9, 0.9, 0.25])
    # chosen on the test split itself (no test utility): nothing to report
    assert hypervolume_curve_on_test([{"status": "complete", "utility": 0.7, "energy_j": 1.0}], (0.5, 1000.0)) == [None]
    assert hypervolume_curve_on_test(recs, None) == [None] * 5


def test_hypervolume_on_test_can_score_a_fresh_energy_measurement_hand_checked():
    # reference (0.5, 1000 J) -> log10 3. Chosen on (utility, energy_j): a (0.9, 10 J) and b (0.7, 1 J);
    # c (0.8, 100 J) is dominated by a and stays unchosen, whatever its fresh energy.
    # Search's figures, test utilities a 0.85, b 0.75: (0.75-0.5)*(3-0) + (0.85-0.75)*(3-1) = 0.75 + 0.2 = 0.95
    # Fresh energies a 100 J (log 2), b 10 J (log 1): (0.75-0.5)*(3-1) + (0.85-0.75)*(3-2) = 0.5 + 0.1 = 0.6
    recs = [{"index": 0, "status": "complete", "utility": 0.9, "test_utility": 0.85, "energy_j": 10.0},
            {"index": 1, "status": "complete", "utility": 0.7, "test_utility": 0.75, "energy_j": 1.0},
            {"index": 2, "status": "complete", "utility": 0.8, "test_utility": 0.99, "energy_j": 100.0},
            {"index": 3, "status": "failed"}]
    fresh = {0: 100.0, 1: 10.0, 2: 0.001}
    assert hypervolume_on_test(recs, (0.5, 1000.0)) == pytest.approx(0.95)
    assert hypervolume_on_test(recs, (0.5, 1000.0), energy_of=lambda r: fresh[r["index"]]) == pytest.approx(0.6)
    assert hypervolume_on_test([], (0.5, 1000.0)) == 0.0


def test_default_reference_hand_checked():
    # utilities 0.8..0.9 -> margin max(0.01, 0.01) -> 0.79; log10 energy 0..2 -> margin 0.2 -> 10**2.2
    u, e = default_reference([0.8, 0.9, 0.85], [1.0, 100.0, 10.0])
    assert u == pytest.approx(0.79)
    assert e == pytest.approx(10 ** 2.2)


class ScriptedEvaluator:
    """A hand-made table of outcomes by family value; can fail or be interrupted at given indices."""

    def __init__(self, fail_at=(), interrupt_at=None):
        self.fail_at, self.interrupt_at, self.calls = set(fail_at), interrupt_at, []

    def __call__(self, cand, index):
        self.calls.append(index)
        if index == self.interrupt_at:
            raise KeyboardInterrupt
        if index in self.fail_at:
            raise RuntimeError("diverged")
        x0, x1 = cand.values["x0"], cand.values["x1"]
        return Evaluation(utility=x0, energy_j=10 ** (3 * x1 + 3 * x0), time_s=0.1, provenance=Provenance.SAMPLED,
                          provenance_text="measured: CPU (test)", spent_energy_j=None)


def _search(tmp_path, method="random", budget=8, init=3, seed=0, resume=False, reference=None, name="s"):
    return Search.open(tmp_path / name, branin_currin_space(), method=method, budget=budget, init=init, seed=seed,
                       resume=resume, reference=reference, description={"dataset": "synthetic"})


def test_files_front_and_hypervolume_are_consistent(tmp_path):
    out = _search(tmp_path).run(ScriptedEvaluator(fail_at={4}), progress=False)
    d = tmp_path / "s"
    lines = (d / EVALUATIONS_FILE).read_text().splitlines()
    assert len(lines) == 8
    recs = [json.loads(line) for line in lines]
    assert [r["status"] for r in recs].count("failed") == 1 and "diverged" in recs[4]["error"]
    front = json.loads((d / FRONT_FILE).read_text())
    done = [r for r in recs if r["status"] == "complete"]
    # the front holds exactly the non-dominated complete evaluations
    for r in done:
        dominated = any(o["utility"] >= r["utility"] and o["energy_j"] <= r["energy_j"]
                        and (o["utility"] > r["utility"] or o["energy_j"] < r["energy_j"]) for o in done)
        assert (r["index"] in {p["index"] for p in front["front"]}) == (not dominated)
    for p in front["front"]:
        assert {"model", "params", "utility", "energy_j", "time_s", "provenance"} <= set(p)
    ref = (front["reference"]["utility"], front["reference"]["energy_j"])
    assert front["hypervolume"] == pytest.approx(hypervolume([r["utility"] for r in done], [r["energy_j"] for r in done], ref))
    curve = front["hypervolume_after_each_evaluation"]
    assert all(b >= a for a, b in zip(curve, curve[1:]))
    assert (d / HV_FILE).read_text().splitlines()[0] == "evaluations,hypervolume"
    assert front["search_energy"]["evaluations_j"] == pytest.approx(sum(r["energy_j"] for r in done))
    assert front["search_energy"]["failed_evaluations_not_counted"] == 1
    assert front["search_energy"]["provenance"] == "sampled power"
    assert (d / "front.png").stat().st_size > 0 and (d / "hypervolume.png").stat().st_size > 0
    assert out.front == front["front"]


def test_reference_is_fixed_after_the_initial_design(tmp_path):
    _search(tmp_path, init=3).run(ScriptedEvaluator(), progress=False)
    recs = [json.loads(line) for line in (tmp_path / "s" / EVALUATIONS_FILE).read_text().splitlines()]
    meta = json.loads((tmp_path / "s" / "search.json").read_text())
    first3 = recs[:3]
    assert (meta["reference"]["utility"], meta["reference"]["energy_j"]) == pytest.approx(
        default_reference([r["utility"] for r in first3], [r["energy_j"] for r in first3]))
    assert "hypervolume" not in recs[0] and "hypervolume" in recs[3]


def test_interrupt_keeps_finished_evaluations_and_resume_matches_an_uninterrupted_run(tmp_path):
    whole = _search(tmp_path, name="whole").run(ScriptedEvaluator(), progress=False)
    first = _search(tmp_path, name="cut").run(ScriptedEvaluator(interrupt_at=5), progress=False)
    assert first.interrupted and len(first.records) == 5
    assert json.loads((tmp_path / "cut" / FRONT_FILE).read_text())["evaluations"] == 5
    ev = ScriptedEvaluator()
    resumed = _search(tmp_path, name="cut", resume=True).run(ev, progress=False)
    assert ev.calls == [5, 6, 7]  # nothing finished is run again
    strip = lambda rs: [(r["candidate"], r["utility"], r["energy_j"]) for r in rs]  # noqa: E731
    assert strip(resumed.records) == strip(whole.records)
    assert resumed.hypervolumes == pytest.approx(whole.hypervolumes)


def test_sigterm_between_evaluations_stops_cleanly_and_says_which_signal(tmp_path):
    import os
    import signal

    before = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}

    def terminate_after_the_fourth(record):
        if record["index"] == 3:
            os.kill(os.getpid(), signal.SIGTERM)  # arrives after the evaluation, before the next proposal

    out = _search(tmp_path).run(ScriptedEvaluator(), progress=False, on_record=terminate_after_the_fourth)
    assert out.interrupted and out.signum == signal.SIGTERM and len(out.records) == 4
    assert json.loads((tmp_path / "s" / FRONT_FILE).read_text())["evaluations"] == 4
    # the search's handlers (and the ignoring while it wrote its outputs) are gone after it
    assert {signum: signal.getsignal(signum) for signum in before} == before


def test_resume_ignores_a_truncated_last_line(tmp_path):
    _search(tmp_path, budget=4).run(ScriptedEvaluator(), progress=False)
    path = tmp_path / "s" / EVALUATIONS_FILE
    path.write_text(path.read_text() + '{"index": 4, "candid')
    out = _search(tmp_path, budget=6, resume=True).run(ScriptedEvaluator(), progress=False)
    assert [r["index"] for r in out.records] == [0, 1, 2, 3, 4, 5]
    assert [json.loads(line)["index"] for line in path.read_text().splitlines()] == [0, 1, 2, 3, 4, 5]


def test_resume_repairs_a_last_line_cut_before_its_newline(tmp_path):
    _search(tmp_path, budget=4).run(ScriptedEvaluator(), progress=False)
    path = tmp_path / "s" / EVALUATIONS_FILE
    path.write_text(path.read_text().rstrip("\n"))  # the last record whole, its newline lost: an append would join it
    out = _search(tmp_path, budget=6, resume=True).run(ScriptedEvaluator(), progress=False)
    assert [json.loads(line)["index"] for line in path.read_text().splitlines()] == [0, 1, 2, 3, 4, 5]
    assert len(out.records) == 6


def test_reading_a_search_never_writes_its_evaluations(tmp_path):
    """Readers (a refused second search on the same folder, the bench, analysis scripts) once rewrote
    the file on every read and, racing each other or the running search, emptied whole runs."""
    _search(tmp_path, budget=4).run(ScriptedEvaluator(), progress=False)
    path = tmp_path / "s" / EVALUATIONS_FILE
    path.write_text(path.read_text() + '{"index": 4, "candid')
    before = path.read_bytes()
    assert [r["index"] for r in read_records(path)] == [0, 1, 2, 3]
    with pytest.raises(UserInputError, match="--resume"):
        _search(tmp_path, budget=4)
    assert path.read_bytes() == before


def test_existing_search_needs_resume_and_matching_settings(tmp_path):
    _search(tmp_path, budget=3).run(ScriptedEvaluator(), progress=False)
    with pytest.raises(UserInputError, match="--resume"):
        _search(tmp_path, budget=3)
    with pytest.raises(UserInputError, match="seed"):
        _search(tmp_path, budget=5, seed=1, resume=True)


def test_budget_below_init_is_a_user_error(tmp_path):
    with pytest.raises(UserInputError, match="init"):
        _search(tmp_path, budget=2, init=3)


def test_grid_search_runs_its_grid(tmp_path):
    out = Search.open(tmp_path / "g", branin_currin_space(), method="grid", budget=9, init=0, seed=0,
                      reference=BRANIN_CURRIN_REFERENCE).run(BraninCurrinEvaluator(), progress=False)
    pts = {(r["candidate"]["values"]["x0"], r["candidate"]["values"]["x1"]) for r in out.records}
    assert pts == {(a, b) for a in (0.0, 0.5, 1.0) for b in (0.0, 0.5, 1.0)}


def test_the_front_plot_names_the_energy_and_the_split_it_shows():
    from mlel.tradeoff.plots import energy_axis_label, front_figure

    records = [{"candidate": {"model": "knn"}, "energy_j": 2.0, "utility": 0.9, "provenance": "estimate"}]
    meta = {"energy": "train+infer", "predictions": 1_000_000, "objective": "accuracy", "validation_size": 0.2,
            "dataset": "digits", "method": "bo"}
    assert energy_axis_label(meta, records) == "training + 1,000,000 predictions: energy (J, log scale) - estimated"
    ax = front_figure(records, [], meta).axes[0]
    assert ax.get_ylabel() == "validation accuracy" and ax.get_title() == "digits: 1 evaluation (bo)"
    measured = [{**records[0], "provenance": "hardware counter"}]
    assert energy_axis_label({"energy": "train"}, measured) == "training energy (J, log scale)"
    assert front_figure(measured, [], {"objective": "f1"}).axes[0].get_ylabel() == "test f1"


def test_a_reference_point_no_evaluation_beats_is_named(tmp_path, caplog):
    out = _search(tmp_path, budget=4, reference=(2.0, 1e-9)).run(ScriptedEvaluator(), progress=False)
    assert out.hypervolumes[-1] == 0.0
    assert any("no evaluation beats the reference point (utility 2, energy 1e-09 J)" in r.message for r in caplog.records)
    caplog.clear()
    _search(tmp_path, budget=4, name="fine").run(ScriptedEvaluator(), progress=False)
    assert not any("beats the reference" in r.message for r in caplog.records)
