"""The search loop: propose, evaluate, record, repeat; resumable and safe to interrupt.

Files in the output directory (schema ``mlel.tradeoff/1``, documented in ``docs/tradeoff.md``):

* ``search.json``: the settings, the search id and the reference point (written first, updated when
  the reference point is fixed);
* ``evaluations.jsonl``: one line per finished evaluation, appended and flushed as soon as it ends,
  so Ctrl-C or a kill keeps every finished one (a truncated last line is ignored on resume);
* ``front.json``: the Pareto front so far, the hypervolume after each evaluation and the energy the
  search itself spent; rewritten atomically after each evaluation;
* ``hypervolume.csv``, ``front.png``, ``hypervolume.png``.

Hypervolume is measured in the (utility, log10 energy) plane against the reference point: units
"utility x decades of energy". The reference point is the user's (``reference=``) or, by default,
fixed once after the initial design: the worst utility and the highest energy of the first
``init`` evaluations, moved outwards by 10 % of their range (at least 0.01 utility and 0.1 decade).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import math
import os
import signal
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np

from mlel.errors import MlelError, RunInterrupted, UserInputError
from mlel.experiments.folder import signals_ignored, signals_interrupt
from mlel.measurement.provenance import Provenance
from mlel.pareto import hypervolume_2d, pareto_mask
from mlel.tradeoff.evaluators import Evaluation, Evaluator
from mlel.tradeoff.methods import ENERGY_FLOOR_J, BoProposer, Observation, make_proposer, model_objectives
from mlel.tradeoff.space import Candidate, SearchSpace

log = logging.getLogger(__name__)

SCHEMA = "mlel.tradeoff/1"
SEARCH_FILE, EVALUATIONS_FILE, FRONT_FILE, HV_FILE = "search.json", "evaluations.jsonl", "front.json", "hypervolume.csv"
# settings a resumed search must share with the one it continues (the budget may grow)
# what must match to continue a search: anything that changes what an evaluation measures
RESUME_KEYS = ("method", "init", "seed", "models", "dataset", "objective", "energy", "validation_size",
               "target", "predictions", "n_samples", "n_features", "threads", "train_min_duration_s",
               "infer_min_duration_s")
RESUME_DEFAULTS = {"validation_size": 0.0}  # what a search.json written before the key existed meant


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat()


def _write_text_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _write_json_atomic(path: Path, data) -> None:
    _write_text_atomic(path, json.dumps(data, indent=2, default=str))


def default_reference(utilities: Sequence[float], energies_j: Sequence[float]) -> tuple[float, float]:
    """The default reference point (utility, energy_j) from the initial design; see the module docstring."""
    u = np.asarray(utilities, dtype=float)
    le = np.log10(np.maximum(np.asarray(energies_j, dtype=float), ENERGY_FLOOR_J))
    u_margin = max(0.01, 0.1 * float(u.max() - u.min()))
    e_margin = max(0.1, 0.1 * float(le.max() - le.min()))
    return float(u.min() - u_margin), float(10 ** (le.max() + e_margin))


def hypervolume(utilities, energies_j, reference: tuple[float, float]) -> float:
    """Hypervolume in the (utility, log10 energy) plane; utility maximised, energy minimised."""
    if len(utilities) == 0:
        return 0.0
    pts = np.column_stack([np.asarray(utilities, float), np.log10(np.maximum(np.asarray(energies_j, float), ENERGY_FLOOR_J))])
    ref = (reference[0], math.log10(max(reference[1], ENERGY_FLOOR_J)))
    return hypervolume_2d(pts, ref, maximize=[True, False])


def hypervolume_curve(records: Sequence[dict], reference: tuple[float, float] | None) -> list[float | None]:
    """Hypervolume after each evaluation (failed ones repeat the previous value)."""
    if reference is None:
        return [None] * len(records)
    out, us, es = [], [], []
    for r in records:
        if r["status"] == "complete":
            us.append(r["utility"])
            es.append(r["energy_j"])
        out.append(hypervolume(us, es, reference))
    return out


def chosen_front(records: Sequence[dict]) -> list[dict]:
    """The complete records that are Pareto-optimal on (``utility``, ``energy_j``): the front a search chose."""
    done = [r for r in records if r["status"] == "complete"]
    if not done:
        return []
    mask = pareto_mask([(r["utility"], r["energy_j"]) for r in done], maximize=[True, False])
    return [r for r, m in zip(done, mask) if m]


def hypervolume_on_test(records: Sequence[dict], reference: tuple[float, float],
                        energy_of: Callable[[dict], float] | None = None) -> float:
    """The hypervolume of the front chosen among ``records`` on ``utility`` (a validation figure), taken
    with each chosen point's ``test_utility`` and ``energy_of(point)`` (default: its ``energy_j``).

    ``energy_of`` scores the energy the way ``test_utility`` scores the accuracy: a point was chosen
    partly because its energy measured low, so a fresh measurement of the same configuration (what a
    user who runs it gets) is an unbiased figure where the search's own is not."""
    chosen = chosen_front(records)
    energy = energy_of or (lambda r: r["energy_j"])
    return hypervolume([r["test_utility"] for r in chosen], [energy(r) for r in chosen], reference)


