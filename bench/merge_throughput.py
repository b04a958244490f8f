#!/usr/bin/env python
"""Merge throughput: synthetic experiment folders merged per second, and peak memory.

    python bench/merge_throughput.py [--folders 2000] [--samples 120] [--no-write]

Each size runs in a fresh subprocess (so peak RSS is that merge's own); the result table is written
into docs/benchmarks.md between the "merge-throughput" markers. Target: >= 200 folders/s on a
2-core machine and peak memory that does not grow with the number of folders.
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"

CHILD = r"""
import json, resource, sys, time
from mlel.results.merge import merge_experiments
runs, out = sys.argv[1], sys.argv[2]
t0 = time.perf_counter()
report = merge_experiments([runs], out, progress=False)
dt = time.perf_counter() - t0
print(json.dumps({"merged": report.merged, "skipped": len(report.skipped), "seconds": dt,
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def measure(n: int, samples: int, work: Path) -> dict:
    from mlel.results.synthetic import write_experiment_folder

    runs = work / f"runs_{n}"
    for i in range(n):
        write_experiment_folder(runs, i, task=("infer", "train")[i % 2], samples=samples)
    proc = subprocess.run([sys.executable, "-c", CHILD, str(runs), str(work / f"results_{n}")], cwd=ROOT,
                          capture_output=True, text=True, check=True, env={"PYTHONPATH": str(ROOT), "MLEL_NO_PROGRESS": "1"})
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result.update(folders=n, per_s=n / result["seconds"])
    return result


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from mlel.cli import ArgumentParser, positive_int

    parser = ArgumentParser(prog="bench/merge_throughput.py",
                            description="Merge throughput: synthetic experiment folders merged per second, and peak memory.")
    parser.add_argument("--folders", type=positive_int, default=2000,
                        help="folders in the larger run; the smaller has a tenth (default 2000)")
    parser.add_argument("--samples", type=positive_int, default=120, help="rows per power log (60 s at 0.5 s)")
    parser.add_argument("--no-write", action="store_true", help="print only, leave docs/benchmarks.md alone")
    args = parser.parse_args()
    sizes = sorted({max(1, args.folders // 10), args.folders})
    with tempfile.TemporaryDirectory() as tmp:
        rows = []
        for n in sizes:
            print(f"merging {n} synthetic folders ...", file=sys.stderr)
            rows.append(measure(n, args.samples, Path(tmp)))
    lines = [f"Machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}; "
             f"{args.samples} power samples per folder, one meter; {time.strftime('%Y-%m-%d')}.", "",
             "| folders | merged | seconds | folders/s | peak RSS (MiB) |", "|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['folders']} | {r['merged']} | {r['seconds']:.2f} | {r['per_s']:.0f} | {r['peak_rss_mib']:.0f} |")
    table = "\n".join(lines)
    print(table)
    if not args.no_write:
        from bench.docwriter import write_section

        write_section("merge-throughput", "Merge throughput (`bench/merge_throughput.py`)", table)
        print(f"wrote {DOC}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
