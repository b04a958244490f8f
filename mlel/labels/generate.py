"""From results files to label files: load the table, pick the run, rate it among its neighbours, write.

Used by ``python -m mlel.label_generator``; the dashboard skips this and calls
``label_data_from_row`` / ``render_label`` on rows it has already rated.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import pandas as pd

from mlel.errors import UserInputError
from mlel.labels.data import FORMATS, LabelData, describe_rating, label_data_from_row
from mlel.ratings.metrics import MLEE_REFERENCE_MODEL

log = logging.getLogger(__name__)

DEFAULT_FORMAT = "pdf"
LABEL_FILE_MODE = 0o644


@dataclass(frozen=True)
class RatingOptions:
    """How to rate: as ``mlel.ratings.rate_results`` takes it. ``reference=None``: see ``choose_reference``."""

    reference: str | None = None
    mode: str | None = None
    boundaries: Mapping | None = None
    weights: Mapping | None = None

    def describe(self) -> str:
        """What differs from the default rating, for the label: "" when nothing does."""
        return describe_rating(self.mode, bool(self.boundaries), bool(self.weights))


def output_format(output: str | os.PathLike | None, fmt: str | None) -> str:
    """``fmt`` when given, else the output file's suffix, else PDF."""
    if fmt:
        fmt = fmt.lower().lstrip(".")
        if fmt not in FORMATS:
            raise UserInputError(f"The '--format' parameter must be one of {', '.join(map(repr, FORMATS))}; got {fmt!r}")
        return fmt
    if output is None:
        return DEFAULT_FORMAT
    suffix = Path(output).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise UserInputError(
            f"cannot tell the format from the output name {str(output)!r}: end it in "
            f"{', '.join('.' + f for f in FORMATS)} or pass --format"
        )
    return suffix


def default_output_name(label: LabelData, fmt: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9.+-]+", "_", f"label_{label.task}_{label.model}_{label.environment}").strip("_")
    return f"{stem}.{fmt}"


def select_run(
    table: pd.DataFrame,
    task: str,
    model: str,
    environment: str | None = None,
    dataset: str | None = None,
) -> pd.Series:
    """The run of ``model`` doing ``task`` in ``environment`` (and ``dataset``); the most recent one if repeated.

    Anything that does not match is a ``UserInputError`` that lists what does exist.
    """
    runs = table[table["task"] == task]
    if runs.empty:
        tasks = sorted(set(table["task"])) or ["none"]
        raise UserInputError(f"no {task} runs in these results (tasks there: {', '.join(tasks)})")
    if dataset is not None:
        if dataset not in set(runs["dataset"]):
            raise UserInputError(_choices("data set", dataset, runs["dataset"], task))
        runs = runs[runs["dataset"] == dataset]
    if environment is not None:
        if environment not in set(runs["environment"]):
            everywhere = table[(table["task"] == task) & (table["environment"] == environment)]
            if dataset is not None and not everywhere.empty:  # the environment exists: the data set is what is off
                raise UserInputError(_choices("data set", dataset, everywhere["dataset"], task, f" in {environment!r}"))
            raise UserInputError(_choices("environment", environment, runs["environment"], task))
        runs = runs[runs["environment"] == environment]
    if model not in set(runs["model"]):
        where = f" in {environment!r}" if environment else ""
        raise UserInputError(_choices("model", model, runs["model"], task, where))
    runs = runs[runs["model"] == model]
    groups = sorted(set(zip(runs["environment"], runs["dataset"])))
    if len(groups) > 1:
        listed = "; ".join(f"{env!r} ({ds})" for env, ds in groups)
        raise UserInputError(f"{model!r} ran {task} in several environments, pick one with --environment (and --dataset): {listed}")
    runs = runs.sort_values("date", kind="stable")
    if "search_id" in runs:
        # a trade-off search's evaluations are other configurations of the model, not repeats of it:
        # label a run of its own where there is one (-f FILE names any run exactly)
        own = runs[runs["search_id"].fillna("").astype(str) == ""]
        if not own.empty and len(own) < len(runs):
            log.info("leaving out %d runs of %s from trade-off searches (other configurations; -f labels one of them)",
                     len(runs) - len(own), model)
            runs = own
    chosen = runs.iloc[-1]
    if len(runs) > 1:
        log.info("%d %s runs of %s in %r: labelling the most recent (%s, %s)", len(runs), task, model, groups[0][0],
                 chosen["date"], chosen.get("run_id", ""))
    return chosen


def _choices(what: str, got: str, values, task: str, where: str = "") -> str:
    names = sorted(set(str(v) for v in values))
    shown = ", ".join(repr(n) for n in names[:40]) + (f", ... ({len(names)} in all)" if len(names) > 40 else "")
    return f"no {task} run with {what} {got!r}{where}; {what}s there: {shown}"


