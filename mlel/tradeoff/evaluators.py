"""What one evaluation of the search costs and yields, and who runs it.

An ``Evaluator`` turns a ``Candidate`` into an ``Evaluation`` (utility to maximise, energy in
joules to minimise, time, and how the energy was obtained). ``ExperimentEvaluator`` runs a real,
measured experiment through ``mlel.experiments`` and so leaves an experiment folder that
``merge_results.py`` merges; ``BraninCurrinEvaluator`` is a cheap synthetic stand-in for tests.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from mlel.measurement.provenance import Provenance
from mlel.tradeoff.space import Candidate, Family, Hyperparameter, SearchSpace

log = logging.getLogger(__name__)

OBJECTIVES = {"accuracy": "accuracy", "f1": "f1_weighted"}  # --objective -> results.json metric
ENERGY_MODES = ("train", "infer", "train+infer")
DEFAULT_PREDICTIONS = 1_000_000  # train+infer: training plus this many predictions
DEFAULT_TRAIN_MIN_DURATION_S = 0.5  # fits shorter than this are repeated in one window (one fit's share reported)
DEFAULT_INFER_MIN_DURATION_S = 0.5  # infer modes: the inference run predicts the test split at least this long


@dataclass(frozen=True)
class Evaluation:
    """The outcome of one evaluated configuration."""

    utility: float  # the objective to maximise (accuracy or weighted F1), on the split the search chooses on
    energy_j: float  # the energy objective to minimise (see ``ExperimentEvaluator`` for what it covers)
    time_s: float
    provenance: Provenance
    provenance_text: str
    folders: tuple[str, ...] = ()  # experiment folders this evaluation wrote
    metrics: dict = field(default_factory=dict)
    spent_energy_j: float | None = None  # what running it cost (>= energy_j for infer, which extrapolates)
    test_utility: float | None = None  # the same objective on the test split, when ``utility`` is a validation figure

    def to_dict(self) -> dict:
        return {
            "utility": self.utility,
            "energy_j": self.energy_j,
            "time_s": self.time_s,
            "provenance": self.provenance.value,
            "provenance_text": self.provenance_text,
            "folders": list(self.folders),
            "metrics": dict(self.metrics),
            "spent_energy_j": self.spent_energy_j if self.spent_energy_j is not None else self.energy_j,
            "test_utility": self.test_utility,
        }


class Evaluator(Protocol):
    """Runs one configuration. ``index`` is the evaluation's number in the search (for seeds and names)."""

    def __call__(self, candidate: Candidate, index: int) -> Evaluation: ...


# -- synthetic ------------------------------------------------------------------------------

BRANIN_CURRIN_FAMILY = Family("branin_currin", (Hyperparameter("x0", 0.0, 1.0), Hyperparameter("x1", 0.0, 1.0)))
# BoTorch's documented reference point for BraninCurrin (both minimised): (18, 6) ->
# utility = -Branin >= -18, energy_j = Currin <= 6.
BRANIN_CURRIN_REFERENCE = (-18.0, 6.0)


def branin_currin_space() -> SearchSpace:
    return SearchSpace([BRANIN_CURRIN_FAMILY])


class BraninCurrinEvaluator:
    """BoTorch's BraninCurrin as a search problem: utility = -Branin, "energy" = Currin (> 0).

    Deterministic and takes milliseconds, so the optimiser can be tested against random search.
    """

    def __init__(self):
        from botorch.test_functions.multi_objective import BraninCurrin

        self._problem = BraninCurrin()

    def __call__(self, candidate: Candidate, index: int) -> Evaluation:
        import torch

        x = torch.tensor([[float(candidate.values["x0"]), float(candidate.values["x1"])]], dtype=torch.double)
        branin, currin = self._problem(x)[0].tolist()
        return Evaluation(
            utility=-branin,
            energy_j=currin,
            time_s=0.0,
            provenance=Provenance.ESTIMATE,
            provenance_text="synthetic (BraninCurrin)",
            metrics={"branin": branin, "currin": currin},
        )


# -- real, measured runs --------------------------------------------------------------------


@dataclass(frozen=True)
class ExperimentSettings:
    """Everything about an evaluation that the search does not vary."""

    dataset: str
    output_dir: Path  # experiment folders go here
    search_id: str
    objective: str = "accuracy"
    energy: str = "train"
    seed: int = 0
    target: str | None = None
    threads: int | None = 1
    monitor_interval_s: float = 0.1
    predictions: int = DEFAULT_PREDICTIONS
    train_min_duration_s: float = DEFAULT_TRAIN_MIN_DURATION_S
    infer_min_duration_s: float = DEFAULT_INFER_MIN_DURATION_S
    n_samples: int = 1000  # synthetic data set only: rows
    n_features: int = 20  # synthetic data set only: features
    validation_size: float = 0.0  # > 0: choose on a validation part of the training split, report the test split too


