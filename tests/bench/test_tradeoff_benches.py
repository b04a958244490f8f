"""The trade-off benches' own arithmetic: the oracle's fast hypervolume against the search's functions,
and the surrogate's means held to what real runs reached."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import numpy as np
import pytest

from mlel.tradeoff.search import hypervolume_on_test

ROOT = Path(__file__).resolve().parents[2]
BENCH_MODULES = ("tradeoff", "tradeoff_oracle", "tradeoff_surrogate")


def _import_benches():
    """The bench scripts import each other as top-level modules (``tradeoff``, ...), and ``tradeoff`` is
    also this test suite's package for mlel.tradeoff: import them with bench/ on the path, then take
    them out of sys.modules and the path again so that neither shadows the other."""
    saved_path, saved = sys.path[:], {n: sys.modules.pop(n) for n in BENCH_MODULES if n in sys.modules}
    try:
        sys.path.insert(0, str(ROOT / "bench"))
        return [importlib.import_module(n) for n in BENCH_MODULES]
    finally:
        sys.path[:] = saved_path
        for n in BENCH_MODULES:
            sys.modules.pop(n, None)
        sys.modules.update(saved)


_bench, _oracle, _surrogate = _import_benches()
bench_space, front_hypervolume, real_pool, Surrogate = (_bench.bench_space, _oracle.front_hypervolume,
                                                        _oracle.real_pool, _surrogate.Surrogate)

REFERENCE = (0.1, 10 ** 3.2)


def _records(points):
    return [{"status": "complete", "utility": v, "test_utility": t, "energy_j": 10 ** le, "scored_j": 10 ** ls}
            for v, le, t, ls in points]


def test_hand_checked_case():
    # chosen on validation: (0.9, 1.0) and (0.95, 2.0); (0.8, 1.5) is dominated by (0.9, 1.0)
    points = [(0.9, 1.0, 0.5, 1.0), (0.8, 1.5, 0.99, 1.5), (0.95, 2.0, 0.7, 2.0)]
    # scored on test: 0.4 x (2.0 - 1.0) + 0.6 x (3.2 - 2.0)
    assert front_hypervolume(points, *REFERENCE[:1], 3.2) == pytest.approx(0.4 + 0.72)


@pytest.mark.parametrize("rescored", [False, True])
def test_matches_hypervolume_on_test(rescored):
    rng = np.random.default_rng(0)
    for _ in range(200):
        n = int(rng.integers(1, 25))
        le = rng.random(n) * 3.5
        scored = le + rng.normal(0, 0.1, n) if rescored else le
        points = list(zip(rng.random(n), le, rng.random(n), scored))
        expected = hypervolume_on_test(_records(points), REFERENCE,
                                       energy_of=(lambda r: r["scored_j"]) if rescored else None)
        assert front_hypervolume(points, REFERENCE[0], 3.2) == pytest.approx(expected, abs=1e-12)


def test_surrogate_means_stay_within_what_real_runs_reached():
    space = bench_space()
    rng = np.random.default_rng(1)
    records = {}
    for seed in range(2):
        records[seed] = []
        for _ in range(12):  # MLPs in one corner of the space, accuracy rising towards it
            c = space.from_unit_row(space.names.index("mlp"), 0.6 + 0.4 * rng.random(space.max_family_dim))
            u = 0.90 + 0.05 * float(np.mean(space.encode(c)[space.family_columns("mlp")]))
            records[seed].append({"status": "complete", "candidate": c.to_dict(), "utility": u,
                                  "test_utility": u, "energy_j": 10.0 + rng.random()})
    surrogate = Surrogate(records, space)
    observed = [r["test_utility"] for rs in records.values() for r in rs]
    far = space.from_unit_row(space.names.index("mlp"), np.ones(space.max_family_dim))
    raw = surrogate._mean(surrogate.families["mlp"][0], surrogate._x(far)[None, :])[0]
    assert raw[1] > max(observed)  # the GP extrapolates the trend past every real run
    level = surrogate.level(far)
    assert min(observed) <= level[1] <= max(observed)
    assert 10.0 <= 10 ** level[2] <= 11.0  # energies of 10-11 J were measured
    assert len(real_pool(records)) == 24
