"""Property tests: a better value never gets a worse rating; indices do not depend on the unit."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from mlel.ratings import MODES, compound_ratings, compute_indices, metric_specs, rate_results

positive = st.floats(min_value=1e-6, max_value=1e6, allow_nan=False, allow_infinity=False)
SPECS = metric_specs("infer")


def frame(values_by_metric):
    n = len(next(iter(values_by_metric.values())))
    df = pd.DataFrame({s.column: values_by_metric[s.name] for s in SPECS})
    df["model"] = ["ref"] + [f"m{i}" for i in range(1, n)]
    df["task"], df["environment"], df["dataset"] = "infer", "env", "iris"
    return df


@st.composite
def tables(draw):
    n = draw(st.integers(min_value=2, max_value=8))
    return frame({s.name: draw(st.lists(positive, min_size=n, max_size=n)) for s in SPECS})


@settings(max_examples=60, deadline=None)
@given(tables(), st.sampled_from(SPECS), st.integers(min_value=1, max_value=7), st.floats(min_value=1.01, max_value=100))
def test_a_better_value_never_gets_a_worse_rating(df, spec, row, factor):
    row = row % len(df)
    if row == 0:
        row = 1 if len(df) > 1 else 0
    rated = rate_results(df, "infer", "ref")
    boundaries = rated.attrs["boundaries"]
    better = df.copy()
    better.loc[row, spec.column] = df.loc[row, spec.column] * (factor if spec.higher_is_better else 1 / factor)
    again = rate_results(better, "infer", "ref", boundaries=boundaries)
    column = f"{spec.name}_rating"
    assert again.loc[row, column] <= rated.loc[row, column]
    for mode in MODES:
        before = rate_results(df, "infer", "ref", boundaries=boundaries, mode=mode)
        after = rate_results(better, "infer", "ref", boundaries=boundaries, mode=mode)
        assert after.loc[row, "compound_rating"] <= before.loc[row, "compound_rating"]


@settings(max_examples=60, deadline=None)
@given(tables(), st.sampled_from([1e-3, 1e3, 3.6e6, 1 / 3600, 1024.0]))
def test_indices_are_invariant_to_the_unit_of_a_metric(df, unit_factor):
    scaled = df.copy()
    for s in SPECS:
        scaled[s.column] = df[s.column] * unit_factor
    a = compute_indices(df, "infer", "ref")
    b = compute_indices(scaled, "infer", "ref")
    for s in SPECS:
        np.testing.assert_allclose(a[f"{s.name}_index"], b[f"{s.name}_index"], rtol=1e-9)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 4), min_size=1, max_size=6).flatmap(
    lambda r: st.tuples(st.just(r), st.lists(st.floats(0.01, 10), min_size=len(r), max_size=len(r)),
                        st.integers(0, len(r) - 1))))
def test_improving_one_metric_rating_never_worsens_the_compound(case):
    ratings, weights, i = case
    if ratings[i] == 0:
        return
    improved = list(ratings)
    improved[i] -= 1
    for mode in MODES:
        assert compound_ratings([improved], weights, mode)[0] <= compound_ratings([ratings], weights, mode)[0]
    assert compound_ratings([ratings], weights, "optimistic median")[0] <= compound_ratings([ratings], weights, "pessimistic median")[0]


@settings(max_examples=60, deadline=None)
@given(st.lists(positive, min_size=5, max_size=60), st.integers(min_value=0, max_value=2**31 - 1), st.integers(0, 5))
def test_boundaries_fall_ignore_order_and_missing_rows_and_a_fifth_rates_a(indices, seed, missing):
    from mlel.ratings import compute_boundaries, ratings_from_index

    indexed = pd.DataFrame({f"{s.name}_index": indices for s in SPECS})
    b = compute_boundaries(indexed, "infer")
    for values in b.values():
        assert all(x >= y for x, y in zip(values, values[1:]))  # best first, never rising
    shuffled = indexed.sample(frac=1.0, random_state=seed % 2**32)
    with_missing = pd.concat([shuffled, pd.DataFrame({c: [np.nan] * missing for c in indexed.columns})], ignore_index=True)
    assert compute_boundaries(with_missing, "infer") == b
    # A is "above the 80 % quantile": about a fifth of the runs (within one run: the quantile interpolates),
    # fewer where runs tie at the top, and never more
    letters = ratings_from_index(np.asarray(indices), b["accuracy"])
    share_a, n = float(np.mean(letters == 0)), len(indices)
    assert share_a <= 0.2 + 1 / n
    if len(set(indices)) == n:
        assert share_a >= 0.2 - 1 / n
