"""Pareto fronts and hypervolume: pure functions over arrays, shared by ELEx and the trade-off search."""

from __future__ import annotations

from typing import Sequence

import numpy as np


def _as_minimisation(values, maximize: Sequence[bool]) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 2:
        raise ValueError(f"values must be a 2-d array (n_points, n_objectives); got shape {arr.shape}")
    if arr.shape[1] != len(maximize):
        raise ValueError(f"maximize has {len(maximize)} entries for {arr.shape[1]} objectives")
    signs = np.where(np.asarray(maximize, dtype=bool), -1.0, 1.0)
    return arr * signs


def pareto_mask(values, maximize: Sequence[bool]) -> np.ndarray:
    """Boolean mask of the non-dominated rows of ``values``.

    A row is dominated when another row is at least as good in every objective and strictly
    better in one. Duplicates of a non-dominated point are all kept. Rows with NaN are never
    on the front.
    """
    cost = _as_minimisation(values, maximize)
    n = cost.shape[0]
    finite = np.all(np.isfinite(cost), axis=1)
    mask = finite.copy()
    order = np.lexsort(cost.T[::-1])  # sweep in lexicographic order: a dominator always comes first
    front: list[int] = []
    for i in order:
        if not finite[i]:
            continue
        c = cost[i]
        dominated = False
        for j in front:
            cj = cost[j]
            if np.all(cj <= c) and np.any(cj < c):
                dominated = True
                break
        if dominated:
            mask[i] = False
        else:
            front.append(i)
    return mask if n else np.zeros(0, dtype=bool)


def hypervolume_2d(values, reference: Sequence[float], maximize: Sequence[bool]) -> float:
    """Area dominated by the points of a two-objective problem and bounded by ``reference``.

    ``reference`` is in the objectives' own units and directions; points that do not strictly
    improve on it in both objectives contribute nothing.
    """
    cost = _as_minimisation(values, maximize)
    if cost.shape[1] != 2:
        raise ValueError("hypervolume_2d needs exactly two objectives")
    ref = _as_minimisation(np.asarray(reference, dtype=float)[None, :], maximize)[0]
    keep = np.all(np.isfinite(cost), axis=1) & np.all(cost < ref, axis=1)
    pts = cost[keep]
    if len(pts) == 0:
        return 0.0
    pts = pts[np.argsort(pts[:, 0], kind="stable")]
    volume = 0.0
    best_y = ref[1]
    for x, y in pts:
        if y < best_y:
            volume += (ref[0] - x) * (best_y - y)
            best_y = y
    return float(volume)
