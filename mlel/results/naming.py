"""Readable hardware, backend and environment names, shared by our runs and the MLEE logs.

One naming for both sources, so that an MLEE run and one of ours on the same card land in the
same kind of environment string: ``"<hardware> - <Backend> <version>"``, e.g.
``"A100-SXM4-40GB x8 - TensorFlow 2.8.0"`` or ``"Intel Xeon Platinum 8375C (2 threads) - scikit-learn 1.9.1"``.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Iterable, Mapping

# backend value in a config -> (display name, packages whose version is the backend's, in order)
BACKENDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "sklearn": ("scikit-learn", ("scikit-learn", "sklearn")),
    "torch": ("PyTorch", ("torch",)),
    "pytorch": ("PyTorch", ("torch",)),
    "onnx": ("ONNX Runtime", ("onnxruntime", "onnxruntime-gpu")),
    "tensorflow": ("TensorFlow", ("tensorflow", "tensorflow-gpu")),
    # MLEE's ONNX runs: models exported from TF / PyTorch, run by ONNX Runtime (the paper's "ONNX TF", "ONNX PT")
    "onnx_tensorflow": ("ONNX Runtime (TF export)", ("onnxruntime", "onnxruntime-gpu")),
    "onnx_pytorch": ("ONNX Runtime (PT export)", ("onnxruntime", "onnxruntime-gpu")),
    # ours, by the same convention: a scikit-learn model converted with skl2onnx
    "onnx_sklearn": ("ONNX Runtime (scikit-learn export)", ("onnxruntime", "onnxruntime-gpu")),
}

# our ONNX inference runs by the backend that trained the model: an MLP trained by PyTorch and one
# trained by scikit-learn are different models, and must not meet in one environment as repeats
ONNX_EXPORTS = {"torch": "onnx_pytorch", "sklearn": "onnx_sklearn"}


def run_backend(backend: str, train_backend: str | None) -> str:
    """The backend a run is grouped by: ``onnx`` runs say where their model was exported from."""
    if backend == "onnx" and train_backend in ONNX_EXPORTS:
        return ONNX_EXPORTS[train_backend]
    return backend

_NOISE = (
    re.compile(r"\((R|TM|r|tm)\)"),            # Intel(R) Xeon(R) -> Intel Xeon
    re.compile(r"\bCPU\s*@\s*[\d.]+\s*GHz"),    # "CPU @ 3.30GHz"
    re.compile(r"\b\d+-Core Processor\b"),      # "AMD EPYC 7742 64-Core Processor"
    re.compile(r"^NVIDIA\s+"),                  # "NVIDIA A100-SXM4-40GB"
    re.compile(r"\bProcessor\b"),
)


def short_hardware_name(raw: str | None) -> str:
    """``"Intel(R) Xeon(R) W-2155 CPU @ 3.30GHz"`` -> ``"Intel Xeon W-2155"``,
    ``"NVIDIA A100-SXM4-40GB"`` -> ``"A100-SXM4-40GB"``, ``"AMD EPYC 7742 64-Core Processor"`` -> ``"AMD EPYC 7742"``."""
    if not raw:
        return "unknown hardware"
    name = str(raw)
    for pattern in _NOISE:
        name = pattern.sub(" ", name)
    name = " ".join(name.split())
    return name or str(raw).strip()


def gpu_hardware_name(gpu_names: Iterable[str]) -> str:
    """``["NVIDIA A100-SXM4-40GB"] * 8`` -> ``"A100-SXM4-40GB x8"``; mixed cards are joined with ``" + "``."""
    counts = Counter(short_hardware_name(n) for n in gpu_names)
    return " + ".join(f"{name} x{n}" if n > 1 else name for name, n in counts.items())


def cpu_hardware_name(cpu_model: str | None, threads: int | None = None) -> str:
    name = short_hardware_name(cpu_model)
    if threads:
        name += f" ({int(threads)} thread{'s' if int(threads) != 1 else ''})"
    return name


def backend_display_name(backend: str) -> str:
    return BACKENDS.get(backend, (backend, ()))[0]


def backend_version(backend: str, packages: Mapping[str, str]) -> str:
    """The version of the package that is the backend, or ``"n.a."``."""
    normalised = {_norm(k): v for k, v in packages.items()}
    candidates = BACKENDS.get(backend, (backend, (backend,)))[1]
    for package in candidates:
        if _norm(package) in normalised:
            return str(normalised[_norm(package)])
    return "n.a."


def environment_name(hardware: str, backend: str, version: str) -> str:
    return f"{hardware} - {backend_display_name(backend)} {version}"


def packages_from_requirements(requirements: Iterable[str]) -> dict[str, str]:
    """``["torch==1.10.2+cu113", "# comment"]`` -> ``{"torch": "1.10.2+cu113"}``."""
    out: dict[str, str] = {}
    for line in requirements or ():
        line = str(line).strip()
        if not line or line.startswith("#") or "==" not in line:
            continue
        name, _, version = line.partition("==")
        out[name.strip()] = version.strip()
    return out


def _norm(package: str) -> str:
    return package.lower().replace("_", "-")
