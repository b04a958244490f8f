"""Immutable measurement records. Units are in every field name."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from mlel.measurement.provenance import Provenance

COMPONENT_NAMES = {"gpu": "GPU", "cpu": "CPU", "ram": "RAM"}


@dataclass(frozen=True)
class MeterEnergy:
    """Energy one meter attributes to one measurement window."""

    meter: str  # e.g. "nvml:0", "rapl:package-0", "rapl:dram-0", "estimate:cpu", "estimate:ram"
    component: str  # "gpu" | "cpu" | "ram"
    energy_j: float
    provenance: Provenance
    samples: int
    method: str  # short human words, e.g. "NVML", "RAPL", "CodeCarbon TDP x load", "CodeCarbon RAM model"
    idle_power_w: float | None = None  # from the optional idle baseline
    net_energy_j: float | None = None  # energy_j - idle_power_w * duration_s
    failed_reads: int = 0  # reads of this meter that failed inside the window: its energy misses that time

    def to_dict(self) -> dict:
        d = asdict(self)
        d["provenance"] = self.provenance.value
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "MeterEnergy":
        d = dict(d)
        d["provenance"] = Provenance(d["provenance"])
        return cls(**d)


@dataclass(frozen=True)
class Measurement:
    """What one measurement window (begin..end) cost."""

    duration_s: float
    meters: tuple[MeterEnergy, ...]

    @property
    def total_energy_j(self) -> float:
        return float(sum(m.energy_j for m in self.meters))

    @property
    def total_net_energy_j(self) -> float | None:
        if not self.meters or any(m.net_energy_j is None for m in self.meters):
            return None
        return float(sum(m.net_energy_j for m in self.meters))

    @property
    def provenance(self) -> Provenance:
        return Provenance.weakest(m.provenance for m in self.meters)

    @property
    def samples(self) -> int:
        return min((m.samples for m in self.meters), default=0)

    def provenance_text(self) -> str:
        return provenance_text(self.meters)

    def per_repeat(self, repeats: int) -> "Measurement":
        """The window's share of one of ``repeats`` identical repetitions measured in it: duration
        and energies divided by ``repeats`` (sample counts stay those of the whole window)."""
        if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
            raise ValueError(f"repeats must be an integer >= 1; got {repeats!r}")
        if repeats == 1:
            return self
        meters = tuple(replace(m, energy_j=m.energy_j / repeats,
                               net_energy_j=None if m.net_energy_j is None else m.net_energy_j / repeats)
                       for m in self.meters)
        return Measurement(duration_s=self.duration_s / repeats, meters=meters)

    def to_dict(self) -> dict:
        return {
            "duration_s": self.duration_s,
            "total_j": self.total_energy_j,
            "net_total_j": self.total_net_energy_j,
            "provenance": self.provenance.value,
            "provenance_text": self.provenance_text(),
            "meters": [m.to_dict() for m in self.meters],
        }


def provenance_text(meters) -> str:
    """One line saying how the energy was obtained, e.g. "measured (hardware counter): CPU (RAPL)",
    "measured (sampled power): GPU (NVML power) + CPU (RAPL)" or
    "estimated: CPU (CodeCarbon TDP x load) + RAM (CodeCarbon RAM model)".
    Mixed sets say which parts were read from a counter, which were sampled and which are estimated."""
    meters = list(meters)
    if not meters:
        return "no energy meter"
    seen: list[tuple[str, str, Provenance]] = []
    for m in meters:
        key = (COMPONENT_NAMES.get(m.component, m.component), m.method, m.provenance)
        if key not in seen:
            seen.append(key)
    parts = []
    for kind, lead in ((Provenance.COUNTER, "measured (hardware counter): "), (Provenance.SAMPLED, "measured (sampled power): "),
                       (Provenance.ESTIMATE, "estimated: ")):
        named = [f"{c} ({meth})" for c, meth, p in seen if p is kind]
        if named:
            parts.append(lead + " + ".join(named))
    failed = [f"{m.meter} missed {m.failed_reads} of {m.failed_reads + m.samples} reads" for m in meters if m.failed_reads]
    if failed:
        parts.append("incomplete: " + ", ".join(failed))
    return "; ".join(parts)
