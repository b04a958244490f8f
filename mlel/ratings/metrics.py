"""What is rated: the metric set per task, each metric's direction, unit and display label, and the
rating scale's letters and colours (shared by the labels and ELEx)."""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from mlel.errors import UserInputError

TASKS = ("infer", "train")
_TASK_ALIASES = {"infer": "infer", "inference": "infer", "train": "train", "training": "train"}

RATING_LETTERS: tuple[str, ...] = ("A", "B", "C", "D", "E")
"""Rating 0 is A (best) ... 4 is E (worst)."""
N_RATINGS = len(RATING_LETTERS)
WORST_RATING = N_RATINGS - 1
RATING_COLOURS: MappingProxyType = MappingProxyType({
    "A": "#639B30", "B": "#B8AC2B", "C": "#F8B830", "D": "#EF7D29", "E": "#E52421",
})
"""The EU energy label's green-to-red scale, as in the MLEE paper."""


MLEE_REFERENCE_MODEL = "ResNet101"  # the reference of the MLEE paper (ImageNet): the default wherever it ran

MODES: tuple[str, ...] = ("optimistic median", "pessimistic median", "optimistic mean", "pessimistic mean", "best", "worst")
"""How a run's per-metric ratings combine into its compound rating (``mlel.ratings.core.compound_rating``)."""
DEFAULT_MODE = "optimistic median"


@dataclass(frozen=True)
class MetricSpec:
    name: str                 # metric name used in weights / boundaries files and in <name>_index, <name>_rating
    column: str               # results-table column holding the value
    unit: str                 # unit of the column's values
    higher_is_better: bool
    label: str                # short display label

    @property
    def direction(self) -> str:
        return "higher" if self.higher_is_better else "lower"


_ACCURACY = MetricSpec("accuracy", "accuracy", "", True, "Accuracy")
_PARAMETERS = MetricSpec("parameters", "parameters", "", False, "Parameters")
_SIZE = MetricSpec("model_size_bytes", "model_size_bytes", "B", False, "Model size")

TASK_METRICS: MappingProxyType = MappingProxyType({
    "infer": (
        MetricSpec("energy_per_sample_j", "energy_per_sample_j", "J", False, "Energy per sample"),
        MetricSpec("time_per_sample_s", "time_per_sample_s", "s", False, "Time per sample"),
        _ACCURACY, _PARAMETERS, _SIZE,
    ),
    "train": (
        MetricSpec("energy_j", "energy_j", "J", False, "Training energy"),
        MetricSpec("time_s", "time_s", "s", False, "Training time"),
        _ACCURACY, _PARAMETERS, _SIZE,
    ),
})

DEFAULT_WEIGHTS: MappingProxyType = MappingProxyType({
    # MLEE's weighting.json, mapped onto our metric names (its power draw 0.7, time 0.3, top-1 0.8,
    # parameters 0.4, file size 0.4): energy and quality count most.
    "infer": MappingProxyType({"energy_per_sample_j": 0.7, "time_per_sample_s": 0.3, "accuracy": 0.8,
                               "parameters": 0.4, "model_size_bytes": 0.4}),
    "train": MappingProxyType({"energy_j": 0.7, "time_s": 0.3, "accuracy": 0.8,
                               "parameters": 0.4, "model_size_bytes": 0.4}),
})


MLEE_METRIC_NAMES: MappingProxyType = MappingProxyType({
    # MLEE's boundaries.json names -> ours, per task. MLEE also rated FLOPs, top-5 accuracy and
    # per-epoch training figures; we have no such columns, so those entries are not read.
    "infer": MappingProxyType({"inference_power_draw": "energy_per_sample_j", "inference_time": "time_per_sample_s",
                               "top1_val": "accuracy", "parameters": "parameters", "fsize": "model_size_bytes"}),
    "train": MappingProxyType({"train_power_draw": "energy_j", "train_time": "time_s",
                               "top1_val": "accuracy", "parameters": "parameters", "fsize": "model_size_bytes"}),
})


def normalise_task(task: str) -> str:
    """``"inference"``/``"infer"`` -> ``"infer"``, ``"training"``/``"train"`` -> ``"train"``."""
    key = str(task).strip().lower()
    if key not in _TASK_ALIASES:
        raise UserInputError(f"The 'task' parameter must be one of {', '.join(repr(t) for t in _TASK_ALIASES)}; got {task!r}")
    return _TASK_ALIASES[key]


def metric_specs(task: str) -> tuple[MetricSpec, ...]:
    return TASK_METRICS[normalise_task(task)]


def metric_spec(task: str, name: str) -> MetricSpec:
    for spec in metric_specs(task):
        if spec.name == name:
            return spec
    names = [s.name for s in metric_specs(task)]
    raise UserInputError(f"The 'metric' parameter must be one of {', '.join(map(repr, names))}; got {name!r}")


def rating_letter(rating) -> str:
    """0 -> "A" ... 4 -> "E"; anything else is a ``UserInputError``."""
    try:
        value = int(rating)
    except (TypeError, ValueError) as exc:
        raise UserInputError(f"a rating is an integer 0 (A) to 4 (E); got {rating!r}") from exc
    if value != rating or not 0 <= value < N_RATINGS:
        raise UserInputError(f"a rating is an integer 0 (A) to 4 (E); got {rating!r}")
    return RATING_LETTERS[value]


def rating_colour(rating) -> str:
    return RATING_COLOURS[rating_letter(rating)]
