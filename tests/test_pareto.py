import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlel.pareto import hypervolume_2d, pareto_mask


def test_pareto_mask_hand_checked_max_accuracy_min_energy():
    # (accuracy, energy): maximise accuracy, minimise energy
    pts = [(0.90, 10.0), (0.95, 20.0), (0.85, 5.0), (0.80, 12.0), (0.95, 25.0), (0.90, 10.0)]
    mask = pareto_mask(pts, maximize=[True, False])
    assert mask.tolist() == [True, True, True, False, False, True]


def test_pareto_mask_nan_never_on_front():
    mask = pareto_mask([(1.0, np.nan), (0.5, 1.0)], maximize=[True, False])
    assert mask.tolist() == [False, True]


def test_pareto_mask_rejects_wrong_shape():
    with pytest.raises(ValueError):
        pareto_mask([1.0, 2.0], maximize=[True])


def test_hypervolume_2d_hand_checked():
    # minimise both; reference (4, 4); points (1,3), (2,2), (3,1) -> staircase area 3+2+1 = 6
    assert hypervolume_2d([(1, 3), (2, 2), (3, 1)], reference=(4, 4), maximize=[False, False]) == pytest.approx(6.0)
    # a dominated point adds nothing
    assert hypervolume_2d([(1, 3), (2, 2), (3, 1), (3, 3)], reference=(4, 4), maximize=[False, False]) == pytest.approx(6.0)
    # maximise accuracy (ref 0.5), minimise energy (ref 10): one point (0.9, 2) -> 0.4 * 8
    assert hypervolume_2d([(0.9, 2.0)], reference=(0.5, 10.0), maximize=[True, False]) == pytest.approx(3.2)
    # points outside the reference box contribute nothing
    assert hypervolume_2d([(0.4, 2.0)], reference=(0.5, 10.0), maximize=[True, False]) == 0.0


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1)), min_size=1, max_size=30))
def test_front_points_are_mutually_non_dominated_and_hv_only_depends_on_front(points):
    arr = np.array(points)
    mask = pareto_mask(arr, maximize=[False, False])
    front = arr[mask]
    for a in front:
        assert not any(np.all(b <= a) and np.any(b < a) for b in front)
    for a in arr[~mask]:
        assert any(np.all(b <= a) and np.any(b < a) for b in front)
    assert hypervolume_2d(arr, (1.0, 1.0), [False, False]) == pytest.approx(hypervolume_2d(front, (1.0, 1.0), [False, False]))


def _grid_area(points, reference, n=200):
    """Brute force: the share of a fine grid over the reference box that some point dominates (minimise both)."""
    xs = (np.arange(n) + 0.5) / n * reference[0]
    ys = (np.arange(n) + 0.5) / n * reference[1]
    gx, gy = np.meshgrid(xs, ys)
    covered = np.zeros_like(gx, dtype=bool)
    for x, y in points:
        covered |= (gx >= x) & (gy >= y)
    return covered.mean() * reference[0] * reference[1]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1)), min_size=1, max_size=12), st.tuples(st.floats(0, 1), st.floats(0, 1)))
def test_hypervolume_matches_a_brute_force_area_and_a_new_point_never_lowers_it(points, extra):
    ref = (1.0, 1.0)
    hv = hypervolume_2d(points, reference=ref, maximize=[False, False])
    assert hv == pytest.approx(_grid_area(points, ref), abs=0.011)  # a 200 x 200 grid: within 2 cells of each edge
    assert hypervolume_2d([*points, extra], reference=ref, maximize=[False, False]) >= hv - 1e-12
    # maximising an objective is minimising its negative: the same area
    flipped = [(-x, y) for x, y in points]
    assert hypervolume_2d(flipped, reference=(-1.0, 1.0), maximize=[True, False]) == pytest.approx(hv)
