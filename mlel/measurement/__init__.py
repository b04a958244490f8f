"""Power and energy measurement: meters (NVML, RAPL, CodeCarbon estimate), a background sampler
with streamed CSV logs and measurement windows, and carbon from energy.

```python
meters = discover_meters(device="cpu")
with Sampler(meters, interval_s=0.5, log_dir=folder / "power") as sampler:
    sampler.measure_baseline(5)          # optional: idle power -> net energy
    with sampler.window() as w:
        ...work...
measurement = w.result                   # frozen; energy per meter with provenance
```

Importing this package touches no hardware and reads no file.
"""

from mlel.measurement.base import Availability, Meter, Reading
from mlel.measurement.factory import backend_availability, discover_meters
from mlel.measurement.provenance import Provenance
from mlel.measurement.records import Measurement, MeterEnergy
from mlel.measurement.sampler import Sampler, Window, WindowToken, log_file_name

__all__ = [
    "Availability",
    "Measurement",
    "Meter",
    "MeterEnergy",
    "Provenance",
    "Reading",
    "Sampler",
    "Window",
    "WindowToken",
    "backend_availability",
    "discover_meters",
    "log_file_name",
]
