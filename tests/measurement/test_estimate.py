"""The CodeCarbon-based estimate, which is what runs on machines without sensors (this one)."""

from __future__ import annotations

import csv
import logging
import os
import time

import pytest

from mlel.measurement import Provenance, Sampler
from mlel.measurement.estimate import (
    DEFAULT_POWER_PER_THREAD_W,
    EstimatedCpuMeter,
    EstimatedRamMeter,
    _idle_fraction_from_uptime,
    cpu_power_w,
    cpu_tdp,
    ram_power_w,
    read_cpu_model,
)


@pytest.mark.parametrize("load, expected_w", [(0.0, 10.0), (0.5, 21.25), (1.0, 100.0), (1.7, 100.0), (-0.2, 10.0)])
def test_cpu_power_follows_codecarbons_load_model(load, expected_w):
    assert cpu_power_w(100.0, load) == pytest.approx(expected_w)


def test_cpu_power_model_agrees_with_codecarbon_itself():
    """Same numbers as CodeCarbon's own CPU class in cpu_load machine mode."""
    from codecarbon.external.hardware import CPU

    class FixedLoad:
        def percent(self):
            return 37.0

    cc = CPU(output_dir=".", mode="cpu_load", model="Test CPU", tdp=120, tracking_mode="machine")
    cc._cpu_load_meter = FixedLoad()
    assert cpu_power_w(120.0, 0.37) == pytest.approx(cc._get_power_from_cpu_load().W)


def test_known_cpu_uses_codecarbons_table():
    tdp = cpu_tdp("Intel(R) Core(TM) i7-8700K CPU @ 3.70GHz", 12, 1)
    assert tdp.tdp_w == 95.0 and not tdp.is_default
    assert "Intel Core i7-8700K" in tdp.source
    assert cpu_tdp("Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz", 64, 2).tdp_w == 600.0  # per socket x 2


def test_unknown_cpu_gets_the_documented_default_and_says_so(caplog):
    with caplog.at_level(logging.WARNING, logger="mlel.measurement.estimate"):
        tdp = cpu_tdp("Quantum Abacus 9000 (test)", 6, 1)
    assert tdp.is_default and tdp.tdp_w == DEFAULT_POWER_PER_THREAD_W * 6
    assert any("Quantum Abacus 9000" in r.message for r in caplog.records)


@pytest.mark.parametrize("gib, watts", [(8, 10.0), (16, 10.0), (24, 20.0), (64, 20.0), (256, 38.0)])
def test_ram_model_is_codecarbons(gib, watts):
    assert ram_power_w(gib * 1024**3, arm=False) == pytest.approx(watts)


def test_load_from_proc_uptime_agrees_with_psutil():
    """The cheap /proc/uptime reading and psutil's /proc/stat figure describe the same interval."""
    import psutil

    if not os.path.exists("/proc/uptime"):
        pytest.skip("Linux only: elsewhere the meter uses psutil itself")
    assert _idle_fraction_from_uptime(b"934.02 1042.62\n") == (934.02, 1042.62)
    meter = EstimatedCpuMeter(tdp_w=100.0)
    meter.open()
    try:
        psutil.cpu_percent()
        deadline = time.perf_counter() + 0.6
        while time.perf_counter() < deadline:
            sum(range(1000))
        load_pct = meter.read().extras[0]
        reference_pct = psutil.cpu_percent()
    finally:
        meter.close()
    assert abs(load_pct - reference_pct) < 15  # same counters; 10 ms ticks and I/O wait differ


def test_estimate_on_this_machine(tmp_path):
    """Real meters, real /proc: busy work costs more than idling, and both stay in the model's range."""
    cpu, ram = EstimatedCpuMeter(), EstimatedRamMeter()
    with Sampler([cpu, ram], interval_s=0.1, log_dir=tmp_path) as sampler:
        with sampler.window() as idle:
            time.sleep(0.5)
        with sampler.window() as busy:
            deadline = time.perf_counter() + 0.5
            while time.perf_counter() < deadline:
                sum(range(1000))
    tdp_w = cpu.tdp_w
    assert read_cpu_model() in cpu.tdp.cpu_model
    for w in (idle, busy):
        energy = {m.meter: m for m in w.result.meters}
        assert set(energy) == {"estimate:cpu", "estimate:ram"}
        assert all(m.provenance is Provenance.ESTIMATE for m in energy.values())
        mean_cpu_w = energy["estimate:cpu"].energy_j / w.result.duration_s
        assert 0.1 * tdp_w * 0.999 <= mean_cpu_w <= tdp_w * 1.001
        assert energy["estimate:ram"].energy_j == pytest.approx(ram.power_w * w.result.duration_s, rel=1e-9)
        assert w.result.provenance_text() == "estimated: CPU (CodeCarbon TDP x load) + RAM (CodeCarbon RAM model)"
    # at least one core busy (others may share the machine and keep "idle" busy too)
    busy_cpu_w = busy.result.meters[0].energy_j / busy.result.duration_s
    assert busy_cpu_w >= cpu_power_w(tdp_w, 0.5 / (os.cpu_count() or 1))
    with open(tmp_path / "estimate_cpu.csv", newline="") as f:
        loads = [float(r["cpu_load_pct"]) for r in csv.DictReader(f)]
    assert loads and all(0.0 <= x <= 100.0 for x in loads) and max(loads) >= 100.0 / (os.cpu_count() or 1) * 0.5
    with open(tmp_path / "estimate_ram.csv", newline="") as f:
        used = [int(r["memory_used_bytes"]) for r in csv.DictReader(f)]
    assert all(0 < u <= ram.memory_bytes for u in used)


def test_given_tdp_is_used_as_is():
    meter = EstimatedCpuMeter(tdp_w=42.0)
    meter.open()
    try:
        assert meter.tdp_w == 42.0 and "given" in meter.tdp.source
        assert 4.2 <= meter.read().power_w <= 42.0
    finally:
        meter.close()
