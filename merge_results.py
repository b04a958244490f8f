#!/usr/bin/env python
"""Merge experiment folders into one results JSON per experiment (docs/results-schema.md).

    python merge_results.py runs/ [more dirs...] --output-dir results/ [--archive-dir archives/] [--strict]
"""

from __future__ import annotations

import sys
from typing import Sequence

from mlel.cli import ArgumentParser, folder_path, run_main, setup_logging


def main(argv: Sequence[str] | None = None) -> int:
    parser = ArgumentParser(prog="merge_results.py", description=__doc__.strip().splitlines()[0])
    parser.add_argument("inputs", nargs="+", metavar="DIR", help="folders holding experiment folders (searched recursively)")
    parser.add_argument("--output-dir", required=True, type=folder_path, help="where the merged JSON files go (created if needed)")
    parser.add_argument("--archive-dir", type=folder_path, help="also pack each good experiment folder as <name>.tar.gz here")
    parser.add_argument("--strict", action="store_true", help="exit 1 when any folder was skipped")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    setup_logging(args.verbose)
    from mlel.results.merge import merge_experiments  # after parsing: --help and usage errors stay quick
    from mlel.results.report import print_report

    report = merge_experiments(args.inputs, args.output_dir, archive_dir=args.archive_dir)
    print_report(report, args.output_dir, args.archive_dir)
    return 1 if (args.strict and report.skipped) else 0


if __name__ == "__main__":
    sys.exit(run_main(main, prog="merge_results.py"))
