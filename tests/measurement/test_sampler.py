"""The sampler: streamed CSV logs that survive SIGKILL, windows, idle baseline and net energy."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from mlel.errors import UserInputError
from mlel.measurement import Measurement, Provenance, Sampler
from mlel.measurement.sampler import log_file_name

from .fakes import FakeClock, SettablePowerMeter


def read_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_log_is_flushed_while_running(tmp_path):
    meter = SettablePowerMeter("fake:0", 42.0)
    with Sampler([meter], interval_s=0.1, log_dir=tmp_path / "power") as sampler:
        path = sampler.log_paths["fake:0"]
        assert path == tmp_path / "power" / "fake_0.csv"
        deadline = time.monotonic() + 5
        rows = []
        while time.monotonic() < deadline and len(rows) < 6:
            time.sleep(0.2)
            rows = read_rows(path)  # another reader sees the rows before stop()
        assert len(rows) >= 6
    rows = read_rows(path)
    assert list(rows[0]) == ["timestamp_s", "elapsed_s", "power_w", "energy_j"]
    elapsed = [float(r["elapsed_s"]) for r in rows]
    energy = [float(r["energy_j"]) for r in rows]
    assert elapsed == sorted(elapsed) and energy == sorted(energy)
    assert energy[0] == 0.0
    assert energy[-1] == pytest.approx(42.0 * (elapsed[-1] - elapsed[0]), abs=1e-4)
    assert abs(float(rows[0]["timestamp_s"]) - time.time()) < 60
    assert meter.opened and meter.closed


def test_killed_process_keeps_its_log(tmp_path):
    """A run killed with SIGKILL (no cleanup at all) leaves a CSV with its rows up to ~1 s before."""
    log_dir = tmp_path / "power"
    script = textwrap.dedent(
        f"""
        import sys, time
        from mlel.measurement.estimate import EstimatedCpuMeter, EstimatedRamMeter
        from mlel.measurement import Sampler
        sampler = Sampler([EstimatedCpuMeter(tdp_w=50.0), EstimatedRamMeter(power_w=6.0)], interval_s=0.1, log_dir={str(log_dir)!r})
        sampler.start()
        print("started", flush=True)
        time.sleep(60)
        """
    )
    env = dict(os.environ, PYTHONPATH=os.getcwd())
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    try:
        assert proc.stdout.readline().strip() == "started", proc.stderr.read()
        time.sleep(2.5)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    for name in ("estimate:cpu", "estimate:ram"):
        rows = read_rows(log_dir / log_file_name(name))
        # 2.5 s at 10 Hz is ~25 rows; at most the last second may be lost
        assert len(rows) >= 10, name
        assert float(rows[-1]["elapsed_s"]) >= 1.0
    ram_rows = read_rows(log_dir / "estimate_ram.csv")
    assert all(float(r["power_w"]) == 6.0 for r in ram_rows)
    assert int(ram_rows[-1]["memory_used_bytes"]) > 0


def test_baseline_gives_idle_power_and_net_energy():
    meter = SettablePowerMeter("fake:0", 50.0)
    with Sampler([meter], interval_s=0.05) as sampler:
        baseline = sampler.measure_baseline(0.3)
        assert baseline.duration_s == pytest.approx(0.3, abs=0.1)
        assert sampler.idle_power_w == {"fake:0": pytest.approx(50.0)}
        meter.power_w = 80.0  # the work starts: the next reading already sees it
        with sampler.window() as w:
            time.sleep(0.25)
    (energy,) = w.result.meters
    assert energy.idle_power_w == pytest.approx(50.0)
    assert energy.energy_j == pytest.approx(80.0 * w.result.duration_s, rel=1e-9)
    assert energy.net_energy_j == pytest.approx(30.0 * w.result.duration_s, rel=1e-9)
    assert w.result.total_net_energy_j == pytest.approx(energy.net_energy_j)


def test_without_baseline_net_energy_is_unknown():
    with Sampler([SettablePowerMeter("fake:0", 10.0)], interval_s=0.1) as sampler:
        assert sampler.measure_baseline(0) is None
        with sampler.window() as w:
            pass
    assert w.result.meters[0].net_energy_j is None and w.result.total_net_energy_j is None


def test_windows_are_additive_and_independent():
    """[a, b] + [b, c] == [a, c] whatever the sample times; overlapping windows coexist."""
    clock = FakeClock()
    meter = SettablePowerMeter("fake:0", 10.0)
    sampler = Sampler([meter], interval_s=0.1, clock=clock).start(background=False)
    outer = sampler.begin()
    parts: list[Measurement] = []
    for power_w, steps in ((10.0, 3), (35.0, 5), (12.5, 2)):
        token = sampler.begin()
        for _ in range(steps):
            meter.power_w = power_w
            clock.advance(0.137)
            sampler.sample()
        clock.advance(0.05)
        parts.append(sampler.end(token))
    whole = sampler.end(outer)
    sampler.stop()
    assert sum(p.total_energy_j for p in parts) == pytest.approx(whole.total_energy_j, rel=1e-12)
    assert sum(p.duration_s for p in parts) == pytest.approx(whole.duration_s, rel=1e-12)


def test_window_closes_when_the_work_raises():
    with Sampler([SettablePowerMeter()], interval_s=0.1) as sampler:
        calls = []
        with pytest.raises(ZeroDivisionError):
            with sampler.window(synchronize=lambda: calls.append("sync")) as w:
                1 / 0
    assert calls == ["sync", "sync"]
    assert w.result.duration_s >= 0 and w.result.meters[0].provenance is Provenance.SAMPLED


def test_result_is_not_available_inside_the_window():
    with Sampler([SettablePowerMeter()], interval_s=0.1) as sampler:
        with sampler.window() as w:
            with pytest.raises(RuntimeError, match="still open"):
                w.result


@pytest.mark.parametrize("interval", [0, -1, "fast", True, float("nan")])
def test_interval_is_validated(interval):
    with pytest.raises(UserInputError, match="'interval_s' parameter"):
        Sampler([SettablePowerMeter()], interval_s=interval).start()


def test_baseline_seconds_are_validated():
    with Sampler([SettablePowerMeter()], interval_s=0.1) as sampler:
        with pytest.raises(UserInputError, match="'baseline_s' parameter"):
            sampler.measure_baseline(-2)


def test_a_failing_meter_does_not_stop_the_others(caplog):
    class Flaky(SettablePowerMeter):
        def read(self):
            raise OSError("device lost")

    good = SettablePowerMeter("fake:good", 5.0)
    with Sampler([Flaky("fake:flaky"), good], interval_s=0.05) as sampler:
        with sampler.window() as w:
            time.sleep(0.2)
    by_name = {m.meter: m for m in w.result.meters}
    assert by_name["fake:good"].energy_j == pytest.approx(5.0 * w.result.duration_s, rel=1e-9)
    assert by_name["fake:flaky"].energy_j == 0.0
    assert sum("fake:flaky failed" in r.message for r in caplog.records) == 1  # said once, not per sample


def test_duplicate_meter_names_are_refused():
    with pytest.raises(ValueError, match="unique"):
        Sampler([SettablePowerMeter("x"), SettablePowerMeter("x")]).start()


def test_a_stopped_sampler_can_start_again(tmp_path):
    meter = SettablePowerMeter("fake:0", 3.0)
    sampler = Sampler([meter], interval_s=0.05, log_dir=tmp_path)
    for _ in range(2):
        with sampler:
            with sampler.window() as w:
                time.sleep(0.1)
        assert w.result.total_energy_j == pytest.approx(3.0 * w.result.duration_s, rel=1e-9)
        assert sampler._thread is None
    assert len(read_rows(tmp_path / "fake_0.csv")) >= 3  # the second run rewrote the log


def test_per_repeat_is_one_repetitions_share_of_a_window():
    meter = SettablePowerMeter("fake:0", 50.0)
    with Sampler([meter], interval_s=0.05) as sampler:
        sampler.measure_baseline(0.2)
        meter.power_w = 80.0
        with sampler.window() as w:
            time.sleep(0.2)
    whole = w.result
    share = whole.per_repeat(4)
    (m,) = share.meters
    assert share.duration_s == pytest.approx(whole.duration_s / 4)
    assert share.total_energy_j == pytest.approx(whole.total_energy_j / 4)
    assert m.net_energy_j == pytest.approx(whole.meters[0].net_energy_j / 4)
    assert m.energy_j == pytest.approx(80.0 * share.duration_s, rel=1e-9)  # same power, a quarter of the time
    assert m.samples == whole.meters[0].samples and share.provenance == whole.provenance
    assert whole.per_repeat(1) is whole
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError):
            whole.per_repeat(bad)


def test_provenance_text_names_counters_sampled_power_and_estimates_apart():
    from mlel.measurement.records import MeterEnergy, provenance_text

    def meter(name, component, provenance, method):
        return MeterEnergy(meter=name, component=component, energy_j=1.0, provenance=provenance, samples=3, method=method)

    assert provenance_text([]) == "no energy meter"
    assert provenance_text([meter("rapl:package-0", "cpu", Provenance.COUNTER, "RAPL"),
                            meter("rapl:package-1", "cpu", Provenance.COUNTER, "RAPL")]) == "measured (hardware counter): CPU (RAPL)"
    mixed = [meter("nvml:0", "gpu", Provenance.SAMPLED, "NVML power"), meter("rapl:package-0", "cpu", Provenance.COUNTER, "RAPL"),
             meter("estimate:ram", "ram", Provenance.ESTIMATE, "CodeCarbon RAM model")]
    assert provenance_text(mixed) == ("measured (hardware counter): CPU (RAPL); measured (sampled power): GPU (NVML power); "
                                      "estimated: RAM (CodeCarbon RAM model)")