class ExperimentEvaluator:
    """Each call is one real, measured training run (plus an inference run for ``infer`` energy).

    The energy objective by ``energy`` mode:

    * ``train``: the training run's energy (J); a fit shorter than ``train_min_duration_s`` is
      repeated in one measurement window and one fit's share counts (a sub-millisecond k-NN "fit"
      measured once is mostly the noise of the window's edges, and a search would chase that noise);
    * ``infer``: energy per prediction (J) of the inference run on the held-out split;
    * ``train+infer``: training energy + ``predictions`` x energy per prediction, i.e. the cost of
      training a model and then serving it for that many predictions.

    The utility is the objective on the held-out test split or, with ``validation_size``, on that
    fraction of the training split, held out before fitting; the test split's figure is then
    ``test_utility``, which the search never sees: a front chosen on the test split flatters itself
    (among many configurations of similar quality, the best test score is partly luck).

    Every run gets ``{"search_id", "search_index", "search_energy", "search_predictions",
    "search_objective"}`` in its ``config.json``, so merged results can be grouped by search and an
    evaluation's energy objective and utility rebuilt from its runs (ELEx's search view does).
    """

    def __init__(self, settings: ExperimentSettings):
        if settings.objective not in OBJECTIVES:
            raise ValueError(f"unknown objective {settings.objective!r}")
        if settings.energy not in ENERGY_MODES:
            raise ValueError(f"unknown energy mode {settings.energy!r}")
        self.settings = settings
        self._space: SearchSpace | None = None

    def bind(self, space: SearchSpace) -> "ExperimentEvaluator":
        self._space = space
        return self

    def __call__(self, candidate: Candidate, index: int) -> Evaluation:
        from mlel.experiments.train import TrainConfig, run_training

        s = self.settings
        space = self._space or SearchSpace.from_models([candidate.model])
        extra = {"search_id": s.search_id, "search_index": index, "search_energy": s.energy,
                 "search_predictions": s.predictions if s.energy == "train+infer" else None,
                 "search_objective": OBJECTIVES[s.objective]}
        train_cfg = TrainConfig(
            model=candidate.model,
            dataset=s.dataset,
            backend="sklearn",
            device="cpu",
            params=candidate.params(space),
            seed=s.seed,
            threads=s.threads,
            monitor_interval_s=s.monitor_interval_s,
            min_duration_s=s.train_min_duration_s,
            output_dir=Path(s.output_dir),
            target=s.target,
            n_samples=s.n_samples,
            n_features=s.n_features,
            validation_size=s.validation_size,
            extra_config=extra,
            progress=False,
        )
        train = run_training(train_cfg)
        tr = train.results
        metrics = dict(tr["metrics"])
        test_utility = float(metrics[OBJECTIVES[s.objective]])
        utility = float(tr["validation"]["metrics"][OBJECTIVES[s.objective]]) if s.validation_size else test_utility
        train_energy = tr["energy"]
        train_e = float(train_energy["total_j"])
        train_t = float(tr["durations_s"].get("measured") or tr["durations_s"]["total"])
        train_spent = float((tr.get("fits") or {}).get("window_energy_j") or train_e)  # all repeated fits
        folders = [str(train.folder)]
        provenances = [train_energy["provenance"]]
        texts = [train_energy.get("provenance_text", "")]
        if s.energy == "train":
            energy_j, time_s, spent = train_e, train_t, train_spent
        else:
            from mlel.experiments.infer import InferConfig, run_inference

            infer = run_inference(_infer_config(InferConfig, train.folder, s, extra))
            ir = infer.results
            folders.append(str(infer.folder))
            provenances.append(ir["energy"]["provenance"])
            texts.append(ir["energy"].get("provenance_text", ""))
            per_e = float(ir["per_sample"]["energy_j"])
            per_t = float(ir["per_sample"]["time_s"])
            spent = train_spent + float(ir["energy"]["total_j"])
            if s.energy == "infer":
                energy_j, time_s = per_e, per_t
            else:
                energy_j = train_e + s.predictions * per_e
                time_s = train_t + s.predictions * per_t
        provenance = Provenance.weakest(provenances)
        text = texts[0] if len(set(texts)) == 1 else "; ".join(dict.fromkeys(t for t in texts if t))
        if not (math.isfinite(energy_j) and energy_j > 0):
            log.warning("evaluation %d: energy %r is not positive; kept, but it cannot be on a log scale", index, energy_j)
        return Evaluation(utility, energy_j, time_s, provenance, text, tuple(folders), metrics, spent,
                          test_utility if s.validation_size else None)


def _infer_config(InferConfig, train_folder, s: ExperimentSettings, extra: dict):
    """Build the inference config from the fields this version of ``InferConfig`` has."""
    import dataclasses

    wanted = {
        "train_folder": Path(train_folder),
        "model_folder": Path(train_folder),
        "output_dir": Path(s.output_dir),
        "backend": "sklearn",
        "device": "cpu",
        "threads": s.threads,
        "monitor_interval_s": s.monitor_interval_s,
        "min_duration_s": s.infer_min_duration_s,
        "extra_config": extra,
        "progress": False,
        "seed": s.seed,
    }
    names = {f.name for f in dataclasses.fields(InferConfig)}
    return InferConfig(**{k: v for k, v in wanted.items() if k in names})
