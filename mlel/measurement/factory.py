"""Find the power meters that work on this machine.

Order (each later step only fills what the earlier ones left unmeasured):

1. **NVML**: one meter per NVIDIA GPU visible to CUDA (``CUDA_VISIBLE_DEVICES``). GPUs are
   measured for ``device="cpu"`` too, because an idle GPU still draws power during a CPU run;
   ``device="cuda"`` additionally *requires* one, and raises
   :class:`~mlel.errors.HardwareUnavailableError` with a hint when there is none.
2. **RAPL**: CPU package and DRAM counters from ``/sys/class/powercap``. Unreadable counters
   (permission denied) give a :class:`~mlel.measurement.rapl.RaplPermissionWarning` with the fix.
3. **Estimate**: CodeCarbon's TDP x load model for the CPU when RAPL has no package zone, and its
   RAM model when RAPL has no DRAM zone.

The result is never empty: a machine without any sensor still gets the estimate.
"""

from __future__ import annotations

import logging
from pathlib import Path

from mlel.errors import HardwareUnavailableError, UserInputError, choices_message
from mlel.measurement.base import Availability, Meter
from mlel.measurement.estimate import EstimatedCpuMeter, EstimatedRamMeter, estimate_availability
from mlel.measurement.nvml import nvml_availability, nvml_meters
from mlel.measurement.rapl import DEFAULT_POWERCAP_ROOT, rapl_availability, rapl_meters

logger = logging.getLogger(__name__)

DEVICES = ("cpu", "cuda")


def discover_meters(device: str = "cpu", *, powercap_root: Path | str = DEFAULT_POWERCAP_ROOT, use_gpus: bool = True) -> list[Meter]:
    """Meters for this machine, in the documented order. The meters are not opened yet:
    the :class:`~mlel.measurement.sampler.Sampler` opens and closes them."""
    if device not in DEVICES:
        raise UserInputError(choices_message("device", device, DEVICES))
    meters: list[Meter] = []
    if use_gpus or device == "cuda":
        meters.extend(nvml_meters())
    if device == "cuda" and not meters:
        raise HardwareUnavailableError(
            f"--device cuda needs an NVIDIA GPU visible through NVML, but {nvml_availability().reason}; "
            "use --device cpu, or check `nvidia-smi` and CUDA_VISIBLE_DEVICES"
        )
    rapl = rapl_meters(Path(powercap_root))
    meters.extend(rapl)
    components = {m.component for m in rapl}
    if "cpu" not in components:
        meters.append(EstimatedCpuMeter())
    if "ram" not in components:
        meters.append(EstimatedRamMeter())
    logger.info("power meters: %s", ", ".join(m.name for m in meters))
    return meters


def backend_availability(powercap_root: Path | str = DEFAULT_POWERCAP_ROOT) -> dict[str, Availability]:
    """Per backend, in discovery order: does it work here, and why not (for ``python -m mlel.env``)."""
    return {
        "NVML": nvml_availability(),
        "RAPL": rapl_availability(Path(powercap_root)),
        "Estimate": estimate_availability(),
    }
