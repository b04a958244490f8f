"""Figures of a search (matplotlib's object API, no pyplot state): the front and the hypervolume curve."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import numpy as np


def _figure(size=(6.4, 4.2)):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, dpi=110)
    FigureCanvasAgg(fig)
    return fig


def energy_axis_label(meta: Mapping, records: Sequence[dict]) -> str:
    what = {"train": "training energy", "infer": "energy per prediction",
            "train+infer": "training + inference energy"}.get(meta.get("energy", ""), "energy")
    estimated = any(r.get("provenance") == "estimate" for r in records)
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
    ax.set_ylabel(meta.get("objective", "utility"))
    ax.set_title(f"{meta.get('dataset', '')}: {len(records)} evaluations ({meta.get('method', '')})")
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


def save_front_plot(path: Path, records: Sequence[dict], front: Sequence[dict], meta: Mapping) -> Path:
    front_figure(records, front, meta).savefig(path)
    return Path(path)


def hypervolume_figure(curves: Mapping[str, Sequence], title: str = "", bands: Mapping[str, Sequence] | None = None):
    """``curves``: name -> hypervolume after each evaluation (None before the reference is fixed);
    ``bands``: optional name -> standard deviation per evaluation, drawn as a shaded band."""
    fig = _figure()
    ax = fig.add_subplot(1, 1, 1)
    for i, (name, curve) in enumerate(curves.items()):
        y = np.array([np.nan if v is None else float(v) for v in curve])
        x = np.arange(1, len(y) + 1)
        ax.plot(x, y, color=f"C{i % 10}", lw=1.6, label=name)
        if bands and name in bands:
            s = np.asarray(bands[name], dtype=float)
            ax.fill_between(x, y - s, y + s, color=f"C{i % 10}", alpha=0.18, lw=0)
    ax.set_xlabel("evaluations")
    ax.set_ylabel("hypervolume (utility x decades of energy)")
    if title:
        ax.set_title(title)
    ax.grid(True, alpha=0.25)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


def save_hypervolume_plot(path: Path, curves: Mapping[str, Sequence], title: str = "", bands=None) -> Path:
    hypervolume_figure(curves, title, bands).savefig(path)
    return Path(path)
