"""Hand-checked tables for indices, boundaries, ratings and every compound mode."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from mlel.errors import SchemaError, UserInputError
from mlel.ratings import (
    DEFAULT_WEIGHTS,
    MODES,
    RATING_COLOURS,
    RATING_LETTERS,
    compound_rating,
    compound_ratings,
    compute_boundaries,
    compute_indices,
    index_values,
    load_boundaries,
    load_weights,
    metric_specs,
    normalise_task,
    rate_results,
    rating_letter,
    ratings_from_index,
    references_by_group,
    save_boundaries,
    save_weights,
)


def table(rows):
    """Rows (model, environment, energy_per_sample_j, time_per_sample_s, accuracy, parameters, size)."""
    cols = ["model", "environment", "energy_per_sample_j", "time_per_sample_s", "accuracy", "parameters", "model_size_bytes"]
    df = pd.DataFrame(rows, columns=cols)
    df["task"] = "infer"
    df["dataset"] = "iris"
    return df


SMALL = table([
    ("ref", "env1", 2.0, 0.010, 0.80, 1000, 4000),
    ("a", "env1", 1.0, 0.020, 0.88, 500, 8000),
    ("b", "env1", 4.0, 0.005, 0.40, 2000, 4000),
    ("ref", "env2", 10.0, 0.100, 0.50, 1000, 4000),
    ("a", "env2", 5.0, 0.050, 0.60, 500, 8000),
])


def test_index_is_ref_over_value_when_lower_is_better_and_value_over_ref_otherwise():
    out = compute_indices(SMALL, "infer", "ref").set_index(["environment", "model"])
    assert out.loc[("env1", "a"), "energy_per_sample_j_index"] == pytest.approx(2.0)      # 2 / 1
    assert out.loc[("env1", "b"), "energy_per_sample_j_index"] == pytest.approx(0.5)      # 2 / 4
    assert out.loc[("env1", "a"), "time_per_sample_s_index"] == pytest.approx(0.5)        # 0.01 / 0.02
    assert out.loc[("env1", "a"), "accuracy_index"] == pytest.approx(1.1)                 # 0.88 / 0.8
    assert out.loc[("env1", "b"), "accuracy_index"] == pytest.approx(0.5)
    assert out.loc[("env1", "a"), "model_size_bytes_index"] == pytest.approx(0.5)
    # env2 uses env2's reference, not env1's
    assert out.loc[("env2", "a"), "energy_per_sample_j_index"] == pytest.approx(2.0)      # 10 / 5
    assert out.loc[("env2", "a"), "accuracy_index"] == pytest.approx(1.2)
    assert (out.xs("ref", level="model")[[f"{s.name}_index" for s in metric_specs("infer")]] == 1.0).all().all()


def test_reference_is_looked_up_per_dataset_too():
    df = pd.concat([SMALL.iloc[:2], SMALL.iloc[:2].assign(dataset="wine", energy_per_sample_j=[4.0, 1.0])])
    out = compute_indices(df, "infer", "ref")
    a = out[out.model == "a"].set_index("dataset")["energy_per_sample_j_index"]
    assert a["iris"] == pytest.approx(2.0) and a["wine"] == pytest.approx(4.0)


def test_index_values_edge_cases():
    assert np.isnan(index_values([np.nan], [1.0], True)[0])
    # a ratio of positive figures only: 0 J is a meter that recorded nothing, not a free model
    got = index_values([0.0, -1.0, 2.0, 2.0], [1.0, 1.0, 0.0, -1.0], False)
    assert np.isnan(got).all()
    assert np.isnan(index_values([0.5, 0.0], [0.0, 0.5], True)).all()
    assert index_values([2.0], [1.0], False)[0] == pytest.approx(0.5)


def test_a_zero_energy_is_not_rated_a():
    df = SMALL.copy()
    df.loc[df.index[1], "energy_per_sample_j"] = 0.0
    rated = rate_results(df, "infer", "ref")
    row = rated.loc[df.index[1]]
    assert np.isnan(row["energy_per_sample_j_index"]) and row["energy_per_sample_j_rating"] == 4


def test_boundaries_are_the_80_60_40_20_quantiles():
    indexed = pd.DataFrame({f"{s.name}_index": [1.0, 2.0, 3.0, 4.0, 5.0, np.nan] for s in metric_specs("infer")})
    b = compute_boundaries(indexed, "infer")
    # numpy linear quantiles of 1..5: 0.8 -> 4.2, 0.6 -> 3.4, 0.4 -> 2.6, 0.2 -> 1.8 (NaN ignored)
    assert b["accuracy"] == pytest.approx([4.2, 3.4, 2.6, 1.8])


def test_ratings_from_index_hand_checked():
    b = [4.0, 3.0, 2.0, 1.0]
    got = ratings_from_index([5.0, 4.0, 3.5, 3.0, 2.5, 1.5, 1.0, 0.1, np.nan, np.inf], b)
    assert got.tolist() == [0, 1, 1, 2, 2, 3, 4, 4, 4, 0]


# (ratings, weights, expected per mode: optimistic median, pessimistic median, optimistic mean, pessimistic mean, best, worst)
COMPOUND_CASES = [
    # equal weights, odd count: the median is the middle rating. MLEE's code returned 1 here too,
    # but for the case below it returns the rating *before* the crossing.
    ([0, 1, 4], None, (1, 1, 1, 2, 0, 4)),
    # MLEE bug: cumulative weights 0.2, 0.4 | 1.0 -> it returned rating 1 (before the crossing at 0.5);
    # the weighted median is 3, which holds 60 % of the weight.
    ([0, 1, 3], [0.2, 0.2, 0.6], (3, 3, 2, 2, 0, 3)),
    # another crossing: 0.3 | 0.9: MLEE returned 0, the median is 2
    ([0, 2, 4], [0.3, 0.6, 0.1], (2, 2, 1, 2, 0, 4)),
    # exact 50 % tie between A and E: optimistic = A, pessimistic = E (MLEE: round of the mean, C)
    ([0, 4], None, (0, 4, 2, 2, 0, 4)),
    # tie with a gap: ratings 1 and 3 -> 1 or 3, never 2 (which no metric has)
    ([1, 3], [2.0, 2.0], (1, 3, 2, 2, 1, 3)),
    # float sums: 0.1 + 0.2 + 0.2 is 0.5000000000000001 and must count as the tie
    ([0, 0, 1, 2], [0.1, 0.2, 0.2, 0.5], (1, 2, 1, 2, 0, 2)),
    # zero weights are ignored, also by best/worst
    ([0, 2, 4], [0.0, 1.0, 0.0], (2, 2, 2, 2, 2, 2)),
    # weighted mean 1.5 exactly: floor / ceil
    ([1, 2], None, (1, 2, 1, 2, 1, 2)),
    # weighted mean 0.7*0 + 0.3*4 = 1.2 -> 1 / 2
    ([0, 4], [0.7, 0.3], (0, 0, 1, 2, 0, 4)),
]


@pytest.mark.parametrize("ratings, weights, expected", COMPOUND_CASES)
def test_every_compound_mode_hand_checked(ratings, weights, expected):
    got = tuple(compound_rating(ratings, weights, mode) for mode in MODES)
    assert got == expected


def test_compound_ratings_vectorised_matches_single():
    rng = np.random.default_rng(1)
    r = rng.integers(0, 5, size=(200, 5))
    w = [0.7, 0.3, 0.8, 0.4, 0.4]
    for mode in MODES:
        many = compound_ratings(r, w, mode)
        assert many.tolist() == [compound_rating(row, w, mode) for row in r.tolist()]


def brute_force_median(ratings, weights, optimistic):
    """Reference definition: the set of weighted medians, then the best or the worst of it."""
    w = np.asarray(weights, float) / sum(weights)
    medians = [m for m in range(5) if w[np.asarray(ratings) <= m].sum() >= 0.5 - 1e-9
               and w[np.asarray(ratings) >= m].sum() >= 0.5 - 1e-9 and m in ratings]
    return min(medians) if optimistic else max(medians)


def test_weighted_median_matches_the_definition_on_random_cases():
    rng = np.random.default_rng(7)
    for _ in range(300):
        n = int(rng.integers(1, 6))
        ratings = rng.integers(0, 5, n).tolist()
        weights = rng.integers(1, 5, n).astype(float).tolist()   # small integers make exact ties common
        assert compound_rating(ratings, weights, "optimistic median") == brute_force_median(ratings, weights, True)
        assert compound_rating(ratings, weights, "pessimistic median") == brute_force_median(ratings, weights, False)


def test_compound_rating_from_a_mapping_uses_named_weights():
    assert compound_rating({"a": 0, "b": 4}, {"a": 1.0, "b": 0.0}, "worst") == 0


def test_modes_and_tasks_accept_spelling_variants_and_refuse_others():
    assert compound_rating([0, 4], None, "Pessimistic_Median") == 4
    assert normalise_task("inference") == "infer" and normalise_task("training") == "train"
    with pytest.raises(UserInputError, match="'mode' parameter must be one of"):
        compound_rating([0], None, "majority")
    with pytest.raises(UserInputError, match="'task'"):
        normalise_task("predict")
    with pytest.raises(UserInputError, match="non-negative"):
        compound_ratings([[0, 1]], [1.0, -1.0])


def test_rate_results_adds_the_contract_columns():
    rated = rate_results(SMALL, "inference", "ref")
    for s in metric_specs("infer"):
        assert f"{s.name}_index" in rated and rated[f"{s.name}_rating"].dtype == np.int64
    assert rated["compound_rating"].dtype == np.int64
    assert set(rated["compound_rating_letter"]) <= set(RATING_LETTERS)
    assert (rated["compound_rating_letter"] == [RATING_LETTERS[r] for r in rated["compound_rating"]]).all()
    assert rated.attrs["mode"] == "optimistic median" and rated.attrs["weights"] == dict(DEFAULT_WEIGHTS["infer"])
    assert len(rated) == len(SMALL)  # a copy of the task's rows
    assert "energy_per_sample_j_index" not in SMALL


def test_rate_results_with_fixed_boundaries_hand_checked():
    boundaries = {s.name: [1.5, 1.05, 0.95, 0.6] for s in metric_specs("infer")}
    rated = rate_results(SMALL, "infer", "ref", boundaries=boundaries).set_index(["environment", "model"])
    a = rated.loc[("env1", "a")]
    # indices: energy 2.0 (A), time 0.5 (E), accuracy 1.1 (B), parameters 2.0 (A), size 0.5 (E)
    assert [int(a[f"{s.name}_rating"]) for s in metric_specs("infer")] == [0, 4, 1, 0, 4]
    # weights 0.7, 0.3, 0.8, 0.4, 0.4 (sum 2.6): sorted A(1.1) B(0.8) E(0.7) -> cumulative 0.42, 0.73: median B
    assert a["compound_rating"] == 1
    assert rated.loc[("env1", "ref"), "compound_rating"] == 2  # all C


def test_rate_results_only_rates_the_requested_task():
    df = pd.concat([SMALL, SMALL.assign(task="train")])
    assert len(rate_results(df, "infer", "ref")) == len(SMALL)


def test_missing_reference_is_a_clear_error_listing_the_models_there():
    df = pd.concat([SMALL, table([("x", "env3", 1, 1, 1, 1, 1), ("y", "env3", 1, 1, 1, 1, 1)])])
    with pytest.raises(UserInputError, match=r"'env3'.*no infer run of reference 'ref'; references there: x, y"):
        rate_results(df, "infer", "ref")
    dropped = rate_results(df, "infer", "ref", missing_reference="drop")
    assert set(dropped["environment"]) == {"env1", "env2"}
    assert references_by_group(df, "infer")[("env3", "iris")] == ["x", "y"]


def test_reference_per_environment_mapping():
    rated = compute_indices(SMALL, "infer", {"env1": "a", "env2": "ref"})
    assert rated.set_index(["environment", "model"]).loc[("env1", "ref"), "energy_per_sample_j_index"] == pytest.approx(0.5)


def test_missing_metric_value_rates_worst():
    df = SMALL.copy()
    df.loc[1, "accuracy"] = np.nan
    rated = rate_results(df, "infer", "ref")
    assert rated.loc[1, "accuracy_rating"] == 4 and np.isnan(rated.loc[1, "accuracy_index"])


def test_boundaries_and_weights_round_trip_through_json(tmp_path):
    rated = rate_results(SMALL, "infer", "ref")
    path = tmp_path / "b.json"
    save_boundaries(rated.attrs["boundaries"], path, task="infer")
    assert load_boundaries(path, "infer") == rated.attrs["boundaries"]
    again = rate_results(SMALL, "infer", "ref", boundaries=load_boundaries(path, "infer"))
    assert (again["compound_rating"] == rated["compound_rating"]).all()
    # MLEE's plain format is read too
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps({s.name: [2, 1.5, 1, 0.5] for s in metric_specs("infer")}))
    assert load_boundaries(plain, "infer")["accuracy"] == [2, 1.5, 1, 0.5]
    # and MLEE's own names; what we do not rate (FLOPs, top-5, per-epoch figures) is left out
    mlee = tmp_path / "mlee.json"
    mlee.write_text(json.dumps({"train_power_draw": [5, 4, 3, 2], "train_time": [4, 3, 2, 1], "top1_val": [3, 2, 1, 0],
                                "parameters": [2, 1, 1, 0], "fsize": [1, 1, 1, 1], "gflops": [9, 9, 9, 9],
                                "train_time_epoch": [8, 8, 8, 8]}))
    assert load_boundaries(mlee, "train") == {"energy_j": [5, 4, 3, 2], "time_s": [4, 3, 2, 1], "accuracy": [3, 2, 1, 0],
                                              "parameters": [2, 1, 1, 0], "model_size_bytes": [1, 1, 1, 1]}
    with pytest.raises(UserInputError, match="no entry for 'energy_per_sample_j'"):
        load_boundaries(mlee, "infer")   # training boundaries are not inference ones
    weights = tmp_path / "w.json"
    save_weights({"accuracy": 2.0}, weights, task="infer")
    assert load_weights(weights, "infer")["accuracy"] == 2.0
    assert load_weights(weights, "infer")["energy_per_sample_j"] == DEFAULT_WEIGHTS["infer"]["energy_per_sample_j"]


def test_bad_boundaries_and_weights_are_named(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"schema": "mlel.boundaries/9", "boundaries": {}}))
    with pytest.raises(SchemaError, match="mlel.boundaries/9"):
        load_boundaries(bad)
    with pytest.raises(UserInputError, match="non-increasing"):
        rate_results(SMALL, "infer", "ref", boundaries={s.name: [1, 2, 3, 4] for s in metric_specs("infer")})
    with pytest.raises(UserInputError, match="no entry for 'time_per_sample_s'"):
        rate_results(SMALL, "infer", "ref", boundaries={"energy_per_sample_j": [4, 3, 2, 1]})
    with pytest.raises(UserInputError, match="unknown infer metric 'energy_j'"):
        rate_results(SMALL, "infer", "ref", weights={"energy_j": 1})


def test_letters_and_colours():
    assert [rating_letter(i) for i in range(5)] == list("ABCDE")
    assert all(c.startswith("#") and len(c) == 7 for c in RATING_COLOURS.values())
    with pytest.raises(UserInputError):
        rating_letter(5)


def test_most_widespread_model_and_rated_alone_on_a_hand_checked_table():
    import pandas as pd

    from mlel.ratings import most_widespread_model, rated_alone

    table = pd.DataFrame({"task": ["train"] * 5, "dataset": ["d"] * 5, "environment": ["A", "A", "B", "B", "C"],
                          "model": ["svm", "lr", "knn", "lr", "knn"]})
    assert most_widespread_model(table, "train") == "knn"  # knn and lr in two groups each: alphabetical
    assert most_widespread_model(table, "train", among=["svm", "lr"]) == "lr"
    assert most_widespread_model(table, "infer") is None
    assert rated_alone(table, "train", "C", "d", "knn") and not rated_alone(table, "train", "A", "d", "lr")
