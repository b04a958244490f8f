"""How an energy figure was obtained. Every energy number in mlel carries one of these."""

from __future__ import annotations

import enum


class Provenance(str, enum.Enum):
    """How an energy figure was obtained, from most to least trustworthy."""

    COUNTER = "hardware counter"      # an energy counter read at window edges (NVML total energy, RAPL energy_uj)
    SAMPLED = "sampled power"         # a power sensor sampled and integrated over time (NVML power usage)
    ESTIMATE = "estimate"             # no sensor: a model (TDP x load, RAM per GB) integrated over time

    @property
    def is_measured(self) -> bool:
        return self is not Provenance.ESTIMATE

    @classmethod
    def weakest(cls, provenances) -> "Provenance":
        """The least trustworthy of several (a sum is only as good as its weakest part)."""
        order = [cls.COUNTER, cls.SAMPLED, cls.ESTIMATE]
        found = [cls(p) for p in provenances]
        return max(found, key=order.index) if found else cls.ESTIMATE
