"""Estimated CPU and RAM power where no sensor exists, with CodeCarbon's models (3.3.x).

* CPU (``estimate:cpu``): the CPU's TDP from CodeCarbon's ``cpu_power.csv`` table, matched with
  CodeCarbon's own fuzzy matcher, times the number of sockets, scaled by the system-wide CPU
  load as CodeCarbon's "cpu_load" machine mode does: ``P = TDP * (0.1 + 0.9 * load**3)``.
  The load is the share of non-idle CPU time since the previous reading, from ``/proc/uptime``
  (uptime, and idle time summed over CPUs). That is CodeCarbon's ``/proc/stat`` figure except
  that I/O wait counts as busy, at a sixth of the cost: the kernel builds all of ``/proc/stat``
  (every interrupt counter) on each read. Each reading is the *mean* since the previous one.
  A CPU model missing from the table gets CodeCarbon's default: 4 W per logical CPU, logged.
* RAM (``estimate:ram``): CodeCarbon's RAM model (number of DIMMs guessed from the total
  memory, 5 W per x86 DIMM with diminishing increments; 1.5 W per DIMM on ARM). Constant
  power; the memory in use is logged beside it.

CodeCarbon is imported in :meth:`Meter.open`, never at import time. Everything here is
recorded as :attr:`Provenance.ESTIMATE`: it is a model, not a measurement.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import platform
import time
from dataclasses import dataclass

from mlel.measurement.base import Availability, Meter, Reading
from mlel.measurement.provenance import Provenance

logger = logging.getLogger(__name__)

# CodeCarbon's fallbacks (codecarbon.core.cpu.DEFAULT_POWER_PER_CORE, .external.hardware.POWER_CONSTANT)
DEFAULT_POWER_PER_THREAD_W = 4.0
FALLBACK_TDP_W = 85.0
IDLE_FRACTION = 0.1  # CodeCarbon: an idle CPU still draws 10 % of its TDP


@dataclass(frozen=True)
class TdpEstimate:
    tdp_w: float      # for the whole machine (all sockets)
    cpu_model: str
    source: str       # how the figure was found, for logs and ``python -m mlel.env``
    is_default: bool  # True when the model was not in CodeCarbon's table


def read_cpu_model() -> str:
    """The CPU's marketing name, from /proc/cpuinfo (cheap; CodeCarbon's py-cpuinfo takes ~1 s)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def count_sockets() -> int:
    """Physical CPU packages, from /proc/cpuinfo "physical id" (CodeCarbon asks lscpu); 1 if unknown."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            ids = {line.split(":", 1)[1].strip() for line in f if line.startswith("physical id")}
        return max(1, len(ids))
    except OSError:
        return 1


@functools.lru_cache(maxsize=16)
def cpu_tdp(cpu_model: str, logical_cpus: int, sockets: int = 1) -> TdpEstimate:
    """TDP for ``cpu_model`` from CodeCarbon's table, or CodeCarbon's documented default.

    Cached per model: loading the table takes about a second, and the answer never changes.
    """
    match = None
    try:
        from codecarbon.core.cpu import TDP
        from codecarbon.input import DataSource

        table = DataSource().get_cpu_power_data()
        # TDP() itself would first run py-cpuinfo (slow, and it logs as codecarbon); its
        # matcher is a pure function of (model, table), so call it on an uninitialised instance.
        match = object.__new__(TDP)._get_matching_cpu(cpu_model, table)
        if match:
            per_socket = float(table.loc[table["Name"] == match, "TDP"].iloc[0])
            return TdpEstimate(per_socket * sockets, cpu_model, f"CodeCarbon cpu_power.csv: {match} = {per_socket:g} W x {sockets} socket(s)", False)
    except Exception as exc:  # noqa: BLE001 - a broken table must not stop a measurement
        logger.warning("CodeCarbon's CPU table could not be used (%s); using a default TDP", exc)
    if logical_cpus > 0:
        tdp_w = DEFAULT_POWER_PER_THREAD_W * logical_cpus
        source = f"CodeCarbon's default of {DEFAULT_POWER_PER_THREAD_W:g} W x {logical_cpus} logical CPUs (model not in its table)"
    else:
        tdp_w, source = FALLBACK_TDP_W, f"CodeCarbon's constant {FALLBACK_TDP_W:g} W (model not in its table, CPU count unknown)"
    logger.warning("CPU %r is not in CodeCarbon's TDP table: assuming %g W", cpu_model, tdp_w)
    return TdpEstimate(tdp_w, cpu_model, source, True)


def cpu_power_w(tdp_w: float, load_fraction: float) -> float:
    """CodeCarbon 3.3's CPU-load model, machine mode (``CPU._get_power_from_cpu_load``):
    10 % of TDP at idle, rising with the cube of the load to 100 % at full load."""
    load = min(max(load_fraction, 0.0), 1.0)
    return tdp_w * (IDLE_FRACTION + (1.0 - IDLE_FRACTION) * load**3)


def ram_power_w(memory_bytes: int, arm: bool | None = None) -> float:
    """CodeCarbon's RAM model (``codecarbon.external.ram.RAM._calculate_ram_power``)."""
    from codecarbon.external.ram import RAM

    model = RAM(tracking_mode="machine")  # its constructor only stores settings
    if arm is not None:
        model.is_arm_cpu = arm
    return float(model._calculate_ram_power(memory_bytes / 1024**3))


