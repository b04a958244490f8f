"""NVML backend with a fake GPU (a subclass of the real meter): counter and sampled-power
integration against the analytic energy, side values, CUDA_VISIBLE_DEVICES."""

from __future__ import annotations

import pytest

from mlel.measurement import Provenance, Sampler
from mlel.measurement.nvml import visible_gpu_indices

from .fakes import FakeClock, FakeNvmlLibrary, FakeNvmlMeter, LibraryNvmlMeter, SinePower


def run_scripted_window(meter, clock, dt_s=0.05, before_s=0.73, window_s=7.31):
    """Sample every ``dt_s``; open the window between two samples and close it between two
    others, so the partial intervals at both edges matter."""
    sampler = Sampler([meter], interval_s=dt_s, clock=clock).start(background=False)
    try:
        for _ in range(int(before_s / dt_s)):
            clock.advance(dt_s)
            sampler.sample()
        clock.advance(dt_s / 3)
        token = sampler.begin()
        t_begin = clock()
        steps = int(window_s / dt_s)
        for _ in range(steps):
            clock.advance(dt_s)
            sampler.sample()
        clock.advance(dt_s / 2)
        result = sampler.end(token)
        t_end = clock()
    finally:
        sampler.stop()
    return result, t_begin, t_end, steps


@pytest.mark.parametrize("has_counter, provenance", [(True, Provenance.COUNTER), (False, Provenance.SAMPLED)])
def test_energy_matches_the_analytic_integral(has_counter, provenance):
    clock = FakeClock()
    power = SinePower(t0=clock())
    meter = FakeNvmlMeter(0, clock, power, has_energy_counter=has_counter)
    result, t_begin, t_end, steps = run_scripted_window(meter, clock)

    expected_j = power.energy_j(t_end) - power.energy_j(t_begin)
    (energy,) = result.meters
    assert energy.provenance is provenance
    assert energy.meter == "nvml:0" and energy.component == "gpu"
    assert energy.energy_j == pytest.approx(expected_j, rel=1e-3)
    assert result.duration_s == pytest.approx(t_end - t_begin)
    assert energy.samples == steps + 2  # every periodic sample plus both edges
    assert meter.closed


def test_counter_is_exact_between_samples():
    """A counter read at the edges does not depend on sample spacing: one coarse step is enough."""
    clock = FakeClock()
    power = SinePower(t0=clock(), period_s=0.7)
    meter = FakeNvmlMeter(0, clock, power, has_energy_counter=True)
    result, t_begin, t_end, _ = run_scripted_window(meter, clock, dt_s=2.0, before_s=2.0, window_s=6.0)
    expected_j = power.energy_j(t_end) - power.energy_j(t_begin)
    assert result.total_energy_j == pytest.approx(expected_j, abs=2e-3)  # NVML counts whole millijoules


def test_side_values_are_logged_and_broken_ones_dropped(tmp_path):
    clock = FakeClock()
    meter = FakeNvmlMeter(1, clock, SinePower(t0=clock()), has_energy_counter=False)
    with Sampler([meter], interval_s=0.1, log_dir=tmp_path, clock=clock).start(background=False) as sampler:
        for _ in range(3):
            clock.advance(0.1)
            sampler.sample()
    lines = (tmp_path / "nvml_1.csv").read_text().splitlines()
    assert lines[0] == "timestamp_s,elapsed_s,power_w,energy_j,utilization_pct,memory_used_bytes,temperature_c"
    last = lines[-1].split(",")
    assert last[4:] == ["87", str(3 * 1024**3), ""]  # no temperature sensor: empty, not a crash
    assert float(last[2]) == pytest.approx(meter.power.power_w(clock()), abs=1e-3)


@pytest.mark.parametrize(
    "spec, expected",
    [
        (None, [0, 1, 2, 3]),
        ("", []),
        ("2,0", [2, 0]),
        ("1,7,2", [1]),  # CUDA stops at the first invalid entry
        ("GPU-bbb", [1]),
        ("GPU-aaa1,GPU-ccc", [0, 2]),
        ("GPU-a", [0]),
        ("GPU-", []),  # ambiguous prefix
        ("0,0", [0]),
        ("-1", []),
    ],
)
def test_cuda_visible_devices(monkeypatch, spec, expected):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    uuids = ["GPU-aaa1", "GPU-bbb2", "GPU-ccc3", "GPU-ddd4"]
    if spec is None:
        assert visible_gpu_indices(4, uuids) == expected
    else:
        assert visible_gpu_indices(4, uuids, spec) == expected
        monkeypatch.setenv("CUDA_VISIBLE_DEVICES", spec)
        assert visible_gpu_indices(4, uuids) == expected


