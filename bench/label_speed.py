#!/usr/bin/env python
"""Label rendering speed: seconds per label as PNG, PDF and SVG in a warm process.

    python bench/label_speed.py [--repeats 30] [--no-write]

Labels are built from the MLEE reference logs (rated against ResNet101), several models so that
text and QR payloads vary. The first render of each format in the process is reported apart
(font loading); then every format is timed ``--repeats`` times per label. The table goes into
docs/benchmarks.md between the "label-rendering" markers. Targets (warm): PNG < 0.1 s, PDF < 0.3 s;
the original ELEx took about 0.35 s per label.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"
REFERENCE = ROOT.parent / "shared" / "reference" / "mlee-imagenet-results"
ENVIRONMENT = "A100-SXM4-40GB x8 - TensorFlow 2.8.0"
MODELS = ("ResNet101", "EfficientNetB0", "VGG16", "MobileNetV3Small", "InceptionResNetV2")
TARGETS_S = {"png": 0.1, "pdf": 0.3}


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from mlel.cli import ArgumentParser, positive_int

    parser = ArgumentParser(prog="bench/label_speed.py", description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=positive_int, default=30, help="renders per label and format (default 30)")
    parser.add_argument("--no-write", action="store_true", help="print only, leave docs/benchmarks.md alone")
    args = parser.parse_args()
    import matplotlib
    from tqdm import tqdm

    from mlel.labels import label_data_from_row, render_label
    from mlel.labels.qr import qr_matrix
    from mlel.ratings import rate_results
    from mlel.results import load_results

    rated = rate_results(load_results([REFERENCE]), "infer", "ResNet101", missing_reference="drop")
    rows = [rated[(rated["model"] == m) & (rated["environment"] == ENVIRONMENT)].iloc[0] for m in MODELS]

    t0 = time.perf_counter()
    labels = [label_data_from_row(row) for row in rows]
    build_ms = (time.perf_counter() - t0) / len(rows) * 1000

    first_s = {}
    for fmt in ("png", "pdf", "svg"):
        t0 = time.perf_counter()
        render_label(labels[0], fmt)
        first_s[fmt] = time.perf_counter() - t0

    timings: dict[str, list[float]] = {"png": [], "pdf": [], "svg": []}
    cpu: dict[str, list[float]] = {"png": [], "pdf": [], "svg": []}  # CPU time: robust to a busy machine
    sizes: dict[str, int] = {}
    jobs = [(fmt, label) for _ in range(args.repeats) for label in labels for fmt in timings]
    for fmt, label in tqdm(jobs, desc="rendering labels", unit="label", disable=bool(os.environ.get("MLEL_NO_PROGRESS"))):
        t0, c0 = time.perf_counter(), time.process_time()
        data = render_label(label, fmt)
        timings[fmt].append(time.perf_counter() - t0)
        cpu[fmt].append(time.process_time() - c0)
        sizes[fmt] = len(data)

    qr_times = []
    for label in labels * 5:
        t0 = time.perf_counter()
        qr_matrix(label.qr_payload)
        qr_times.append(time.perf_counter() - t0)

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs (shared; 1-min load {load:.1f} at the end), "
        f"Python {platform.python_version()}, matplotlib {matplotlib.__version__}; {len(labels)} MLEE labels "
        f"({', '.join(MODELS)}) x {args.repeats} renders per format, one warm process; {time.strftime('%Y-%m-%d')}.",
        "",
        "| format | wall median (s) | wall p90 (s) | wall min (s) | CPU median (s) | first in process (s) | target, on CPU time (s) | file size (kB) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for fmt, values in timings.items():
        values = sorted(values)
        p90 = values[min(len(values) - 1, int(0.9 * len(values)))]
        target = TARGETS_S.get(fmt)
        # Judged on CPU time: the rendering is single-threaded, so on an idle core wall time equals it;
        # on this shared 2-core machine the wall time also counts waiting for a core.
        verdict = "" if target is None else f"{target} {'met' if statistics.median(cpu[fmt]) < target else 'MISSED'}"
        lines.append(f"| {fmt.upper()} | {statistics.median(values):.3f} | {p90:.3f} | {values[0]:.3f} | "
                     f"{statistics.median(cpu[fmt]):.3f} | {first_s[fmt]:.2f} | {verdict or '-'} | {sizes[fmt] / 1000:.0f} |")
    lines += [
        "",
        f"Parts of it: `label_data_from_row` {build_ms:.2f} ms per label; the QR matrix "
        f"(`qrcode` encoding, mask choice scored in numpy) {statistics.median(qr_times) * 1000:.1f} ms. "
        "PNG at 150 dpi (590 x 1062 px), zlib level 1. Rendering is single-threaded, so CPU time is the wall "
        "time on an idle core; wall times above include waiting for a core on a machine shared with other jobs. "
        "The original ELEx took about 0.35 s per label.",
    ]
    table = "\n".join(lines)
    print(table)
    if not args.no_write:
        from bench.docwriter import write_section

        write_section("label-rendering", "Label rendering (`bench/label_speed.py`)", table)
        print(f"wrote {DOC}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
