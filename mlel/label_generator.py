"""``python -m mlel.label_generator``: draw the energy label of one run (PDF, PNG or SVG).

    python -m mlel.label_generator -f results/<file>.json [-o label.pdf] [--format pdf|png|svg]
    python -m mlel.label_generator --task inference --model ResNet101 \\
        --environment "A100-SXM4-40GB x8 - TensorFlow 2.8.0" -d ../shared/reference/mlee-imagenet-results -o label.pdf

The run is rated among the runs of the same task in ``-d`` (default for ``-f``: the file's folder).
"""

from __future__ import annotations

import logging
from typing import Sequence

from mlel.cli import ArgumentParser, run_main, setup_logging

log = logging.getLogger(__name__)
PROG = "python -m mlel.label_generator"


def build_parser() -> ArgumentParser:
    from mlel.labels.data import FILE_PNG_DPI, FORMATS
    from mlel.ratings import DEFAULT_MODE, MODES

    p = ArgumentParser(prog=PROG, description="Draw the energy label of one run (EU-energy-label style).")
    which = p.add_argument_group("which run")
    which.add_argument("-f", "--file", metavar="FILE", help="one results file (merged mlel JSON or MLEE log)")
    which.add_argument("-d", "--results", nargs="+", metavar="PATH",
                       help="results files and folders to search (with -f: the runs to rate it among; default: its folder)")
    which.add_argument("--task", help="inference (infer) or training (train)")
    which.add_argument("--model", help="model name, e.g. ResNet101")
    which.add_argument("--environment", help='e.g. "A100-SXM4-40GB x8 - TensorFlow 2.8.0" (needed when the model ran in several)')
    which.add_argument("--dataset", help="data set, when the model ran on several in that environment")
    rating = p.add_argument_group("rating (as in python -m mlel.ratings)")
    rating.add_argument("--reference", help="reference model in the same environment (default: ResNet101 where it ran, "
                        "else the model there that ran in the most environments and data sets)")
    rating.add_argument("--rating-mode", "--mode", dest="rating_mode", default=DEFAULT_MODE, help=f"compound rating mode: {', '.join(MODES)} (default: {DEFAULT_MODE})")
    rating.add_argument("--boundaries", metavar="FILE", help="rating boundaries JSON (default: 80/60/40/20 %% quantiles of the rated runs)")
    rating.add_argument("--weights", metavar="FILE", help="metric weights JSON, merged over the defaults")
    out = p.add_argument_group("output")
    out.add_argument("-o", "--output", metavar="FILE", help="label file (default: label_<task>_<model>_<environment>.<format>)")
    out.add_argument("--format", help=f"{', '.join(FORMATS)} (default: the -o suffix, else pdf)")
    out.add_argument("--dpi", type=int, default=FILE_PNG_DPI,
                     help=f"PNG resolution (default: {FILE_PNG_DPI}, at which the QR code scans)")
    out.add_argument("--link", help="URL for the QR code and the footer; may use {run_id}, {model}, {task}, {environment}")
    p.add_argument("-v", "--verbose", action="store_true")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # before the heavy imports: --help and usage errors stay quick
    setup_logging(args.verbose)

    from mlel.errors import UserInputError
    from mlel.labels.draw import render_label
    from mlel.labels.generate import (
        RatingOptions, default_output_name, generate_label, output_format, write_atomically,
    )
    from mlel.ratings import load_boundaries, load_weights, normalise_mode, normalise_task

    if args.file is None and (args.task is None or args.model is None or not args.results):
        parser.error("name a results file with -f FILE, or give --task, --model and -d PATH")
    if args.dpi < 20 or args.dpi > 1200:
        raise UserInputError(f"--dpi must be between 20 and 1200; got {args.dpi}")
    fmt = output_format(args.output, args.format)  # before any work: a bad name fails fast
    mode = normalise_mode(args.rating_mode)
    task_for_files = normalise_task(args.task) if args.task else None
    options = RatingOptions(reference=args.reference, mode=mode)
    if args.boundaries or args.weights:
        if task_for_files is None:  # -f without --task: the file says which task the files are for
            from mlel.results import load_results

            task_for_files = str(load_results([args.file]).iloc[0]["task"])
        options = RatingOptions(
            reference=args.reference, mode=mode,
            boundaries=load_boundaries(args.boundaries, task_for_files) if args.boundaries else None,
            weights=load_weights(args.weights, task_for_files) if args.weights else None,
        )
    label = generate_label(
        file=args.file, results=args.results, task=args.task, model=args.model,
        environment=args.environment, dataset=args.dataset, options=options, link=args.link,
    )
    output = args.output or default_output_name(label, fmt)
    write_atomically(output, render_label(label, fmt, dpi=args.dpi))
    log.info("wrote the %s label of %s (%s, %s): compound rating %s -> %s",
             label.task_name.lower(), label.model, label.environment, label.energy_provenance_text, label.compound_letter, output)
    return 0


def run(argv: Sequence[str] | None = None) -> int:
    return run_main(main, argv, prog=PROG)


if __name__ == "__main__":
    raise SystemExit(run())
