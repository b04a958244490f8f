"""NVIDIA GPUs through NVML (``pynvml``, from the ``nvidia-ml-py`` package).

Energy comes from ``nvmlDeviceGetTotalEnergyConsumption`` (a hardware counter in mJ, Volta and
newer) where the GPU supports it, read at the window edges; otherwise ``nvmlDeviceGetPowerUsage``
(mW) is sampled and integrated with the trapezoid rule. Utilisation, memory in use and
temperature go to the power log beside each sample.

Only GPUs visible to CUDA are measured: ``CUDA_VISIBLE_DEVICES`` may list indices or UUIDs
(``GPU-...``, prefixes allowed), and, as in CUDA, the list stops at the first entry that names
no device. Indices are NVML's (PCI bus order), i.e. what CUDA uses with
``CUDA_DEVICE_ORDER=PCI_BUS_ID``.

``pynvml`` is imported inside a cached driver probe, never at import time. Tests
fake a GPU by subclassing :class:`NvmlMeter` and overriding its ``_read_*`` methods.
"""

from __future__ import annotations

import functools
import logging
import os
from typing import NamedTuple

from mlel.errors import HardwareUnavailableError
from mlel.measurement.base import Availability, Meter, Reading
from mlel.measurement.provenance import Provenance

logger = logging.getLogger(__name__)

MJ_PER_J = 1000.0
MW_PER_W = 1000.0


class _DriverProbe(NamedTuple):
    ok: bool
    reason: str
    uuids: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    memory_bytes: tuple[int, ...] = ()


@functools.lru_cache(maxsize=1)
def _probe_driver() -> _DriverProbe:
    """Initialise NVML once and list every GPU. Cached: drivers do not come and go while a
    process runs. Which GPUs are *visible* is decided per call, from the environment."""
    try:
        import pynvml
    except ImportError:
        return _DriverProbe(False, "nvidia-ml-py (pynvml) is not installed")
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError_LibraryNotFound:
        return _DriverProbe(False, "no NVIDIA driver (libnvidia-ml.so not found)")
    except pynvml.NVMLError as exc:
        return _DriverProbe(False, f"NVML could not start: {exc}")
    try:
        count = pynvml.nvmlDeviceGetCount()
        if count == 0:
            return _DriverProbe(False, "NVIDIA driver loaded but no GPU found")
        handles = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
        uuids = tuple(_decode(pynvml.nvmlDeviceGetUUID(h)) for h in handles)
        names = tuple(_decode(pynvml.nvmlDeviceGetName(h)) for h in handles)
        memory = tuple(int(pynvml.nvmlDeviceGetMemoryInfo(h).total) for h in handles)
        return _DriverProbe(True, f"{count} GPU(s)", uuids, names, memory)
    except pynvml.NVMLError as exc:
        return _DriverProbe(False, f"NVML error while listing GPUs: {exc}")
    finally:
        try:
            pynvml.nvmlShutdown()
        except pynvml.NVMLError:
            pass


def nvml_availability() -> Availability:
    """Does NVML work and see at least one GPU visible to CUDA?"""
    probe = _probe_driver()
    if not probe.ok:
        return Availability(False, probe.reason)
    visible = visible_gpu_indices(len(probe.uuids), list(probe.uuids))
    if not visible:
        return Availability(False, f"CUDA_VISIBLE_DEVICES={os.environ.get('CUDA_VISIBLE_DEVICES')!r} hides all {len(probe.uuids)} GPUs")
    return Availability(True, f"{len(visible)} GPU(s): " + ", ".join(f"{i}: {probe.names[i]}" for i in visible))


def visible_gpus() -> list[dict]:
    """GPUs visible to CUDA as ``{"index", "name", "memory_bytes", "uuid"}`` (the platform.json
    record); empty without a usable NVIDIA driver."""
    probe = _probe_driver()
    if not probe.ok:
        return []
    return [
        {"index": i, "name": probe.names[i], "memory_bytes": probe.memory_bytes[i], "uuid": probe.uuids[i]}
        for i in visible_gpu_indices(len(probe.uuids), list(probe.uuids))
    ]


