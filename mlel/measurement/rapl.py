"""CPU package and DRAM energy through Linux powercap RAPL counters.

Reads ``<root>/intel-rapl:<p>/energy_uj`` (package ``p``) and its ``dram`` sub-zone, the same
files pyRAPL and CodeCarbon read; AMD CPUs expose them under the same names on recent kernels.
``psys`` (whole platform) and ``core``/``uncore`` (parts of a package) are skipped so nothing
is counted twice. Counters are cumulative microjoules that wrap at ``max_energy_range_uj``; the
meter unwraps them, which only needs one read per wrap period (minutes at full load), and the
sampler reads far more often.

Since Linux 5.10 the counters are readable by root only; a permission error gives a
:class:`RaplPermissionWarning` naming the fix, and the factory falls back to the estimate.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

from mlel.measurement.base import Availability, Meter, Reading
from mlel.measurement.provenance import Provenance

logger = logging.getLogger(__name__)

DEFAULT_POWERCAP_ROOT = Path("/sys/class/powercap")
UJ_PER_J = 1e6
PERMISSION_FIX = "sudo chmod a+r /sys/class/powercap/intel-rapl:*/energy_uj /sys/class/powercap/intel-rapl:*/intel-rapl:*/energy_uj"

_ZONE_DIR = re.compile(r"^intel-rapl:(\d+)(?::(\d+))?$")


class RaplPermissionWarning(UserWarning):
    """RAPL counters exist but this user may not read them (root-only since Linux 5.10)."""


@dataclass(frozen=True)
class RaplZone:
    path: Path
    label: str      # "package-0", "dram-0"
    component: str  # "cpu" | "ram"


def find_rapl_zones(root: Path = DEFAULT_POWERCAP_ROOT) -> list[RaplZone]:
    """Package and DRAM zones under ``root``, sorted; raises nothing (missing root -> [])."""
    root = Path(root)
    if not root.is_dir():
        return []
    zones: list[RaplZone] = []
    for entry in sorted(root.iterdir()):
        match = _ZONE_DIR.match(entry.name)
        if not match:
            continue
        try:
            name = (entry / "name").read_text().strip()
        except OSError:
            continue
        package = match.group(1)
        if match.group(2) is None and name.startswith("package"):
            zones.append(RaplZone(entry, name, "cpu"))
        elif match.group(2) is not None and name == "dram":
            zones.append(RaplZone(entry, f"dram-{package}", "ram"))
    return zones


def _probe_read(path: Path) -> bytes:
    """One read of a counter file; its own function so tests can simulate a non-root user
    (root, which tests often run as, reads files whatever their mode)."""
    return path.read_bytes()


def rapl_availability(root: Path = DEFAULT_POWERCAP_ROOT) -> Availability:
    root = Path(root)
    if not root.is_dir():
        return Availability(False, f"{root} not present (no powercap in this kernel or container)")
    zones = find_rapl_zones(root)
    if not zones:
        return Availability(False, f"no intel-rapl package zones under {root} (CPU, VM or kernel without RAPL)")
    for zone in zones:
        try:
            _probe_read(zone.path / "energy_uj")
        except PermissionError:
            return Availability(False, f"permission denied reading {zone.path / 'energy_uj'}; fix: {PERMISSION_FIX}")
        except OSError as exc:
            return Availability(False, f"cannot read {zone.path / 'energy_uj'}: {exc}")
    return Availability(True, ", ".join(z.label for z in zones))


MAX_ZONE_POWER_W = 1000.0  # above any CPU package or DRAM zone's draw: bounds how fast a counter can wrap


class RaplMeter(Meter):
    """One RAPL zone (a CPU package or its DRAM) as an unwrapped energy counter."""

    provenance = Provenance.COUNTER
    method = "RAPL"

    def __init__(self, zone: RaplZone):
        self.zone = zone
        self.name = f"rapl:{zone.label}"
        self.component = zone.component
        self._fd: int | None = None
        self._max_energy_range_uj = 0
        self._last_uj: int | None = None
        self._total_uj = 0

    # -- raw reads: tests script these or point the zone at a temporary tree ---------------
    def _open_counter(self) -> None:
        self._fd = os.open(self.zone.path / "energy_uj", os.O_RDONLY)

    def _close_counter(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _read_max_energy_range_uj(self) -> int:
        return int((self.zone.path / "max_energy_range_uj").read_text())

    def _read_energy_uj(self) -> int:
        # one pread on a descriptor kept open: a third of the cost of open/read/close
        return int(os.pread(self._fd, 32, 0))

    # -- Meter API ------------------------------------------------------------------------
    def open(self) -> None:
        self._max_energy_range_uj = self._read_max_energy_range_uj()
        # read() undoes one wrap between reads, so reads must come before a second one could:
        # at MAX_ZONE_POWER_W the counter wraps every range / power seconds; read twice as often
        self.max_read_interval_s = self._max_energy_range_uj / UJ_PER_J / MAX_ZONE_POWER_W / 2
        self._open_counter()
        self._last_uj = self._read_energy_uj()
        self._total_uj = 0

    def read(self) -> Reading:
        raw = self._read_energy_uj()
        delta = raw - self._last_uj
        if delta < 0:  # the counter wrapped past max_energy_range_uj back to 0
            delta += self._max_energy_range_uj
        self._last_uj = raw
        self._total_uj += delta
        return Reading(energy_j=self._total_uj / UJ_PER_J)

    def close(self) -> None:
        self._close_counter()


def rapl_meters(root: Path = DEFAULT_POWERCAP_ROOT) -> list[RaplMeter]:
    """Meters for every readable package/DRAM zone; [] (with a warning on permission errors)
    when RAPL cannot be used."""
    import warnings

    status = rapl_availability(root)
    if not status.available:
        if "permission denied" in status.reason:
            warnings.warn(f"RAPL energy counters are not readable, using the estimate instead: {status.reason}", RaplPermissionWarning, stacklevel=2)
        else:
            logger.debug("RAPL unavailable: %s", status.reason)
        return []
    return [RaplMeter(z) for z in find_rapl_zones(root)]
