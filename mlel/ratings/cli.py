"""``python -m mlel.ratings``: rate the runs of a results table and print (or emit as JSON) the ratings."""

from __future__ import annotations

import json
import logging
import math
import sys
from pathlib import Path
from typing import Sequence

from mlel.cli import ArgumentParser, run_main, setup_logging
from mlel.errors import UserInputError
from mlel.ratings.metrics import DEFAULT_MODE, MODES, RATING_LETTERS, metric_specs, normalise_task

log = logging.getLogger(__name__)
PROG = "python -m mlel.ratings"


def build_parser() -> ArgumentParser:
    p = ArgumentParser(prog=PROG, description="Rate runs against a reference model in each environment (MLEE method).")
    p.add_argument("--results", nargs="+", required=True, metavar="PATH",
                   help="merged mlel results and/or MLEE logs (files or folders)")
    p.add_argument("--task", required=True, help="inference (infer) or training (train)")
    p.add_argument("--reference", required=True, help="reference model name, looked up in each environment")
    p.add_argument("--mode", default=DEFAULT_MODE, help=f"compound rating mode: {', '.join(MODES)} (default: {DEFAULT_MODE})")
    p.add_argument("--boundaries", metavar="FILE", help="rating boundaries JSON (default: 80/60/40/20 %% quantiles of these runs)")
    p.add_argument("--save-boundaries", metavar="FILE", help="write the boundaries used to FILE")
    p.add_argument("--weights", metavar="FILE", help="metric weights JSON, merged over the defaults")
    p.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    p.add_argument("-v", "--verbose", action="store_true")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)  # before pandas loads: --help and usage errors stay quick
    setup_logging(args.verbose)
    task = normalise_task(args.task)
    from mlel.ratings.core import load_boundaries, load_weights, normalise_mode, rate_results, save_boundaries
    from mlel.results import load_results

    mode = normalise_mode(args.mode)
    boundaries = load_boundaries(args.boundaries, task) if args.boundaries else None
    weights = load_weights(args.weights, task) if args.weights else None
    if args.save_boundaries:
        _check_file_to_write(args.save_boundaries, "--save-boundaries")
    table = load_results(args.results, on_error="warn")  # a damaged file is named and skipped, as ELEx does
    if not (table["task"] == task).any():
        raise UserInputError(f"no {task} runs in {', '.join(args.results)} ({len(table)} runs of other tasks)")
    check_reference(table, task, args.reference)
    rated = rate_results(table, task, args.reference, boundaries=boundaries, weights=weights, mode=mode,
                         missing_reference="drop")
    if args.save_boundaries:
        try:
            save_boundaries(rated.attrs["boundaries"], args.save_boundaries, task=task)
        except OSError as exc:
            raise UserInputError(f"--save-boundaries {args.save_boundaries!r}: cannot write ({exc.strerror or exc})") from exc
        log.info("wrote boundaries to %s", args.save_boundaries)
    rated = rated.sort_values(["environment", "dataset", "compound_rating", "model"], kind="stable")
    if args.json:
        print(json.dumps(to_records(rated, task), indent=1))
    else:
        print(format_table(rated, task))
    return 0


def _check_file_to_write(path: str, option: str) -> None:
    target = Path(path)
    if target.is_dir():
        raise UserInputError(f"{option} {path!r} is a folder; pass a file name, e.g. {str(target / 'boundaries.json')!r}")
    if not target.parent.is_dir():
        raise UserInputError(f"{option} {path!r}: the folder {str(target.parent)!r} does not exist")


def check_reference(table, task: str, reference: str) -> None:
    """No environment with the reference is an error; some without it is a note on stderr (they are left out)."""
    from mlel.ratings.core import references_by_group

    groups = references_by_group(table, task)
    lacking = {key: models for key, models in groups.items() if reference not in models}
    if len(lacking) == len(groups):
        models = sorted({m for ms in groups.values() for m in ms})
        shown = ", ".join(models[:25]) + (f", ... ({len(models)} models)" if len(models) > 25 else "")
        raise UserInputError(f"reference model {reference!r} has no {task} run in any environment; models there: {shown}")
    for (env, dataset), models in lacking.items():
        shown = ", ".join(models[:12]) + (f", ... ({len(models)} models)" if len(models) > 12 else "")
        print(f"{PROG}: note: {env!r} ({dataset}) has no {task} run of {reference!r}, not rated; "
              f"references there: {shown}", file=sys.stderr)
    for (env, dataset), models in groups.items():
        if models == [reference]:
            print(f"{PROG}: note: {env!r} ({dataset}) has only runs of the reference {reference!r}: "
                  "its ratings compare it with itself and say nothing", file=sys.stderr)


def to_records(rated, task: str) -> list[dict]:
    specs = metric_specs(task)
    records = []
    for row in rated.to_dict("records"):
        records.append({
            "environment": row["environment"], "model": row["model"], "dataset": row["dataset"],
            "run_id": row["run_id"], "reference": row["reference_model"],
            "energy_provenance": row["energy_provenance"], "energy_provenance_text": row["energy_provenance_text"],
            "metrics": {s.name: {"value": _clean(row[s.column]), "index": _clean(row[f"{s.name}_index"]),
                                 "rating": int(row[f"{s.name}_rating"]),
                                 "rating_letter": RATING_LETTERS[int(row[f"{s.name}_rating"])]} for s in specs},
            "compound_rating": int(row["compound_rating"]),
            "compound_rating_letter": row["compound_rating_letter"],
        })
    return records


def format_table(rated, task: str) -> str:
    specs = metric_specs(task)
    lines = [f"task {task}, mode {rated.attrs['mode']!r}; each metric: value / index / rating"]
    header = ["model", *[f"{s.label} [{s.unit}]" if s.unit else s.label for s in specs], "compound"]
    for (env, dataset), group in rated.groupby(["environment", "dataset"], sort=True):
        rows = []
        for row in group.to_dict("records"):
            cells = [row["model"] + (" (ref)" if row["model"] == row["reference_model"] else "")]
            for s in specs:
                cells.append(f"{_fmt(row[s.column])} / {row[f'{s.name}_index']:.2f} / {RATING_LETTERS[int(row[f'{s.name}_rating'])]}")
            cells.append(row["compound_rating_letter"])
            rows.append(cells)
        widths = [max(len(str(c)) for c in column) for column in zip(header, *rows)]
        lines.append("")
        how = "; ".join(sorted(set(group["energy_provenance_text"].astype(str)) - {""})) or "provenance unknown"
        lines.append(f"{env} ({dataset}): {len(group)} runs; energy {how}")
        lines.append("  ".join(h.ljust(w) for h, w in zip(header, widths)))
        lines.extend("  ".join(str(c).ljust(w) for c, w in zip(cells, widths)) for cells in rows)
    return "\n".join(lines)


def _fmt(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.4g}"


def _clean(value):
    value = float(value)
    return value if math.isfinite(value) else None


def run(argv: Sequence[str] | None = None) -> int:
    return run_main(main, argv, prog=PROG)
