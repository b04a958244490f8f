"""discover_meters: documented order, estimate fallback, typed errors."""

from __future__ import annotations

import pytest

from mlel.errors import HardwareUnavailableError, UserInputError
from mlel.measurement import discover_meters
from mlel.measurement.estimate import EstimatedCpuMeter, EstimatedRamMeter
from mlel.measurement.nvml import nvml_availability
from mlel.measurement.rapl import RaplMeter

from .fakes import make_powercap_tree


def test_without_sensors_the_estimate_covers_cpu_and_ram(tmp_path, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    meters = discover_meters("cpu", powercap_root=tmp_path / "no-powercap")
    assert [type(m) for m in meters] == [EstimatedCpuMeter, EstimatedRamMeter]


def test_rapl_replaces_the_estimate(tmp_path, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    meters = discover_meters("cpu", powercap_root=make_powercap_tree(tmp_path / "powercap"))
    assert [m.name for m in meters] == ["rapl:package-0", "rapl:dram-0"]
    assert all(isinstance(m, RaplMeter) and m.is_counter for m in meters)


def test_rapl_without_dram_keeps_the_ram_estimate(tmp_path, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    root = make_powercap_tree(tmp_path / "powercap")
    (root / "intel-rapl:0:1" / "name").write_text("uncore\n")
    meters = discover_meters("cpu", powercap_root=root)
    assert [m.name for m in meters] == ["rapl:package-0", "estimate:ram"]


def test_cuda_without_a_visible_gpu_is_a_hardware_error(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")  # hides GPUs even on a GPU machine
    with pytest.raises(HardwareUnavailableError, match="--device cuda needs an NVIDIA GPU.*use --device cpu"):
        discover_meters("cuda")
    assert not nvml_availability().available


def test_unknown_device_names_the_choices():
    with pytest.raises(UserInputError, match="'device' parameter must be one of 'cpu', 'cuda'; got 'tpu'"):
        discover_meters("tpu")


def test_with_gpus_nvml_comes_first_then_rapl_then_the_estimate(tmp_path, monkeypatch):
    from mlel.measurement import nvml

    from .fakes import FakeNvmlLibrary

    library = FakeNvmlLibrary([{"uuid": "GPU-aaa1", "counter": True}, {"uuid": "GPU-bbb2", "power": True}])
    monkeypatch.setattr(nvml, "_probe_driver", lambda: nvml.probe_gpus(library))
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    for device in ("cpu", "cuda"):  # an idle GPU draws power during a CPU run too
        meters = discover_meters(device, powercap_root=tmp_path / "no-powercap")
        assert [m.name for m in meters] == ["nvml:0", "nvml:1", "estimate:cpu", "estimate:ram"], device
    with_rapl = discover_meters("cuda", powercap_root=make_powercap_tree(tmp_path / "powercap"))
    assert [m.name for m in with_rapl] == ["nvml:0", "nvml:1", "rapl:package-0", "rapl:dram-0"]
    assert [m.name for m in discover_meters("cpu", use_gpus=False, powercap_root=tmp_path / "x")] == ["estimate:cpu",
                                                                                                         "estimate:ram"]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1")
    assert [m.name for m in discover_meters("cuda", powercap_root=tmp_path / "x")][0] == "nvml:1"