def hypervolume_curve_on_test(records: Sequence[dict], reference: tuple[float, float] | None) -> list[float | None]:
    """After each evaluation, the hypervolume of the front chosen on ``utility`` (a validation figure),
    taken with each chosen point's ``test_utility``: what the front is worth on data the search never
    saw. Unlike ``hypervolume_curve`` it can fall: a new point may displace one that did better on
    the test split. None throughout when the records have no test utility (the search chose on the
    test split itself)."""
    if reference is None or not any(r.get("test_utility") is not None for r in records):
        return [None] * len(records)
    return [hypervolume_on_test(records[:i + 1], reference) for i in range(len(records))]


# -- the optimiser's own cost ----------------------------------------------------------------


@dataclass
class OverheadCost:
    time_s: float
    energy_j: float | None = None
    provenance: Provenance | None = None

    def to_dict(self) -> dict:
        return {"time_s": self.time_s, "energy_j": self.energy_j,
                "provenance": self.provenance.value if self.provenance else None}


class OverheadMeter:
    """Measures what choosing the next configuration costs. This base class times it only;
    ``SamplerOverheadMeter`` also measures its energy with the same meters as the experiments."""

    @contextlib.contextmanager
    def measure(self) -> Iterator[OverheadCost]:
        cost = OverheadCost(0.0)
        t0 = time.perf_counter()
        try:
            yield cost
        finally:
            cost.time_s = time.perf_counter() - t0

    def close(self) -> None:
        pass


class SamplerOverheadMeter(OverheadMeter):
    """The optimiser's energy from ``mlel.measurement``'s Sampler, with the meters the experiments use.

    One Sampler runs for the whole search (logging to ``log_dir``); each proposal is one window.
    """

    def __init__(self, log_dir: Path | None, interval_s: float = 0.1):
        from mlel.measurement import Sampler, discover_meters

        self._sampler = Sampler(discover_meters(device="cpu", use_gpus=False), interval_s=interval_s, log_dir=log_dir)
        self._sampler.start()

    @contextlib.contextmanager
    def measure(self) -> Iterator[OverheadCost]:
        cost = OverheadCost(0.0)
        t0 = time.perf_counter()
        with self._sampler.window() as w:
            yield cost
        cost.time_s = time.perf_counter() - t0
        m = w.result
        if m.meters:
            cost.energy_j = float(m.total_energy_j)
            cost.provenance = m.provenance

    def close(self) -> None:
        self._sampler.stop()


def make_overhead_meter(output_dir: Path, measure_energy: bool = True) -> OverheadMeter:
    if measure_energy:
        try:
            return SamplerOverheadMeter(output_dir / "optimiser-power")
        except Exception as exc:  # noqa: BLE001  # measurement code missing or no meter: time it only, and say so
            log.info("optimiser overhead is timed only (no energy): %s", exc)
    return OverheadMeter()


