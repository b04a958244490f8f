"""The common base of every power meter: one backend per file, all behind :class:`Meter`.

A meter is one physical or modelled quantity (one GPU, one RAPL package, the estimated CPU).
It reports either

* a cumulative **energy counter** (``provenance = Provenance.COUNTER``): ``read().energy_j`` is
  monotonic, already unwrapped by the backend, and a window's energy is the counter delta
  between readings taken exactly at the window edges; or
* a **power** value (``SAMPLED`` or ``ESTIMATE``): ``read().power_w``, which the
  :class:`~mlel.measurement.sampler.Sampler` integrates over time. ``power_is_interval_mean``
  says how: an instantaneous reading (a power sensor) is integrated with the trapezoid rule;
  a reading that is already the mean since the previous read (power derived from CPU-load
  deltas) covers exactly the interval it closes (right-rectangle rule).

Constructors only store parameters: hardware is touched in :meth:`Meter.open`, never at import.
"""

from __future__ import annotations

import abc
from typing import NamedTuple

from mlel.measurement.provenance import Provenance


class Reading(NamedTuple):
    """One reading of one meter. A NamedTuple, not a dataclass: it is built 10 times a second
    per meter, and the sampler's own CPU cost is part of what we promise to keep small."""

    power_w: float | None = None   # power meters: instantaneous, or mean since the previous read
    energy_j: float | None = None  # counter meters: cumulative energy, unwrapped, arbitrary origin
    extras: tuple = ()             # values in the order of ``Meter.extra_fields`` (None = unknown)


class Meter(abc.ABC):
    """One source of energy or power figures.

    Subclasses set the class attributes (or instance attributes in ``__init__``/``open``) and
    implement :meth:`read`.
    """

    name: str = "meter"                    # unique, e.g. "nvml:0", "rapl:package-0", "estimate:cpu"
    component: str = "cpu"                 # "gpu" | "cpu" | "ram"
    provenance: Provenance = Provenance.ESTIMATE
    method: str = ""                       # short words for provenance texts, e.g. "NVML", "RAPL"
    extra_fields: tuple[str, ...] = ()     # extra CSV columns, e.g. ("utilization_pct",)
    power_is_interval_mean: bool = False   # see the module docstring
    max_read_interval_s: float | None = None  # counters that wrap: read at least this often (set by open)

    def open(self) -> None:
        """Touch the hardware (handles, file descriptors, a first counter value)."""

    @abc.abstractmethod
    def read(self) -> Reading:
        """Read the meter now. Must be cheap: it runs up to 10 times per second."""

    def close(self) -> None:
        """Release what :meth:`open` acquired."""

    @property
    def is_counter(self) -> bool:
        return self.provenance is Provenance.COUNTER

    def describe(self) -> str:
        """One line for logs and ``python -m mlel.env``."""
        return f"{self.name}: {self.component.upper()} via {self.method} ({self.provenance.value})"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} {self.provenance.value}>"


class Availability(NamedTuple):
    """Whether a backend works on this machine and, if not, why (shown by ``python -m mlel.env``)."""

    available: bool
    reason: str
