"""NVIDIA GPUs through NVML (``pynvml``, from the ``nvidia-ml-py`` package).

Energy comes from ``nvmlDeviceGetTotalEnergyConsumption`` (a hardware counter in mJ, Volta and
newer) where the GPU supports it, read at the window edges; otherwise ``nvmlDeviceGetPowerUsage``
(mW) is sampled and integrated with the trapezoid rule. Utilisation, memory in use and
temperature go to the power log beside each sample.

Which of the two a GPU offers is found when the driver is probed, so ``python -m mlel.env`` says
it before any run; a GPU that reports neither is left out with a warning. (Without the counter,
note that on Ampere and newer GPUs other than the A100 NVML's power reading is a one-second
average, so short bursts are smoothed; those GPUs all have the counter.)

Only GPUs visible to CUDA are measured: ``CUDA_VISIBLE_DEVICES`` may list indices or UUIDs
(``GPU-...``, prefixes allowed), and, as in CUDA, the list stops at the first entry that names
no device. Indices are NVML's (PCI bus order), i.e. what CUDA uses with
``CUDA_DEVICE_ORDER=PCI_BUS_ID``. A MIG slice (``MIG-<uuid>``, or the older
``MIG-GPU-<uuid>/<gi>/<ci>``) is measured as its whole GPU: NVML reports neither energy nor
power per slice, so the figure includes whatever else runs on that GPU, and its method says so.
As in CUDA, a process uses one MIG device, the first listed.

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


COUNTER, POWER = "counter", "power"  # what a GPU offers (``_DriverProbe.energy``); "" for neither


class _DriverProbe(NamedTuple):
    ok: bool
    reason: str
    uuids: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    memory_bytes: tuple[int, ...] = ()
    energy: tuple[str, ...] = ()                # per GPU: COUNTER, POWER or ""
    mig_uuids: tuple[tuple[str, ...], ...] = ()  # per GPU: the UUIDs of its MIG slices


@functools.lru_cache(maxsize=1)
def _probe_driver() -> _DriverProbe:
    """Probe the installed driver once. Cached: drivers do not come and go while a process runs.
    Which GPUs are *visible* is decided per call, from the environment."""
    try:
        import pynvml
    except ImportError:
        return _DriverProbe(False, "nvidia-ml-py (pynvml) is not installed")
    return probe_gpus(pynvml)


def probe_gpus(nvml) -> _DriverProbe:
    """Initialise NVML (the ``pynvml`` module, or a fake of it in tests) and list every GPU:
    name, memory, how its energy can be read, its MIG slices."""
    try:
        nvml.nvmlInit()
    except nvml.NVMLError_LibraryNotFound:
        return _DriverProbe(False, "no NVIDIA driver (libnvidia-ml.so not found)")
    except nvml.NVMLError as exc:
        return _DriverProbe(False, f"NVML could not start: {exc}")
    try:
        count = nvml.nvmlDeviceGetCount()
        if count == 0:
            return _DriverProbe(False, "NVIDIA driver loaded but no GPU found")
        handles = [nvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
        uuids = tuple(_decode(nvml.nvmlDeviceGetUUID(h)) for h in handles)
        names = tuple(_decode(nvml.nvmlDeviceGetName(h)) for h in handles)
        memory = tuple(int(nvml.nvmlDeviceGetMemoryInfo(h).total) for h in handles)
        energy = tuple(_energy_source(nvml, h) for h in handles)
        migs = tuple(_mig_uuids(nvml, h) for h in handles)
        return _DriverProbe(True, f"{count} GPU(s)", uuids, names, memory, energy, migs)
    except nvml.NVMLError as exc:
        return _DriverProbe(False, f"NVML error while listing GPUs: {exc}")
    finally:
        try:
            nvml.nvmlShutdown()
        except nvml.NVMLError:
            pass


def _energy_source(nvml, handle) -> str:
    """COUNTER where the total-energy counter answers (Volta and newer), else POWER where the
    power reading does, else ""."""
    for source, read in ((COUNTER, nvml.nvmlDeviceGetTotalEnergyConsumption), (POWER, nvml.nvmlDeviceGetPowerUsage)):
        try:
            read(handle)
            return source
        except nvml.NVMLError:
            continue
    return ""


def _mig_uuids(nvml, handle) -> tuple[str, ...]:
    """UUIDs of the MIG slices of a GPU in MIG mode; () otherwise or where the driver cannot say."""
    try:
        current, _pending = nvml.nvmlDeviceGetMigMode(handle)
        if current != nvml.NVML_DEVICE_MIG_ENABLE:
            return ()
        slots = nvml.nvmlDeviceGetMaxMigDeviceCount(handle)
    except nvml.NVMLError:  # not a MIG-capable GPU, or an older driver
        return ()
    found = []
    for slot in range(slots):
        try:
            found.append(_decode(nvml.nvmlDeviceGetUUID(nvml.nvmlDeviceGetMigDeviceHandleByIndex(handle, slot))))
        except nvml.NVMLError:  # an unused slot
            continue
    return tuple(found)


def nvml_availability() -> Availability:
    """Does NVML work and see at least one GPU visible to CUDA?"""
    probe = _probe_driver()
    if not probe.ok:
        return Availability(False, probe.reason)
    visible = _visible(probe)
    if not visible:
        return Availability(False, f"CUDA_VISIBLE_DEVICES={os.environ.get('CUDA_VISIBLE_DEVICES')!r} hides all {len(probe.uuids)} GPUs")
    measurable = [i for i in visible if probe.energy[i]]
    if not measurable:
        return Availability(False, f"{len(visible)} GPU(s), but none reports energy or power through NVML")
    return Availability(True, f"{len(measurable)} GPU(s): " + ", ".join(f"{i}: {probe.names[i]}" for i in measurable))


def _visible(probe: _DriverProbe) -> list[int]:
    return visible_gpu_indices(len(probe.uuids), list(probe.uuids), mig_uuids=list(probe.mig_uuids))


def visible_gpus() -> list[dict]:
    """GPUs visible to CUDA as ``{"index", "name", "memory_bytes", "uuid"}`` (the platform.json
    record); empty without a usable NVIDIA driver."""
    probe = _probe_driver()
    if not probe.ok:
        return []
    return [
        {"index": i, "name": probe.names[i], "memory_bytes": probe.memory_bytes[i], "uuid": probe.uuids[i]}
        for i in _visible(probe)
    ]


def _decode(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def visible_gpu_indices(count: int, uuids: list[str], cuda_visible_devices: str | None = None,
                        mig_uuids: list[tuple[str, ...]] | None = None) -> list[int]:
    """NVML indices of the GPUs CUDA would use, following ``CUDA_VISIBLE_DEVICES``; a MIG slice
    counts as its whole GPU (``mig_uuids``: per GPU, the UUIDs of its slices).

    ``cuda_visible_devices`` defaults to the environment variable; unset means all GPUs.
    """
    spec = os.environ.get("CUDA_VISIBLE_DEVICES") if cuda_visible_devices is None else cuda_visible_devices
    if spec is None:
        return list(range(count))
    migs = list(mig_uuids or [()] * count)
    visible: list[int] = []
    for entry in (e.strip() for e in spec.split(",")):
        if entry.isdigit() and int(entry) < count:
            index = int(entry)
        elif entry.startswith("GPU-") or entry.startswith("MIG-GPU-"):
            parent = entry.removeprefix("MIG-").split("/")[0]  # MIG-GPU-<uuid>/<gi>/<ci>: the slice's GPU
            matches = [i for i, u in enumerate(uuids) if u.startswith(parent)]
            if len(matches) != 1:
                break
            index = matches[0]
        elif entry.startswith("MIG-"):
            matches = [i for i, slices in enumerate(migs) if any(u.startswith(entry) for u in slices)]
            if len(matches) != 1:
                break
            index = matches[0]
        else:
            break  # CUDA ignores everything after the first invalid entry
        if index in visible:
            break
        visible.append(index)
        if entry.startswith("MIG-"):
            break  # a CUDA process uses one MIG device: the first one listed
    return visible


class NvmlMeter(Meter):
    """One NVIDIA GPU. ``open()`` decides between the energy counter and sampled power."""

    component = "gpu"
    method = "NVML"
    extra_fields = ("utilization_pct", "memory_used_bytes", "temperature_c")

    def __init__(self, index: int, energy: str = COUNTER, whole_gpu_of_mig: bool = False):
        """``energy``: what the driver probe found, COUNTER or POWER (``open`` checks it again);
        ``whole_gpu_of_mig``: the GPU is in MIG mode, so CUDA runs on a slice and the whole GPU is measured."""
        self.index = index
        self.name = f"nvml:{index}"
        self.whole_gpu_of_mig = whole_gpu_of_mig
        self._set_source(energy == COUNTER)
        self._handle = None
        self._pynvml = None
        self._extras_broken: set[str] = set()

    def _set_source(self, counter: bool) -> None:
        self.provenance = Provenance.COUNTER if counter else Provenance.SAMPLED
        self.method = "NVML energy counter" if counter else "NVML power"
        if self.whole_gpu_of_mig:
            self.method += ", whole GPU of a MIG slice"

    # -- raw reads: the only methods that talk to NVML; tests override these ----------------
    def _library(self):
        import pynvml

        return pynvml

    def _open_handle(self):
        pynvml = self._library()
        try:
            pynvml.nvmlInit()
        except pynvml.NVMLError as exc:
            raise HardwareUnavailableError(f"NVML cannot open GPU {self.index}: {exc}") from exc
        self._pynvml = pynvml  # initialised: close() shuts it down, once
        try:
            return pynvml.nvmlDeviceGetHandleByIndex(self.index)
        except pynvml.NVMLError as exc:
            self._close_handle()
            raise HardwareUnavailableError(f"NVML cannot open GPU {self.index}: {exc}") from exc

    def _close_handle(self) -> None:
        if self._pynvml is not None:
            try:
                self._pynvml.nvmlShutdown()
            except self._pynvml.NVMLError:
                pass
            self._pynvml = None  # NVML counts inits: a second shutdown would undo another meter's

    def _supports_total_energy(self) -> bool:
        return self._answers(self._read_total_energy_mj)

    def _supports_power(self) -> bool:
        return self._answers(self._read_power_mw)

    def _answers(self, read) -> bool:
        try:
            read()
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
            self._set_source(counter=True)
        elif self._supports_power():
            logger.info("GPU %d has no total-energy counter; integrating sampled power instead", self.index)
            self._set_source(counter=False)
        else:
            self.close()
            raise HardwareUnavailableError(f"GPU {self.index} reports neither total energy nor power through NVML")

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
    meters = []
    for i in _visible(probe):
        if not probe.energy[i]:
            logger.warning("GPU %d (%s) reports neither energy nor power through NVML: not measured", i, probe.names[i])
            continue
        meters.append(NvmlMeter(i, probe.energy[i], whole_gpu_of_mig=bool(probe.mig_uuids[i])))
    return meters
