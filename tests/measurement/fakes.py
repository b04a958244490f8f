"""Fake hardware for the measurement tests: subclasses of the real backends, driven by a
clock the test controls, so integrals can be checked against analytic values."""

from __future__ import annotations

import math
from pathlib import Path

from mlel.measurement.base import Meter, Reading
from mlel.measurement.nvml import NvmlMeter
from mlel.measurement.provenance import Provenance
from mlel.measurement.rapl import RaplMeter, RaplZone


class FakeClock:
    """Monotonic seconds that only move when the test says so."""

    def __init__(self, t: float = 1000.0):
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, dt: float) -> None:
        self.t += dt


class SinePower:
    """P(t) = base + amplitude * sin(2 pi (t - t0) / period), with its exact integral."""

    def __init__(self, t0: float, base_w: float = 200.0, amplitude_w: float = 80.0, period_s: float = 3.0):
        self.t0, self.base_w, self.amplitude_w, self.period_s = t0, base_w, amplitude_w, period_s

    def power_w(self, t: float) -> float:
        return self.base_w + self.amplitude_w * math.sin(2 * math.pi * (t - self.t0) / self.period_s)

    def energy_j(self, t: float) -> float:
        """Integral of P from t0 to t."""
        w = 2 * math.pi / self.period_s
        x = t - self.t0
        return self.base_w * x + self.amplitude_w / w * (1 - math.cos(w * x))


class FakeNvmlMeter(NvmlMeter):
    """The real NVML backend with its raw reads replaced by a scripted GPU."""

    def __init__(self, index: int, clock, power: SinePower, has_energy_counter: bool = True):
        super().__init__(index)
        self.clock, self.power, self.has_energy_counter = clock, power, has_energy_counter
        self.closed = False

    def _open_handle(self):
        return f"fake-handle-{self.index}"

    def _close_handle(self) -> None:
        self.closed = True

    def _supports_total_energy(self) -> bool:
        return self.has_energy_counter

    def _read_total_energy_mj(self) -> float:
        # NVML's counter is an integer number of millijoules since the driver loaded
        return int(1_000_000_000 + 1000 * self.power.energy_j(self.clock()))

    def _read_power_mw(self) -> float:
        return int(1000 * self.power.power_w(self.clock()))

    def _read_utilization_pct(self) -> float:
        return 87

    def _read_memory_used_bytes(self) -> int:
        return 3 * 1024**3

    def _read_temperature_c(self) -> float:
        raise RuntimeError("this fake GPU has no temperature sensor")


class FakeNvmlLibrary:
    """A stand-in for the ``pynvml`` module: GPUs described by what they answer, and a count of
    nvmlInit/nvmlShutdown calls (NVML counts them; each init needs its shutdown)."""

    class NVMLError(Exception):
        pass

    class NVMLError_LibraryNotFound(NVMLError):
        pass

    NVML_DEVICE_MIG_ENABLE = 1

    def __init__(self, gpus: list[dict], fail_handle: bool = False):
        """``gpus``: per GPU, ``{"uuid", "counter": bool, "power": bool, "migs": [uuids]}``."""
        self.gpus, self.fail_handle = gpus, fail_handle
        self.inits = self.shutdowns = 0

    def nvmlInit(self):
        self.inits += 1

    def nvmlShutdown(self):
        self.shutdowns += 1

    def nvmlDeviceGetCount(self):
        return len(self.gpus)

    def nvmlDeviceGetHandleByIndex(self, i):
        if self.fail_handle:
            raise self.NVMLError("GPU is lost")
        return ("gpu", i)

    def _gpu(self, handle):
        return self.gpus[handle[1]]

    def nvmlDeviceGetUUID(self, handle):
        if handle[0] == "mig":
            return self._gpu(handle)["migs"][handle[2]].encode()
        return self._gpu(handle)["uuid"].encode()

    def nvmlDeviceGetName(self, handle):
        return b"Fake GPU"

    def nvmlDeviceGetMemoryInfo(self, handle):
        from types import SimpleNamespace

        return SimpleNamespace(total=80 * 1024**3, used=0)

    def nvmlDeviceGetTotalEnergyConsumption(self, handle):
        if not self._gpu(handle).get("counter"):
            raise self.NVMLError("Not Supported")
        return 1_000_000

    def nvmlDeviceGetPowerUsage(self, handle):
        if not self._gpu(handle).get("power"):
            raise self.NVMLError("Not Supported")
        return 250_000

    def nvmlDeviceGetMigMode(self, handle):
        if "migs" not in self._gpu(handle):
            raise self.NVMLError("Not Supported")
        return [int(bool(self._gpu(handle)["migs"])), 0]

    def nvmlDeviceGetMaxMigDeviceCount(self, handle):
        return 7

    def nvmlDeviceGetMigDeviceHandleByIndex(self, handle, slot):
        if slot >= len(self._gpu(handle)["migs"]):
            raise self.NVMLError("Not Found")
        return ("mig", handle[1], slot)


class LibraryNvmlMeter(NvmlMeter):
    """The real NVML meter talking to a :class:`FakeNvmlLibrary`."""

    def __init__(self, index: int, library: FakeNvmlLibrary):
        super().__init__(index)
        self.library = library

    def _library(self):
        return self.library


class ScriptedRaplMeter(RaplMeter):
    """The real RAPL backend reading a scripted counter: microjoules as a function of the clock,
    wrapping at ``max_range_uj`` like the hardware."""

    def __init__(self, clock, power_w: float, start_uj: int, max_range_uj: int):
        super().__init__(RaplZone(Path("/nonexistent/intel-rapl:0"), "package-0", "cpu"))
        self.clock, self.power_w, self.start_uj, self.max_range_uj = clock, power_w, start_uj, max_range_uj
        self.t0 = clock()
        self.raw_values: list[int] = []

    def _read_max_energy_range_uj(self) -> int:
        return self.max_range_uj

    def _open_counter(self) -> None:
        pass

    def _close_counter(self) -> None:
        pass

    def _read_energy_uj(self) -> int:
        raw = int(self.start_uj + self.power_w * (self.clock() - self.t0) * 1e6) % self.max_range_uj
        self.raw_values.append(raw)
        return raw


class SettablePowerMeter(Meter):
    """A power sensor whose reading the test sets; instantaneous (trapezoid rule)."""

    component = "gpu"
    provenance = Provenance.SAMPLED
    method = "test sensor"

    def __init__(self, name: str = "fake:0", power_w: float = 0.0):
        self.name = name
        self.power_w = power_w
        self.opened = self.closed = False

    def open(self) -> None:
        self.opened = True

    def read(self) -> Reading:
        return Reading(power_w=self.power_w)

    def close(self) -> None:
        self.closed = True


def make_powercap_tree(root: Path, package_uj: int = 1000, dram_uj: int = 500, max_range_uj: int = 262143328850) -> Path:
    """A directory laid out like /sys/class/powercap: one package with core and dram
    sub-zones, plus a psys zone that must be ignored."""
    zones = {
        "intel-rapl:0": ("package-0", package_uj),
        "intel-rapl:0:0": ("core", 1),
        "intel-rapl:0:1": ("dram", dram_uj),
        "intel-rapl:1": ("psys", 7),
    }
    (root / "intel-rapl").mkdir(parents=True)
    (root / "intel-rapl" / "enabled").write_text("1\n")
    for directory, (name, energy) in zones.items():
        zone = root / directory
        zone.mkdir()
        (zone / "name").write_text(name + "\n")
        (zone / "energy_uj").write_text(f"{energy}\n")
        (zone / "max_energy_range_uj").write_text(f"{max_range_uj}\n")
    return root