def test_no_driver_means_no_gpus_listed(monkeypatch):
    from mlel.measurement.nvml import nvml_availability, nvml_meters, visible_gpus

    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")  # also true on a GPU machine: all hidden
    assert visible_gpus() == [] and nvml_meters() == []
    assert not nvml_availability().available and nvml_availability().reason


def test_the_probe_finds_how_each_gpu_reports_energy_and_its_mig_slices():
    from mlel.measurement.nvml import COUNTER, POWER, probe_gpus

    library = FakeNvmlLibrary([
        {"uuid": "GPU-aaa1", "counter": True, "power": True},
        {"uuid": "GPU-bbb2", "power": True, "migs": []},                        # MIG-capable, MIG off
        {"uuid": "GPU-ccc3", "counter": True, "migs": ["MIG-m1", "MIG-m2"]},    # in MIG mode
        {"uuid": "GPU-ddd4"},                                                   # answers neither
    ])
    probe = probe_gpus(library)
    assert probe.ok and probe.energy == (COUNTER, POWER, COUNTER, "")
    assert probe.mig_uuids == ((), (), ("MIG-m1", "MIG-m2"), ())
    assert library.inits == library.shutdowns == 1
    # a MIG slice is measured as its whole GPU, in the new and the old spelling
    for spec in ("MIG-m2", "MIG-GPU-ccc3/1/0"):
        assert visible_gpu_indices(4, list(probe.uuids), spec, mig_uuids=list(probe.mig_uuids)) == [2], spec
    assert visible_gpu_indices(4, list(probe.uuids), "MIG-zzz", mig_uuids=list(probe.mig_uuids)) == []
    # a CUDA process uses one MIG device, the first listed: no other GPU is measured beside it
    assert visible_gpu_indices(4, list(probe.uuids), "MIG-m1,0,GPU-aaa1", mig_uuids=list(probe.mig_uuids)) == [2]


def test_meters_follow_the_probe(monkeypatch):
    from mlel.measurement import nvml

    library = FakeNvmlLibrary([{"uuid": "GPU-aaa1", "counter": True}, {"uuid": "GPU-bbb2", "power": True},
                               {"uuid": "GPU-ccc3", "counter": True, "migs": ["MIG-m1"]}, {"uuid": "GPU-ddd4"}])
    monkeypatch.setattr(nvml, "_probe_driver", lambda: nvml.probe_gpus(library))
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    meters = nvml.nvml_meters()  # the GPU that answers neither is left out
    assert [(m.index, m.provenance) for m in meters] == [(0, Provenance.COUNTER), (1, Provenance.SAMPLED),
                                                         (2, Provenance.COUNTER)]
    # python -m mlel.env describes them before any is opened
    assert meters[1].describe() == "nvml:1: GPU via NVML power (sampled power)"
    assert meters[2].describe() == "nvml:2: GPU via NVML energy counter, whole GPU of a MIG slice (hardware counter)"
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "MIG-m1")
    assert [m.index for m in nvml.nvml_meters()] == [2]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3")
    assert nvml.nvml_meters() == [] and "none reports energy or power" in nvml.nvml_availability().reason


def test_a_gpu_that_reports_nothing_cannot_open_and_nvml_is_shut_down_once():
    from mlel.errors import HardwareUnavailableError

    silent = FakeNvmlLibrary([{"uuid": "GPU-aaa1"}])
    meter = LibraryNvmlMeter(0, silent)
    with pytest.raises(HardwareUnavailableError, match="neither total energy nor power"):
        meter.open()
    assert silent.inits == silent.shutdowns == 1

    lost = FakeNvmlLibrary([{"uuid": "GPU-aaa1", "counter": True}], fail_handle=True)
    with pytest.raises(HardwareUnavailableError, match="GPU is lost"):
        LibraryNvmlMeter(0, lost).open()
    assert lost.inits == lost.shutdowns == 1

    fine = FakeNvmlLibrary([{"uuid": "GPU-aaa1", "power": True}])
    meter = LibraryNvmlMeter(0, fine)
    meter.open()
    assert meter.provenance is Provenance.SAMPLED and meter.read().power_w == 250.0
    meter.close()
    meter.close()
    assert fine.inits == fine.shutdowns == 1