def choose_reference(table: pd.DataFrame, task: str, run: pd.Series, reference: str | None) -> str:
    """The reference model for ``run``'s environment and data set.

    Given: it must have run there (else the error lists the models that did). Not given: MLEE's
    ResNet101 where it ran, else of the models that ran there the one that ran ``task`` in the most
    (environment, data set) groups of the table (ties: alphabetical), as ELEx chooses: a common
    yardstick, so labels of one environment compare with each other (with only the labelled model
    there, that model itself, and the label says so).
    """
    same = table[(table["task"] == task) & (table["environment"] == run["environment"]) & (table["dataset"] == run["dataset"])]
    models = sorted(set(same["model"]))
    if reference is not None:
        if reference not in models:
            raise UserInputError(
                f"reference model {reference!r} has no {task} run in {run['environment']!r} ({run['dataset']}); "
                f"models there: {', '.join(map(repr, models))}"
            )
        return reference
    from mlel.ratings import most_widespread_model

    if MLEE_REFERENCE_MODEL in models:
        return MLEE_REFERENCE_MODEL
    return most_widespread_model(table, task, among=models) or str(run["model"])


def rate_run(table: pd.DataFrame, run: pd.Series, options: RatingOptions) -> pd.Series:
    """Rate every run of ``run``'s task that has the reference in its environment; return ``run``'s rated row.

    Boundaries (when not given) come from all of those runs, as in MLEE.
    """
    from mlel.ratings import DEFAULT_MODE, rate_results, rated_alone

    task = str(run["task"])
    reference = choose_reference(table, task, run, options.reference)
    alone = rated_alone(table, task, run["environment"], run["dataset"], reference)
    if alone:
        log.warning("%s is the only model with %s runs in %r (%s): rated against itself, its ratings say nothing; "
                    "add runs of other models in that environment (-d FOLDER)", reference, task, run["environment"],
                    run["dataset"])
    by_environment = {}
    for (env, dataset), models in table[table["task"] == task].groupby(["environment", "dataset"])["model"]:
        if reference in set(models):
            by_environment[env] = reference
    by_environment[run["environment"]] = reference
    rated = rate_results(
        table, task, by_environment, boundaries=options.boundaries, weights=options.weights,
        mode=options.mode or DEFAULT_MODE, missing_reference="drop",
    )
    match = rated[rated["run_id"] == run["run_id"]]
    if match.empty:  # pragma: no cover - the reference is set for the run's environment above
        raise UserInputError(f"run {run['run_id']!r} could not be rated against {reference!r}")
    row = match.iloc[0].copy()
    row["rated_alone"] = alone  # the label says so: its letters compare the model with itself
    return row


def load_table(paths: Sequence[str | os.PathLike]) -> pd.DataFrame:
    from mlel.results import load_results

    table = load_results(list(paths), on_error="warn")
    if table.empty:
        raise UserInputError(f"no results in {', '.join(map(str, paths))} (neither mlel results files nor MLEE logs)")
    return table


def run_from_file(file: str | os.PathLike, context: Sequence[str | os.PathLike] | None) -> tuple[pd.Series, pd.DataFrame]:
    """The run in ``file`` and the table it is rated in: ``context`` (default: the file's folder) plus the file."""
    from mlel.results import load_results

    path = Path(file)
    if path.is_dir():
        raise UserInputError(f"-f takes one results file; {str(path)!r} is a folder (use -d for folders)")
    own = load_results([path])  # a missing, unreadable or foreign file is refused here, with its name
    run = own.iloc[0]
    table = load_table(context or [path.parent])
    if not (table["run_id"] == run["run_id"]).any():
        table = pd.concat([table, own], ignore_index=True)
    return run, table


def write_atomically(path: str | os.PathLike, data: bytes) -> None:
    """Write to a temporary file beside ``path``, then rename: never a half-written or empty label."""
    from mlel.results.schema import atomic_write_bytes

    target = Path(path)
    if target.is_dir():
        raise UserInputError(f"cannot write the label to {str(target)!r}: it is a folder")
    try:
        atomic_write_bytes(target, data)
        os.chmod(target, LABEL_FILE_MODE)  # the temporary file was private (mkstemp: 0600); a label is a document
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise UserInputError(f"cannot write the label to {str(target)!r}: {reason}") from exc


def generate_label(
    *,
    file: str | os.PathLike | None = None,
    results: Sequence[str | os.PathLike] | None = None,
    task: str | None = None,
    model: str | None = None,
    environment: str | None = None,
    dataset: str | None = None,
    options: RatingOptions = RatingOptions(),
    link: str | None = None,
) -> LabelData:
    """The label data for one run: ``file`` (one results file), or ``task`` + ``model`` (+ ``environment``) in ``results``."""
    from mlel.ratings import normalise_task

    if file is not None:
        run, table = run_from_file(file, results)
        if task is not None and normalise_task(task) != run["task"]:
            raise UserInputError(f"{file} holds a {run['task']} run, not {normalise_task(task)}")
        for what, wanted in (("model", model), ("environment", environment), ("dataset", dataset)):
            if wanted is not None and wanted != run[what]:
                raise UserInputError(f"{file} holds a run of {what} {run[what]!r}, not {wanted!r} (-f needs no --{what})")
    else:
        if task is None or model is None or not results:
            raise UserInputError("name a results file with -f, or --task, --model and -d with the results to search")
        task = normalise_task(task)
        table = load_table(results)
        run = select_run(table, task, model, environment, dataset)
    row = rate_run(table, run, options)
    return label_data_from_row(row, link=link, rating_settings=options.describe())
