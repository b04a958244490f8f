"""Compute the findings in docs/results.md from the shipped results (numbers, not adjectives).

    python scripts/results_findings.py [--results results] [--write docs/results.md]

Prints markdown; with --write it replaces the part of the file between the findings markers.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BEGIN, END = "<!-- findings:begin -->", "<!-- findings:end -->"
BUNDLED = ("iris", "wine", "breast_cancer", "digits")


def _fmt_j(value: float) -> str:
    for unit, scale in (("kJ", 1e3), ("J", 1.0), ("mJ", 1e-3), ("µJ", 1e-6)):
        if abs(value) >= scale:
            return f"{value / scale:.3g} {unit}"
    return f"{value * 1e9:.3g} nJ"


def _grid(df):
    return df[(df["source"] == "mlel") & (df["search_id"].fillna("") == "")]


def pareto_section(df) -> list[str]:
    from mlel.pareto import pareto_mask

    lines = ["### Pareto-optimal models per data set (training energy vs accuracy, mean of repeats, 2 threads)", "",
             "| data set | Pareto-optimal (model / backend: accuracy, energy) | most / least energy of all models | spread |",
             "|---|---|---|---:|"]
    train = _grid(df)
    train = train[(train["task"] == "train") & (train["threads"] == 2) & train["dataset"].isin(BUNDLED)]
    for dataset in BUNDLED:
        sub = train[train["dataset"] == dataset]
        if sub.empty:
            continue
        g = sub.groupby(["model", "backend"], observed=True).agg(accuracy=("accuracy", "mean"), energy_j=("energy_j", "mean"), n=("run_id", "count")).reset_index()
        mask = pareto_mask(g[["accuracy", "energy_j"]].to_numpy(), maximize=[True, False])
        front = g[mask].sort_values("energy_j")
        names = "; ".join(f"{r.model} / {r.backend}: {r.accuracy:.3f}, {_fmt_j(r.energy_j)}" for r in front.itertuples())
        hi, lo = g.loc[g["energy_j"].idxmax()], g.loc[g["energy_j"].idxmin()]
        lines.append(f"| {dataset} | {names} | {hi.model}/{hi.backend} {_fmt_j(hi.energy_j)} / {lo.model}/{lo.backend} {_fmt_j(lo.energy_j)} | {hi.energy_j / lo.energy_j:,.0f}x |")
    return lines


def repeat_section(df) -> list[str]:
    train = _grid(df)
    train = train[(train["task"] == "train") & (train["threads"] == 2) & train["dataset"].isin(BUNDLED)]
    g = train.groupby(["model", "backend", "dataset"], observed=True)["energy_j"].agg(["mean", "std", "count"])
    g = g[g["count"] >= 2]
    cv = (g["std"] / g["mean"]).dropna()
    if cv.empty:
        return []
    return ["", f"Repeatability: over {len(cv)} model/data-set cells with {int(g['count'].min())}-{int(g['count'].max())} repeats, "
            f"the coefficient of variation of training energy has median {cv.median():.1%} (max {cv.max():.1%}, "
            f"for {'/'.join(map(str, cv.idxmax()))})."]


def inference_section(df) -> list[str]:
    inf = _grid(df)
    inf = inf[(inf["task"] == "infer") & (inf["threads"] == 2) & inf["dataset"].isin(BUNDLED)]
    if inf.empty:
        return []
    g = inf.groupby(["model", "backend"], observed=True)["energy_per_sample_j"].median().unstack()
    lines = ["", "### Inference energy per sample by backend (median over data sets and repeats)", "",
             "| model | " + " | ".join(g.columns) + " |", "|---|" + "---:|" * len(g.columns)]
    for model, row in g.iterrows():
        lines.append(f"| {model} | " + " | ".join("-" if np.isnan(v) else _fmt_j(v) for v in row) + " |")
    return lines


def scaling_section(df) -> list[str]:
    sc = _grid(df)
    sc = sc[(sc["task"] == "train") & (sc["dataset"].astype(str).str.startswith("synthetic"))]
    if sc.empty:
        return []
    lines = ["", "### How training energy scales with samples (synthetic data, 20 features; fit energy = a n^b)", "",
             "| model / backend | sizes | b (exponent) | energy at smallest / largest |", "|---|---|---:|---|"]
    for (model, backend), sub in sc.groupby(["model", "backend"], observed=True):
        sub = sub.sort_values("n_train_samples")
        if len(sub) < 2:
            continue
        x, y = np.log(sub["n_train_samples"].to_numpy(float)), np.log(sub["energy_j"].to_numpy(float))
        b = np.polyfit(x, y, 1)[0]
        lines.append(f"| {model} / {backend} | {int(sub['n_train_samples'].min()):,}-{int(sub['n_train_samples'].max()):,} | {b:.2f} | "
                     f"{_fmt_j(sub['energy_j'].iloc[0])} / {_fmt_j(sub['energy_j'].iloc[-1])} |")
    return lines


def threads_section(df) -> list[str]:
    grid = _grid(df)
    grid = grid[grid["dataset"] == "digits"]
    lines = ["", "### One thread versus two (digits, seed 0)", "",
             "| task | model / backend | time 1 thr / 2 thr | energy 1 thr / 2 thr | mean power 1 thr / 2 thr |", "|---|---|---:|---:|---:|"]
    found = False
    for task in ("train", "infer"):
        sub = grid[grid["task"] == task]
        for (model, backend), g in sub.groupby(["model", "backend"], observed=True):
            one, two = g[g["threads"] == 1], g[g["threads"] == 2]
            if one.empty or two.empty:
                continue
            found = True
            col_e = "energy_j" if task == "train" else "energy_per_sample_j"
            col_t = "time_s" if task == "train" else "time_per_sample_s"
            t1, t2 = one[col_t].median(), two[col_t].median()
            e1, e2 = one[col_e].median(), two[col_e].median()
            p1, p2 = one["power_mean_w"].median(), two["power_mean_w"].median()
            lines.append(f"| {task} | {model} / {backend} | {t1 / t2:.2f} | {e1 / e2:.2f} | {p1:.1f} W / {p2:.1f} W |")
    if not found:
        return []
    lines.append("")
    lines.append("Ratios above 1 mean one thread took longer or spent more. Inference figures are per sample.")
    return lines


def findings(results: Path) -> str:
    from mlel.results import load_results

    df = load_results([results])
    counts = df.groupby("task").size().to_dict()
    head = [f"Computed by `python scripts/results_findings.py --write docs/results.md` from {len(df)} runs in `{results.name}/` "
            f"({counts.get('train', 0)} training, {counts.get('infer', 0)} inference). All energy here is **estimated** "
            "(CodeCarbon's CPU TDP x load and RAM models; this machine has no RAPL and no GPU), so it is close to "
            "time x (about 22 W), and differences between models are differences in time and CPU load.", ""]
    parts = head + pareto_section(df) + repeat_section(df) + inference_section(df) + scaling_section(df) + threads_section(df)
    return "\n".join(parts) + "\n"


def main() -> int:
    from mlel.cli import ArgumentParser

    parser = ArgumentParser(prog="scripts/results_findings.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, default=ROOT / "results", help="merged results (default: results/)")
    parser.add_argument("--write", type=Path, metavar="DOC",
                        help=f"replace the block between {BEGIN} and {END} in DOC (e.g. docs/results.md) instead of printing")
    args = parser.parse_args()
    if not args.results.exists():
        parser.error(f"--results {str(args.results)!r} not found")
    if args.write is not None:
        doc = args.write.read_text() if args.write.is_file() else ""
        if BEGIN not in doc or END not in doc:
            parser.error(f"--write {str(args.write)!r} must be a file holding the markers {BEGIN} and {END}")
    text = findings(args.results)
    if args.write:
        start, end = doc.index(BEGIN) + len(BEGIN), doc.index(END)
        args.write.write_text(doc[:start] + "\n" + text + doc[end:])
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
