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
from mlel.measurement.records import MeterEnergy
from mlel.measurement.sampler import log_file_name

from .fakes import FakeClock, ScriptedRaplMeter, SettablePowerMeter


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
        # kill once a second of rows has been flushed (by the log's row count, not by a sleep's length)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if all(len(read_rows(log_dir / log_file_name(n))) >= 10 for n in ("estimate:cpu", "estimate:ram")):
                break
            time.sleep(0.1)
        flushed = {n: len(read_rows(log_dir / log_file_name(n))) for n in ("estimate:cpu", "estimate:ram")}
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    for name in ("estimate:cpu", "estimate:ram"):
        rows = read_rows(log_dir / log_file_name(name))
        assert len(rows) >= flushed[name] >= 10, name  # what was flushed before the kill is all there
        assert float(rows[-1]["elapsed_s"]) >= 0.9
    ram_rows = read_rows(log_dir / "estimate_ram.csv")
    assert all(float(r["power_w"]) == 6.0 for r in ram_rows)
    assert int(ram_rows[-1]["memory_used_bytes"]) > 0


def test_baseline_gives_idle_power_and_net_energy():
    meter = SettablePowerMeter("fake:0", 50.0)
    with Sampler([meter], interval_s=0.05) as sampler:
        baseline = sampler.measure_baseline(0.3)
        assert baseline.duration_s >= 0.3  # it waits that long; how much longer depends on the machine
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
    flaky = by_name["fake:flaky"]
    assert flaky.energy_j == 0.0 and flaky.samples == 0 and flaky.failed_reads >= 2  # both edges at least
    assert by_name["fake:good"].failed_reads == 0 and by_name["fake:good"].samples == flaky.failed_reads
    assert sum("fake:flaky failed to read" in r.message for r in caplog.records) == 1  # said once, not per sample
    assert sum(f"fake:flaky failed {flaky.failed_reads} of {flaky.failed_reads} reads in this window" in r.message
               for r in caplog.records) == 1
    # and the window says so wherever its provenance is shown
    assert w.result.provenance_text().endswith(f"incomplete: fake:flaky missed {flaky.failed_reads} of {flaky.failed_reads} reads")
    assert "incomplete" not in Measurement(1.0, (by_name["fake:good"],)).provenance_text()


def test_reads_that_fail_for_a_while_are_counted_in_the_window():
    class Dropout(SettablePowerMeter):
        failing = False

        def read(self):
            if self.failing:
                raise OSError("GPU is lost")
            return super().read()

    clock = FakeClock()
    meter = Dropout("fake:dropout", 100.0)
    sampler = Sampler([meter], interval_s=1.0, clock=clock).start(background=False)
    token = sampler.begin()
    for step in range(10):
        meter.failing = 3 <= step < 7
        clock.advance(1.0)
        sampler.sample()
    result = sampler.end(token)
    sampler.stop()
    (energy,) = result.meters
    assert (energy.samples, energy.failed_reads) == (8, 4)  # the begin edge, steps 0-2 and 7-9, the end edge
    assert energy.energy_j == pytest.approx(100.0 * result.duration_s)  # the trapezoid bridges the gap
    assert MeterEnergy.from_dict(energy.to_dict()) == energy


def test_a_sampling_thread_error_does_not_end_sampling(tmp_path, caplog):
    meter = SettablePowerMeter("fake:0", 10.0)
    sampler = Sampler([meter], interval_s=0.02, log_dir=tmp_path)
    calls = {"n": 0}
    real_record = sampler._record

    def flaky_record(*args):
        calls["n"] += 1
        if calls["n"] == 3:  # a sample on the thread (1: start, 2: the thread's first)
            raise OSError(28, "No space left on device")
        real_record(*args)

    sampler._record = flaky_record
    with sampler:
        time.sleep(0.3)
        assert sampler._thread.is_alive()
        before = sampler._tracks[0].samples
        time.sleep(0.2)
        after = sampler._tracks[0].samples
    assert calls["n"] > 3 and after > before  # still sampling after the error
    assert sum("power sampling hit an error" in r.message for r in caplog.records) == 1
    assert meter.closed


def test_meters_are_closed_even_when_the_last_sample_fails():
    meter = SettablePowerMeter("fake:0", 1.0)
    sampler = Sampler([meter], interval_s=1.0, clock=FakeClock()).start(background=False)
    sampler._sample_locked = lambda: (_ for _ in ()).throw(RuntimeError("disk gone"))
    with pytest.raises(RuntimeError, match="disk gone"):
        sampler.stop()
    assert meter.closed and not sampler._started


def test_a_wrapping_counter_sets_how_often_the_sampler_reads(caplog):
    clock = FakeClock()
    # a 65.5 kJ range, as on CPUs with a 15.3 uJ energy unit: wraps every 65 s at 1 kW
    meter = ScriptedRaplMeter(clock, power_w=280.0, start_uj=0, max_range_uj=65_536_000_000)
    sampler = Sampler([meter], interval_s=300.0, clock=clock).start(background=False)
    try:
        assert sampler._period_s == pytest.approx(65_536.0 / 1000.0 / 2)  # J / W / 2
        assert any("could wrap twice" in r.message for r in caplog.records)
        token = sampler.begin()
        for _ in range(36):  # 20 minutes at the capped period: about five wraps at 280 W
            clock.advance(sampler._period_s)
            sampler.sample()
        result = sampler.end(token)
    finally:
        sampler.stop()
    assert result.total_energy_j == pytest.approx(280.0 * result.duration_s, rel=1e-6)
    fine = Sampler([ScriptedRaplMeter(clock, 280.0, 0, 262_143_328_850)], interval_s=0.5, clock=clock).start(background=False)
    assert fine._period_s == 0.5
    fine.stop()


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