# -- the search ------------------------------------------------------------------------------


@dataclass
class SearchOutcome:
    output_dir: Path
    records: list[dict]
    front: list[dict]
    hypervolumes: list[float | None]
    reference: tuple[float, float] | None
    search_energy: dict
    interrupted: bool = False
    signum: int | None = None  # the signal that interrupted it (SIGINT, SIGTERM)
    meta: dict = field(default_factory=dict)
    test_hypervolumes: list[float | None] = field(default_factory=list)  # see hypervolume_curve_on_test


class Search:
    """One search in one output directory. ``Search.open`` starts it or, with ``resume``, continues it."""

    def __init__(self, output_dir: Path, space: SearchSpace, meta: dict, records: list[dict]):
        self.output_dir = Path(output_dir)
        self.space = space
        self.meta = meta
        self.records = records

    @classmethod
    def open(cls, output_dir, space: SearchSpace, *, method: str, budget: int, init: int, seed: int,
             reference: tuple[float, float] | None = None, resume: bool = False,
             description: dict | None = None) -> "Search":
        output_dir = Path(output_dir)
        if budget < 1:
            raise UserInputError(f"The 'budget' parameter must be at least 1; got {budget}")
        if init < 0 or budget < init:
            raise UserInputError(f"The 'budget' ({budget}) must be at least the initial design 'init' ({init})")
        meta = {
            "schema": SCHEMA, "method": method, "budget": budget, "init": init, "seed": seed,
            "models": list(space.names), **(description or {}),
            "reference": None if reference is None else {"utility": reference[0], "energy_j": reference[1], "rule": "given"},
        }
        search_file = output_dir / SEARCH_FILE
        if search_file.exists():
            old = read_meta(search_file)
            records = read_records(output_dir / EVALUATIONS_FILE, repair=resume)
            if not resume:
                raise UserInputError(
                    f"{output_dir} already holds a search ({len(records)} evaluations); "
                    "pass --resume to continue it or choose another --output-dir")
            for key in RESUME_KEYS:
                if key not in old and key not in RESUME_DEFAULTS:
                    continue  # a search.json from before the key was recorded
                before = old.get(key, RESUME_DEFAULTS.get(key))
                if key in meta and before != meta.get(key):
                    raise UserInputError(
                        f"--resume: {key} is {meta.get(key)!r} but the search in {output_dir} used {before!r}")
            if reference is not None:
                kept = old.get("reference") or {}
                if kept.get("rule") != "given" or (kept["utility"], kept["energy_j"]) != tuple(reference):
                    fixed = (f"{kept['utility']:.4g},{kept['energy_j']:.4g}" if kept else "not fixed yet") + \
                        (f" ({kept['rule'].split(':')[0]})" if kept.get("rule") not in (None, "given") else "")
                    raise UserInputError(f"--resume: the search in {output_dir} keeps its own reference point "
                                         f"({fixed}); leave out --reference")
            if budget < len(records):
                raise UserInputError(f"--resume: --budget {budget} is below the {len(records)} evaluations the search in "
                                     f"{output_dir} has done; pass at least {len(records)}")
            old["budget"] = budget
            log.info("resuming search %s: %d of %d evaluations done", old.get("search_id"), len(records), budget)
            search = cls(output_dir, space, old, records)
        else:
            if resume:
                log.warning("nothing to resume in %s (no %s): starting a new search", output_dir, SEARCH_FILE)
            output_dir.mkdir(parents=True, exist_ok=True)
            meta["search_id"] = f"{output_dir.name}-{uuid.uuid4().hex[:8]}"
            meta["created"] = _now()
            search = cls(output_dir, space, meta, [])
        _write_json_atomic(search_file, search.meta)
        return search

    @property
    def search_id(self) -> str:
        return self.meta["search_id"]

    @property
    def reference(self) -> tuple[float, float] | None:
        ref = self.meta.get("reference")
        return None if not ref else (float(ref["utility"]), float(ref["energy_j"]))

    def _maybe_fix_reference(self) -> None:
        if self.reference is not None:
            return
        done = [r for r in self.records if r["status"] == "complete"]
        if len(self.records) >= max(1, self.meta["init"]) and len(done) >= 2:
            u, e = default_reference([r["utility"] for r in done], [r["energy_j"] for r in done])
            self.meta["reference"] = {"utility": u, "energy_j": e,
                                      "rule": f"initial design ({len(done)} points): worst utility and highest energy, "
                                              "10% of their range further out (>= 0.01 utility, >= 0.1 decade)"}
            _write_json_atomic(self.output_dir / SEARCH_FILE, self.meta)
            log.info("reference point fixed: utility %.4g, energy %.4g J", u, e)

    def observations(self) -> list[Observation]:
        return [Observation(Candidate.from_dict(r["candidate"]), r.get("utility"), r.get("energy_j"))
                if r["status"] == "complete" else Observation(Candidate.from_dict(r["candidate"]), None, None)
                for r in self.records]

    def run(self, evaluator: Evaluator, *, overhead_meter: OverheadMeter | None = None, progress: bool = True,
            on_record: Callable[[dict], None] | None = None, proposer=None) -> SearchOutcome:
        """Evaluate until the budget is spent. ``proposer`` replaces the method's own (e.g. Optuna in the bench)."""
        meter = overhead_meter or OverheadMeter()
        if proposer is None:
            proposer = make_proposer(self.meta["method"], self.space, self.meta["seed"], self.meta["budget"], self.meta["init"])
        budget = self.meta["budget"]
        interrupted: int | None = None  # the signal that stopped the search
        bar = _progress_bar(progress, budget, len(self.records), self.meta.get("method", ""))
        # SIGINT/SIGTERM between runs (during a proposal) stop as cleanly as inside one
        try:
            with signals_interrupt():
                self._run_until_budget(evaluator, proposer, meter, bar, on_record)
        except (KeyboardInterrupt, RunInterrupted) as exc:
            interrupted = int(getattr(exc, "signum", signal.SIGINT))
            log.warning("interrupted after %d evaluations; every finished one is in %s; continue with --resume",
                        len(self.records), self.output_dir / EVALUATIONS_FILE)
        finally:
            if bar is not None:
                bar.close()
            meter.close()
        # after an interrupt a second Ctrl-C must not cut the front and plots short; otherwise the
        # caller's own handlers apply (Ctrl-C: KeyboardInterrupt)
        with signals_ignored() if interrupted else contextlib.nullcontext():
            outcome = self.write_outputs(plots=True)
        outcome.interrupted = interrupted is not None
        outcome.signum = interrupted
        if self.reference is not None and outcome.front and outcome.hypervolumes and not outcome.hypervolumes[-1]:
            log.warning("no evaluation beats the reference point (utility %.4g, energy %.4g J): the hypervolume "
                        "stays 0; start a new search with a lower utility or a higher energy in --reference", *self.reference)
        return outcome

    def _run_until_budget(self, evaluator: Evaluator, proposer, meter: OverheadMeter, bar, on_record) -> None:
        budget = self.meta["budget"]
        if len(self.records) < budget and callable(getattr(proposer, "warm_up", None)):
            proposer.warm_up()  # one-time imports stay out of the first step's measured energy
        while len(self.records) < budget:
            index = len(self.records)
            self._maybe_fix_reference()
            if isinstance(proposer, BoProposer) and self.reference is not None:
                proposer.reference_model = model_objectives(*self.reference)
            with meter.measure() as overhead:
                cand = proposer.propose(index, self.observations())
            log.info("evaluation %d/%d: %s %s", index + 1, budget, cand.model, _short(cand.values))
            record = self._evaluate(evaluator, cand, index, overhead)
            with open(self.output_dir / EVALUATIONS_FILE, "a") as fh:
                fh.write(json.dumps(record, default=str) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            self.records.append(record)
            self._maybe_fix_reference()
            outcome = self.write_outputs(plots=False)
            if on_record:
                on_record(record)
            if bar is not None:
                hv = outcome.hypervolumes[-1]
                bar.set_postfix_str(f"hv={hv:.4g}" if hv is not None else "hv=n/a (initial design)")
                bar.update(1)

    def _evaluate(self, evaluator: Evaluator, cand: Candidate, index: int, overhead: OverheadCost) -> dict:
        base = {"index": index, "candidate": cand.to_dict(), "params": _json_safe(cand.params(self.space)),
                "proposal": overhead.to_dict()}
        t0 = time.perf_counter()
        try:
            ev: Evaluation = evaluator(cand, index)
        except UserInputError:
            raise  # the same mistake would fail every evaluation: stop and say it once
        except Exception as exc:  # one bad configuration must not end the search
            # a configuration the model refuses (ModelError, a vendor's message) is one line; anything
            # else may be a bug in mlel, and its traceback is shown
            expected = isinstance(exc, MlelError)
            log.warning("evaluation %d (%s) failed: %s", index, cand.model, exc,
                        exc_info=not expected or log.isEnabledFor(logging.DEBUG))
            return {**base, "status": "failed", "error": f"{type(exc).__name__}: {exc}",
                    "wall_time_s": time.perf_counter() - t0, "finished": _now()}
        hv_ref = self.reference
        record = {**base, "status": "complete", **ev.to_dict(), "wall_time_s": time.perf_counter() - t0, "finished": _now()}
        if hv_ref is not None:
            done = [r for r in self.records if r["status"] == "complete"] + [record]
            record["hypervolume"] = hypervolume([r["utility"] for r in done], [r["energy_j"] for r in done], hv_ref)
        return record

    # -- outputs ----------------------------------------------------------------------------
    def write_outputs(self, plots: bool = True) -> SearchOutcome:
        ref = self.reference
        curve = hypervolume_curve(self.records, ref)
        test_curve = hypervolume_curve_on_test(self.records, ref)
        done = [r for r in self.records if r["status"] == "complete"]
        front = sorted(chosen_front(self.records), key=lambda r: r["energy_j"])
        energy = search_energy(self.records)
        front_doc = {
            "schema": SCHEMA,
            "search_id": self.meta.get("search_id"),
            "settings": {k: v for k, v in self.meta.items() if k not in ("reference",)},
            "objectives": {"utility": self.meta.get("objective", "utility"), "utility_direction": "max",
                           "energy": self.meta.get("energy", "energy_j"), "energy_direction": "min"},
            "reference": self.meta.get("reference"),
            "evaluations": len(self.records),
            "failed": len(self.records) - len(done),
            "hypervolume": curve[-1] if curve else None,
            "hypervolume_units": "utility x decades of energy (log10 J), against the reference point",
            "hypervolume_after_each_evaluation": curve,
            # chosen on a validation part (--validation-size): the front's hypervolume with its test utilities
            "test_hypervolume": test_curve[-1] if test_curve else None,
            "test_hypervolume_after_each_evaluation": test_curve,
            "search_energy": energy,
            "front": [_front_point(r) for r in front],
        }
        _write_json_atomic(self.output_dir / FRONT_FILE, front_doc)
        tmp = self.output_dir / (HV_FILE + ".tmp")
        tmp.write_text("evaluations,hypervolume\n" + "".join(
            f"{i + 1},{'' if hv is None else repr(hv)}\n" for i, hv in enumerate(curve)))
        os.replace(tmp, self.output_dir / HV_FILE)
        if plots and done:
            from mlel.tradeoff import plots as P

            try:
                P.save_front_plot(self.output_dir / "front.png", done, front, self.meta)
                P.save_hypervolume_plot(self.output_dir / "hypervolume.png", {self.meta.get("method", "search"): curve})
            except Exception as exc:  # a plot must not lose the search
                log.warning("could not draw the plots: %s", exc)
        return SearchOutcome(self.output_dir, list(self.records), front_doc["front"], curve, ref, energy, meta=self.meta,
                             test_hypervolumes=test_curve)


def search_energy(records: Sequence[dict]) -> dict:
    """Energy the search itself spent: its evaluations plus (where measured) the optimiser."""
    evals = [r.get("spent_energy_j") for r in records if r["status"] == "complete"]
    evals_j = float(sum(e for e in evals if e is not None))
    provs = [r["provenance"] for r in records if r["status"] == "complete"]
    opt_e = [r["proposal"].get("energy_j") for r in records]
    opt_t = float(sum(r["proposal"].get("time_s") or 0.0 for r in records))
    opt_measured = bool(records) and all(e is not None for e in opt_e)
    opt_j = float(sum(opt_e)) if opt_measured else None
    provs += [r["proposal"]["provenance"] for r in records if r["proposal"].get("provenance")]
    return {
        "evaluations_j": evals_j,
        # wall time of the evaluations (whole runs); each record's time_s is its objective's time (one
        # fit's share; with train+infer, the projected time of the predictions), not time spent here
        "evaluation_time_s": float(sum(r.get("wall_time_s") or 0.0 for r in records if r["status"] == "complete")),
        "optimiser_j": opt_j,
        "optimiser_time_s": opt_t,
        "optimiser_note": ("measured with the experiments' meters" if opt_measured
                           else "timed only: no energy meter was used for the optimiser"),
        "total_j": evals_j + (opt_j or 0.0),
        "provenance": Provenance.weakest(provs).value if provs else None,
        "failed_evaluations_not_counted": sum(1 for r in records if r["status"] != "complete"),
    }


def _front_point(r: dict) -> dict:
    return {
        "index": r["index"], "model": r["candidate"]["model"], "values": r["candidate"]["values"],
        "params": r["params"], "utility": r["utility"], "test_utility": r.get("test_utility"),
        "metrics": r.get("metrics", {}),
        "energy_j": r["energy_j"], "time_s": r["time_s"], "provenance": r["provenance"],
        "provenance_text": r.get("provenance_text"), "folders": r.get("folders", []),
    }


def read_meta(path: Path) -> dict:
    try:
        meta = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise UserInputError(f"cannot read {path}: {exc}") from exc
    if meta.get("schema") != SCHEMA:
        raise UserInputError(f"{path} is not a search this version can continue (schema {meta.get('schema')!r}, expected {SCHEMA!r})")
    return meta


def read_records(path: Path, repair: bool = False) -> list[dict]:
    """The finished evaluations in ``path`` (``evaluations.jsonl``); a truncated last line (a kill
    mid-write) is ignored. Reading never writes: a reader that rewrote the file raced the search
    appending to it, or another reader, and emptied whole runs. ``repair`` (a resume, about to
    append) drops a truncated tail from the file itself, atomically, so the next line starts clean."""
    if not path.exists():
        return []
    out, text = [], path.read_text()
    lines = text.splitlines()
    truncated = bool(text) and not text.endswith("\n")  # cut before its newline: the next append would join it
    for n, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            if n == len(lines) - 1:
                log.warning("%s: ignoring a truncated last line (a kill mid-write)", path)
            else:
                raise UserInputError(f"{path}: line {n + 1} is not JSON; the search cannot be resumed") from None
    if repair and truncated:
        _write_text_atomic(path, "".join(json.dumps(r, default=str) + "\n" for r in out))
    return out


def _json_safe(d: dict) -> dict:
    return json.loads(json.dumps(d, default=str))


def _short(values) -> str:
    return ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items())


def _progress_bar(progress: bool, total: int, initial: int, desc: str):
    from mlel.experiments.common import show_progress

    if not show_progress(progress):
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, desc=f"search ({desc})", unit="eval")
