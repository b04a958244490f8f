"""RAPL backend: a scripted counter that wraps around, and a temporary tree laid out like
/sys/class/powercap."""

from __future__ import annotations

import warnings

import pytest

from mlel.measurement import Provenance, Sampler
from mlel.measurement import rapl
from mlel.measurement.rapl import RaplMeter, RaplPermissionWarning, find_rapl_zones, rapl_availability, rapl_meters

from .fakes import FakeClock, ScriptedRaplMeter, make_powercap_tree

MAX_RANGE_UJ = 262_143_328_850


def test_wraparound_is_unwrapped_to_the_analytic_energy():
    clock = FakeClock()
    power_w = 173.0
    # 5 J below the wrap point: at 173 W the counter wraps 29 ms into the run
    meter = ScriptedRaplMeter(clock, power_w, start_uj=MAX_RANGE_UJ - 5_000_000, max_range_uj=MAX_RANGE_UJ)
    sampler = Sampler([meter], interval_s=0.1, clock=clock).start(background=False)
    clock.advance(0.01)
    token = sampler.begin()
    for _ in range(30):
        clock.advance(0.1)
        sampler.sample()
    clock.advance(0.042)
    result = sampler.end(token)
    sampler.stop()

    assert any(b < a for a, b in zip(meter.raw_values, meter.raw_values[1:])), "the script must wrap"
    (energy,) = result.meters
    assert energy.provenance is Provenance.COUNTER
    assert energy.energy_j == pytest.approx(power_w * result.duration_s, rel=1e-3)
    assert result.duration_s == pytest.approx(3.042)


def test_zones_from_a_powercap_tree(tmp_path):
    root = make_powercap_tree(tmp_path / "powercap")
    zones = find_rapl_zones(root)
    assert [(z.label, z.component) for z in zones] == [("package-0", "cpu"), ("dram-0", "ram")]
    assert rapl_availability(root).available
    assert [m.name for m in rapl_meters(root)] == ["rapl:package-0", "rapl:dram-0"]


def test_counter_files_with_a_wrap(tmp_path):
    """The real file-reading path: rewrite energy_uj between samples, wrapping once."""
    max_range = 10_000_000
    root = make_powercap_tree(tmp_path / "powercap", package_uj=9_000_000, max_range_uj=max_range)
    energy_file = root / "intel-rapl:0" / "energy_uj"
    clock = FakeClock()
    (package,) = [m for m in rapl_meters(root) if m.component == "cpu"]
    sampler = Sampler([package], interval_s=1.0, clock=clock).start(background=False)
    token = sampler.begin()
    # +0.5 J, +0.7 J (wraps: 9.5 J -> 0.2 J), +1.3 J
    for raw in (9_500_000, 200_000, 1_500_000):
        clock.advance(1.0)
        energy_file.write_text(f"{raw}\n")
        sampler.sample()
    result = sampler.end(token)
    sampler.stop()
    assert result.total_energy_j == pytest.approx(2.5, abs=1e-9)


def test_permission_denied_warns_with_the_fix(tmp_path, monkeypatch):
    root = make_powercap_tree(tmp_path / "powercap")

    def denied(path):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(rapl, "_probe_read", denied)
    status = rapl_availability(root)
    assert not status.available and "sudo chmod" in status.reason
    with pytest.warns(RaplPermissionWarning, match="sudo chmod a\\+r"):
        assert rapl_meters(root) == []


@pytest.mark.parametrize("make, reason", [(lambda p: p / "missing", "not present"), (lambda p: p, "no intel-rapl")])
def test_unavailable_reasons(tmp_path, make, reason):
    status = rapl_availability(make(tmp_path))
    assert not status.available and reason in status.reason
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # absence is not worth a warning, only a debug line
        assert rapl_meters(make(tmp_path)) == []


def test_meter_is_a_counter():
    meter = RaplMeter(rapl.RaplZone(rapl.DEFAULT_POWERCAP_ROOT / "intel-rapl:0", "package-0", "cpu"))
    assert meter.is_counter and meter.name == "rapl:package-0" and meter.method == "RAPL"