class _ProcFile:
    """A /proc file kept open and re-read with one pread: ~5 us instead of ~15 us per read."""

    def __init__(self, path: str):
        self._fd = os.open(path, os.O_RDONLY)

    def read(self, size: int = 4096) -> bytes:
        return os.pread(self._fd, size, 0)

    def close(self) -> None:
        os.close(self._fd)


def _idle_fraction_from_uptime(uptime_head: bytes) -> tuple[float, float]:
    """(uptime_s, idle_s summed over CPUs) from /proc/uptime."""
    uptime, idle = uptime_head.split()[:2]
    return float(uptime), float(idle)


def _psutil_idle_uptime(cpus: int) -> tuple[float, float]:
    """The same pair from psutil where /proc/uptime does not exist."""
    import psutil

    t = psutil.cpu_times()
    total = sum(t) - getattr(t, "guest", 0) - getattr(t, "guest_nice", 0)
    return total / cpus, t.idle + getattr(t, "iowait", 0)


class EstimatedCpuMeter(Meter):
    """CPU power from TDP x load (CodeCarbon's model); the load is the mean since the previous read."""

    name = "estimate:cpu"
    component = "cpu"
    provenance = Provenance.ESTIMATE
    method = "CodeCarbon TDP x load"
    extra_fields = ("cpu_load_pct",)
    power_is_interval_mean = True

    def __init__(self, tdp_w: float | None = None):
        self.tdp_w = tdp_w
        self.tdp: TdpEstimate | None = None
        self.cpus = 1
        self._uptime: _ProcFile | None = None
        self._last: tuple[float, float] = (0.0, 0.0)
        self._last_load = 0.0

    def open(self) -> None:
        self.cpus = os.cpu_count() or 1  # online CPUs: offline ones accumulate no idle time
        if self.tdp_w is None:
            self.tdp = cpu_tdp(read_cpu_model(), self.cpus, count_sockets())
            self.tdp_w = self.tdp.tdp_w
        else:
            self.tdp = TdpEstimate(float(self.tdp_w), read_cpu_model(), f"given: {self.tdp_w:g} W", False)
        logger.info("CPU power estimate: %s", self.tdp.source)
        try:
            self._uptime = _ProcFile("/proc/uptime")
        except OSError:
            self._uptime = None  # not Linux: psutil reads the same counters, more slowly
        self._last = self._uptime_idle()

    def _uptime_idle(self) -> tuple[float, float]:
        if self._uptime is not None:
            return _idle_fraction_from_uptime(self._uptime.read(64))
        return _psutil_idle_uptime(self.cpus)

    def read(self) -> Reading:
        uptime, idle = self._uptime_idle()
        capacity = (uptime - self._last[0]) * self.cpus
        if capacity > 0.0:  # 10 ms resolution: reads closer than that may see no change
            self._last_load = min(max(1.0 - (idle - self._last[1]) / capacity, 0.0), 1.0)
            self._last = (uptime, idle)
        return Reading(power_w=cpu_power_w(self.tdp_w, self._last_load), extras=(round(100.0 * self._last_load, 2),))

    def close(self) -> None:
        if self._uptime is not None:
            self._uptime.close()
            self._uptime = None


def total_memory_bytes() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        import psutil

        return int(psutil.virtual_memory().total)


class EstimatedRamMeter(Meter):
    """RAM power from CodeCarbon's DIMM model: constant for a machine; logs the memory in use."""

    name = "estimate:ram"
    component = "ram"
    provenance = Provenance.ESTIMATE
    method = "CodeCarbon RAM model"
    extra_fields = ("memory_used_bytes",)

    MEMORY_REFRESH_S = 1.0  # /proc/meminfo is not free to build; memory use moves slowly

    def __init__(self, power_w: float | None = None):
        self.power_w = power_w
        self.memory_bytes = 0
        self._meminfo: _ProcFile | None = None
        self._memory_used: int | None = None
        self._memory_read_t = -math.inf

    def open(self) -> None:
        self.memory_bytes = total_memory_bytes()
        if self.power_w is None:
            self.power_w = ram_power_w(self.memory_bytes)
        logger.info("RAM power estimate: %.1f W for %.1f GiB (CodeCarbon RAM model)", self.power_w, self.memory_bytes / 1024**3)
        try:
            self._meminfo = _ProcFile("/proc/meminfo")
        except OSError:
            self._meminfo = None

    def _memory_used_bytes(self) -> int | None:
        if self._meminfo is None:
            return None
        head = self._meminfo.read(256)
        start = head.find(b"MemAvailable:")
        if start < 0:
            return None
        available_kb = int(head[start + 13 : head.index(b"kB", start)])
        return self.memory_bytes - available_kb * 1024

    def read(self) -> Reading:
        now = time.monotonic()
        if now - self._memory_read_t >= self.MEMORY_REFRESH_S:
            self._memory_used, self._memory_read_t = self._memory_used_bytes(), now
        return Reading(power_w=self.power_w, extras=(self._memory_used,))

    def close(self) -> None:
        if self._meminfo is not None:
            self._meminfo.close()
            self._meminfo = None


def estimate_availability() -> Availability:
    """The estimate always works; this says which figures it will use."""
    tdp = cpu_tdp(read_cpu_model(), os.cpu_count() or 0, count_sockets())
    memory = total_memory_bytes()
    return Availability(True, f"CPU {tdp.cpu_model!r}: TDP {tdp.tdp_w:g} W from {tdp.source}; RAM {ram_power_w(memory):g} W for {memory / 1024**3:.1f} GiB")
