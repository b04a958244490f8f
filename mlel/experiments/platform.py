"""What machine and software an experiment ran on (``platform.json``)."""

from __future__ import annotations

import logging
import os
import platform as _platform
import socket
import sys
from importlib import metadata

log = logging.getLogger(__name__)

KEY_PACKAGES = ("numpy", "scipy", "scikit-learn", "torch", "onnx", "onnxruntime", "skl2onnx", "pandas",
                "codecarbon", "nvidia-ml-py", "threadpoolctl")


def package_versions(names=KEY_PACKAGES) -> dict[str, str | None]:
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    from mlel import __version__

    versions["mlel"] = __version__
    return versions


def list_gpus() -> list[dict]:
    """GPUs visible to CUDA, via NVML; empty where there is no NVIDIA driver."""
    from mlel.measurement.nvml import visible_gpus

    try:
        return visible_gpus()
    except Exception as exc:  # noqa: BLE001 - a platform record must never stop an experiment
        log.warning("could not list GPUs through NVML: %s", exc)
        return []


def collect_platform() -> dict:
    """The ``platform.json`` record (see docs/experiment-folder.md)."""
    import psutil

    from mlel.measurement.estimate import read_cpu_model

    return {
        "hostname": socket.gethostname(),
        "os": _platform.platform(),
        "python": sys.version.split()[0],
        "cpu_model": read_cpu_model(),
        "cpu_cores_physical": psutil.cpu_count(logical=False),
        "cpu_cores_logical": psutil.cpu_count(logical=True),
        "cpu_affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory_bytes": int(psutil.virtual_memory().total),
        "gpus": list_gpus(),
        "packages": package_versions(),
    }