def _decode(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def visible_gpu_indices(count: int, uuids: list[str], cuda_visible_devices: str | None = None) -> list[int]:
    """NVML indices of the GPUs CUDA would use, following ``CUDA_VISIBLE_DEVICES``.

    ``cuda_visible_devices`` defaults to the environment variable; unset means all GPUs.
    """
    spec = os.environ.get("CUDA_VISIBLE_DEVICES") if cuda_visible_devices is None else cuda_visible_devices
    if spec is None:
        return list(range(count))
    visible: list[int] = []
    for entry in (e.strip() for e in spec.split(",")):
        if entry.isdigit() and int(entry) < count:
            index = int(entry)
        elif entry.startswith("GPU-") or entry.startswith("MIG-"):
            matches = [i for i, u in enumerate(uuids) if u.startswith(entry)]
            if len(matches) != 1:
                break
            index = matches[0]
        else:
            break  # CUDA ignores everything after the first invalid entry
        if index in visible:
            break
        visible.append(index)
    return visible


class NvmlMeter(Meter):
    """One NVIDIA GPU. ``open()`` decides between the energy counter and sampled power."""

    component = "gpu"
    method = "NVML"
    extra_fields = ("utilization_pct", "memory_used_bytes", "temperature_c")

    def __init__(self, index: int):
        self.index = index
        self.name = f"nvml:{index}"
        self.provenance = Provenance.COUNTER
        self._handle = None
        self._pynvml = None
        self._extras_broken: set[str] = set()

    # -- raw reads: the only methods that talk to NVML; tests override these ----------------
    def _open_handle(self):
        import pynvml

        self._pynvml = pynvml
        try:
            pynvml.nvmlInit()
            return pynvml.nvmlDeviceGetHandleByIndex(self.index)
        except pynvml.NVMLError as exc:
            raise HardwareUnavailableError(f"NVML cannot open GPU {self.index}: {exc}") from exc

    def _close_handle(self) -> None:
        if self._pynvml is not None:
            try:
                self._pynvml.nvmlShutdown()
            except self._pynvml.NVMLError:
                pass

    def _supports_total_energy(self) -> bool:
        try:
            self._read_total_energy_mj()
            return True
        except self._pynvml.NVMLError:
            return False

    def _read_total_energy_mj(self) -> float:
        return self._pynvml.nvmlDeviceGetTotalEnergyConsumption(self._handle)

    def _read_power_mw(self) -> float:
        return self._pynvml.nvmlDeviceGetPowerUsage(self._handle)

    def _read_utilization_pct(self) -> float:
        return self._pynvml.nvmlDeviceGetUtilizationRates(self._handle).gpu

    def _read_memory_used_bytes(self) -> int:
        return self._pynvml.nvmlDeviceGetMemoryInfo(self._handle).used

    def _read_temperature_c(self) -> float:
        return self._pynvml.nvmlDeviceGetTemperature(self._handle, self._pynvml.NVML_TEMPERATURE_GPU)

    # -- Meter API ------------------------------------------------------------------------
    def open(self) -> None:
        self._handle = self._open_handle()
        if self._supports_total_energy():
            self.provenance = Provenance.COUNTER
            self.power_is_interval_mean = False
        else:
            logger.info("GPU %d has no total-energy counter; integrating sampled power instead", self.index)
            self.provenance = Provenance.SAMPLED
        self.method = "NVML energy counter" if self.provenance is Provenance.COUNTER else "NVML power"

    def read(self) -> Reading:
        extras = (
            self._extra("utilization_pct", self._read_utilization_pct),
            self._extra("memory_used_bytes", self._read_memory_used_bytes),
            self._extra("temperature_c", self._read_temperature_c),
        )
        if self.provenance is Provenance.COUNTER:
            return Reading(energy_j=self._read_total_energy_mj() / MJ_PER_J, extras=extras)
        return Reading(power_w=self._read_power_mw() / MW_PER_W, extras=extras)

    def _extra(self, field: str, read):
        """Side values are best effort: a GPU that cannot report one stops being asked."""
        if field in self._extras_broken:
            return None
        try:
            return read()
        except Exception as exc:  # noqa: BLE001 - vendor errors vary; the energy figure matters, not this
            logger.debug("GPU %d cannot report %s (%s); not logging it", self.index, field, exc)
            self._extras_broken.add(field)
            return None

    def close(self) -> None:
        self._close_handle()
        self._handle = None


def nvml_meters() -> list[NvmlMeter]:
    """One meter per GPU visible to CUDA; empty when NVML is unavailable."""
    probe = _probe_driver()
    if not probe.ok:
        return []
    return [NvmlMeter(i) for i in visible_gpu_indices(len(probe.uuids), list(probe.uuids))]
