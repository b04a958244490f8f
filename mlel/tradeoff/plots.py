"""Figures of a search (matplotlib's object API, no pyplot state): the front and the hypervolume curve."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from mlel.measurement.provenance import Provenance


def _figure(size=(6.4, 4.2)):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, dpi=110)
    FigureCanvasAgg(fig)
    return fig


def energy_axis_label(meta: Mapping, records: Sequence[dict]) -> str:
    predictions = meta.get("predictions")
    both = f"training + {predictions:,} predictions: energy" if predictions else "training + inference energy"
    what = {"train": "training energy", "infer": "energy per prediction",
            "train+infer": both}.get(meta.get("energy", ""), "energy")
    estimated = any(r.get("provenance") == Provenance.ESTIMATE.value for r in records)
    return f"{what} (J, log scale){' - estimated' if estimated else ''}"


def front_figure(records: Sequence[dict], front: Sequence[dict], meta: Mapping):
    fig = _figure()
    ax = fig.add_subplot(1, 1, 1)
    models = sorted({r["candidate"]["model"] for r in records})
    for i, model in enumerate(models):
        pts = [r for r in records if r["candidate"]["model"] == model]
        ax.scatter([r["energy_j"] for r in pts], [r["utility"] for r in pts], s=22, alpha=0.75,
                   color=f"C{i % 10}", label=model)
    if front:
        fe = [p["energy_j"] for p in front]
        fu = [p["utility"] for p in front]
        ax.step(fe, fu, where="post", color="black", lw=1.2, label="Pareto front")
        ax.scatter(fe, fu, s=60, facecolors="none", edgecolors="black", lw=1.2)
    ax.set_xscale("log")
    ax.set_xlabel(energy_axis_label(meta, records))
    objective = meta.get("objective", "utility")
    ax.set_ylabel(f"validation {objective}" if meta.get("validation_size") else f"test {objective}")
    n = len(records)
    ax.set_title(f"{meta.get('dataset', '')}: {n} evaluation{'' if n == 1 else 's'} ({meta.get('method', '')})")
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(fontsize=8, loc="best")  # where it covers the fewest evaluations
    fig.tight_layout()
    return fig


def save_front_plot(path: Path, records: Sequence[dict], front: Sequence[dict], meta: Mapping) -> Path:
    front_figure(records, front, meta).savefig(path)
    return Path(path)


def hypervolume_figure(curves: Mapping[str, Sequence], title: str = "", bands: Mapping[str, Sequence] | None = None,
                       zoom_from: int | None = None):
    """``curves``: name -> hypervolume after each evaluation (None before the reference is fixed);
    ``bands``: optional name -> standard deviation per evaluation, drawn as a shaded band;
    ``zoom_from``: add a second panel from that evaluation on, its y axis fitted to the curves there
    (late differences between methods are hundredths, invisible on the full scale)."""
    fig = _figure()
    if zoom_from:
        fig.set_size_inches(fig.get_size_inches()[0] * 1.8, fig.get_size_inches()[1])
    axes = [fig.add_subplot(1, 2 if zoom_from else 1, 1)]
    if zoom_from:
        axes.append(fig.add_subplot(1, 2, 2))
    lows, highs = [], []
    for i, (name, curve) in enumerate(curves.items()):
        y = np.array([np.nan if v is None else float(v) for v in curve])
        x = np.arange(1, len(y) + 1)
        for ax in axes:
            ax.plot(x, y, color=f"C{i % 10}", lw=1.6, label=name)
            if bands and name in bands:
                s = np.asarray(bands[name], dtype=float)
                ax.fill_between(x, y - s, y + s, color=f"C{i % 10}", alpha=0.12 if ax is not axes[0] else 0.18, lw=0)
        if zoom_from and len(y) >= zoom_from and np.isfinite(y[zoom_from - 1:]).any():
            lows.append(np.nanmin(y[zoom_from - 1:]))
            highs.append(np.nanmax(y[zoom_from - 1:]))
    for ax in axes:
        ax.set_xlabel("evaluations")
        ax.grid(True, alpha=0.25)
        ax.legend(fontsize=8, loc="best")  # where it covers the fewest evaluations
    axes[0].set_ylabel("hypervolume (utility x decades of energy)")
    if zoom_from and lows:
        lo, hi = min(lows), max(highs)
        pad = max(1e-3, 0.15 * (hi - lo))
        axes[1].set_xlim(left=zoom_from - 0.5)
        axes[1].set_ylim(lo - pad, hi + pad)
        axes[1].set_title(f"from evaluation {zoom_from} (means only on this scale)", fontsize=9)
    if title:
        axes[0].set_title(title, fontsize=10 if zoom_from else None)
    fig.tight_layout()
    return fig


def save_hypervolume_plot(path: Path, curves: Mapping[str, Sequence], title: str = "", bands=None,
                          zoom_from: int | None = None) -> Path:
    hypervolume_figure(curves, title, bands, zoom_from).savefig(path)
    return Path(path)
