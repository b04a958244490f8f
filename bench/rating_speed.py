#!/usr/bin/env python
"""How long ``rate_results`` takes on 1,000 to 100,000 runs (the dashboard re-rates on every filter).

    python bench/rating_speed.py [--no-write]

The table is the 176 MLEE inference logs, repeated with jittered values and spread over 40
environments; written into docs/benchmarks.md between the "rating-speed" markers.
"""

from __future__ import annotations

import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
REFERENCE = ROOT.parent / "shared" / "reference" / "mlee-imagenet-results"


def main() -> int:
    import numpy as np
    import pandas as pd

    from bench.docwriter import write_section
    from mlel.ratings import MODES, rate_results
    from mlel.results import load_results

    from mlel.cli import ArgumentParser

    parser = ArgumentParser(prog="bench/rating_speed.py",
                            description="Rating speed: mlel.ratings on 1,000 to 100,000 runs made from the MLEE logs.")
    parser.add_argument("--no-write", action="store_true", help="print only, leave docs/benchmarks.md alone")
    args = parser.parse_args()
    base = load_results(REFERENCE)
    base = base[base.task == "infer"]
    rng = np.random.default_rng(0)
    lines = [f"Machine: {platform.machine()}, Python {platform.python_version()}, pandas {pd.__version__}; "
             f"median of 5 runs, boundaries recomputed each time; {time.strftime('%Y-%m-%d')}.", "",
             "| runs | " + " | ".join(f"{m} (ms)" for m in ("optimistic median", "pessimistic mean", "worst")) + " |",
             "|---:|---:|---:|---:|"]
    for n in (1_000, 10_000, 100_000):
        reps = -(-n // len(base))
        df = pd.concat([base] * reps, ignore_index=True).iloc[:n].copy()
        copy_no = np.arange(len(df)) // len(base)
        df["environment"] = df["environment"] + " #" + (copy_no % 40).astype(str)
        df["model"] = np.where(df["model"] == "ResNet101", "ResNet101",
                               df["model"] + "-" + (copy_no // 40).astype(str))
        for column in ("energy_per_sample_j", "time_per_sample_s", "accuracy"):
            df[column] = df[column] * rng.uniform(0.9, 1.1, len(df))
        cells = []
        for mode in ("optimistic median", "pessimistic mean", "worst"):
            times = []
            for _ in range(5):
                t0 = time.perf_counter()
                rated = rate_results(df, "infer", "ResNet101", mode=mode)
                times.append(time.perf_counter() - t0)
            assert len(rated) == n and mode in MODES
            cells.append(f"{1000 * sorted(times)[2]:.0f}")
        lines.append(f"| {n:,} | " + " | ".join(cells) + " |")
        print(lines[-1], file=sys.stderr)
    table = "\n".join(lines)
    print(table)
    if not args.no_write:
        write_section("rating-speed", "Rating speed (`bench/rating_speed.py`)", table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
