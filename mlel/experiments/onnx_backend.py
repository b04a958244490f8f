"""ONNX Runtime inference: scikit-learn models converted with skl2onnx, torch models with
``torch.onnx.export``. Conversion happens outside the measured window and the converted file is
kept in the inference folder (``model.onnx``)."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import numpy as np

from mlel.errors import HardwareUnavailableError, MlelError, first_line

log = logging.getLogger(__name__)

INPUT_NAME = "input"


class ConversionError(MlelError):
    """A trained model could not be converted to ONNX."""


def sklearn_to_onnx(estimator, n_features: int) -> bytes:
    from skl2onnx import to_onnx

    sample = np.zeros((1, n_features), dtype=np.float32)
    options = {id(estimator): {"zipmap": False}}
    try:
        with warnings.catch_warnings():
            # skl2onnx reads SVC's probA_/probB_, which scikit-learn 1.9 deprecates on access
            warnings.simplefilter("ignore", FutureWarning)
            model = to_onnx(estimator, sample, options=options)
    except Exception as exc:  # skl2onnx raises many types (RuntimeError, NameError, ...)
        raise ConversionError(f"skl2onnx cannot convert {type(estimator).__name__}: {first_line(exc)}") from exc
    return model.SerializeToString()


def torch_to_onnx(network, n_features: int) -> bytes:
    import io

    import torch

    buffer = io.BytesIO()
    sample = torch.zeros(1, n_features, dtype=torch.float32)
    with warnings.catch_warnings():
        # The TorchScript exporter is deprecated in favour of torch.export, which needs onnxscript
        # (not installed); the old one handles these small static graphs well.
        warnings.simplefilter("ignore")
        try:
            torch.onnx.export(network.cpu().eval(), (sample,), buffer, input_names=[INPUT_NAME], output_names=["logits"],
                              dynamic_axes={INPUT_NAME: {0: "batch"}, "logits": {0: "batch"}}, dynamo=False)
        except Exception as exc:  # noqa: BLE001 - translated at the boundary
            raise ConversionError(f"torch.onnx.export failed: {first_line(exc)}") from exc
    return buffer.getvalue()


class OnnxPredictor:
    """Runs an ONNX model; the first output is either labels (skl2onnx) or logits (torch)."""

    def __init__(self, model_bytes: bytes, *, device: str = "cpu", threads: int | None = None):
        import onnxruntime as ort

        providers = ["CPUExecutionProvider"]
        if device == "cuda":
            if "CUDAExecutionProvider" not in ort.get_available_providers():
                raise HardwareUnavailableError(
                    "--device cuda with --backend onnx needs onnxruntime's CUDAExecutionProvider "
                    f"(available here: {', '.join(ort.get_available_providers())}); use --device cpu"
                )
            providers = ["CUDAExecutionProvider", "CPUExecutionProvider"]
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self.session = ort.InferenceSession(model_bytes, sess_options=options, providers=providers)
        self.input_name = self.session.get_inputs()[0].name
        self.output_name = self.session.get_outputs()[0].name
        self.size_bytes = len(model_bytes)

    def prepare(self, X: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(X, dtype=np.float32)

    def predict(self, X_batch: np.ndarray) -> np.ndarray:
        out = self.session.run([self.output_name], {self.input_name: X_batch})[0]
        if out.ndim == 2:  # logits
            out = out.argmax(axis=1)
        return out.astype(np.int64, copy=False)

    @staticmethod
    def save(model_bytes: bytes, path: Path) -> None:
        Path(path).write_bytes(model_bytes)
