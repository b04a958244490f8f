"""PyTorch models: logistic regression, an MLP shaped like scikit-learn's default, a small CNN.

The saved file (``model.pt``) holds the architecture as plain data beside the weights, so it
loads with ``torch.load(weights_only=True)`` and rebuilds without pickled code.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path

import numpy as np

from mlel.errors import HardwareUnavailableError, SchemaError, UserInputError, first_line
from mlel.experiments.models.base import DataShape, ModelStats, Trainer
from mlel.experiments.params import flag_or_param, json_safe, positive_ints
from mlel.experiments.registry import TORCH

log = logging.getLogger(__name__)

FILE_FORMAT = "mlel.torch/1"

# Defaults follow scikit-learn's MLPClassifier (hidden (100,), Adam, learning rate 1e-3,
# batch min(200, n)) so that the two backends train the same model.
COMMON_DEFAULTS = {"learning_rate_init": 1e-3, "epochs": 100, "batch_size": 200, "weight_decay": 0.0}
MODEL_DEFAULTS = {
    "logistic_regression": {},
    "mlp": {"hidden_layer_sizes": (100,)},
    "cnn": {"channels": (16, 32), "hidden_layer_sizes": (64,)},
}


def torch_device(device: str):
    import torch

    if device == "cuda" and not torch.cuda.is_available():
        raise HardwareUnavailableError(
            "--device cuda was asked for, but torch sees no CUDA GPU "
            f"(torch {torch.__version__}, cuda build: {torch.version.cuda or 'none'}); use --device cpu"
        )
    return torch.device(device)


def resolve_params(model: str, params: dict, *, epochs: int | None, batch_size: int | None) -> dict:
    """Fill in defaults and validate; raises ``UserInputError`` naming the valid keys."""
    defaults = {**MODEL_DEFAULTS[model], **COMMON_DEFAULTS}
    unknown = sorted(set(params) - set(defaults))
    if unknown:
        raise UserInputError(f"unknown parameter(s) {', '.join(map(repr, unknown))} for torch {model}; "
                             f"valid: {', '.join(sorted(defaults))}")
    out = {**defaults, **params}
    for flag, value, key in (("--epochs", epochs, "epochs"), ("--batch-size", batch_size, "batch_size")):
        if value is None:
            continue
        flag_or_param(flag, key, params)
        out[key] = value
    for key in ("epochs", "batch_size"):
        if not isinstance(out[key], int) or isinstance(out[key], bool) or out[key] < 1:
            raise UserInputError(f"The {key!r} parameter must be an integer >= 1; got {out[key]!r}")
    for key in ("learning_rate_init", "weight_decay"):
        if not isinstance(out[key], (int, float)) or isinstance(out[key], bool) or out[key] < 0:
            raise UserInputError(f"The {key!r} parameter must be a number >= 0; got {out[key]!r}")
        out[key] = float(out[key])
    for key in ("hidden_layer_sizes", "channels"):
        if key in out:
            out[key] = positive_ints(key, out[key])
    if model == "cnn" and len(out["channels"]) != 2:
        raise UserInputError(f"The 'channels' parameter of the cnn must be two integers like 16,32; got {out['channels']!r}")
    return out


def build_network(arch: dict):
    """The ``torch.nn.Module`` for an architecture description (see ``TorchTrainer.arch``)."""
    from torch import nn

    n_in, n_out, model = arch["n_features"], arch["n_classes"], arch["model"]
    layers: list = []
    if model == "cnn":
        h, w = arch["image_shape"]
        c1, c2 = arch["channels"]
        layers += [nn.Unflatten(1, (1, h, w)),
                   nn.Conv2d(1, c1, 3, padding=1), nn.ReLU(),
                   nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(),
                   nn.MaxPool2d(2), nn.Flatten()]
        n_in = c2 * (h // 2) * (w // 2)
    for width in arch.get("hidden_layer_sizes") or ():
        layers += [nn.Linear(n_in, width), nn.ReLU()]
        n_in = width
    layers.append(nn.Linear(n_in, n_out))
    return nn.Sequential(*layers)


class TorchTrainer(Trainer):
    backend = TORCH
    model_file = "model.pt"

    def __init__(self, model: str, *, shape: DataShape, params: dict, seed: int = 0, threads: int | None = None,
                 epochs: int | None = None, batch_size: int | None = None, device: str = "cpu"):
        if model == "cnn" and shape.image_shape is None:
            raise UserInputError("the cnn needs image data (--dataset digits); this data set has no image shape: "
                                 "use mlp or logistic_regression")
        self.model_name = model
        self.shape = shape
        self._user_params = dict(params)
        self._seed, self._threads, self._epochs, self._batch_size = seed, threads, epochs, batch_size
        self._params = resolve_params(model, params, epochs=epochs, batch_size=batch_size)
        self.device_name = device
        self.device = torch_device(device)
        self.network = None

    @property
    def arch(self) -> dict:
        arch = {"model": self.model_name, "n_features": self.shape.n_features, "n_classes": self.shape.n_classes,
                "image_shape": list(self.shape.image_shape) if self.shape.image_shape else None}
        for key in ("hidden_layer_sizes", "channels"):
            if key in self._params:
                arch[key] = list(self._params[key])
        return arch

    @property
    def params(self) -> dict:
        return json_safe({**self._params, "optimizer": "adam", "loss": "cross_entropy"})

    def fit(self, X, y, *, progress: bool = False) -> None:
        import torch
        from tqdm.auto import tqdm

        torch.manual_seed(self._seed)
        net = build_network(self.arch).to(self.device)
        p = self._params
        optimizer = torch.optim.Adam(net.parameters(), lr=p["learning_rate_init"], weight_decay=p["weight_decay"])
        loss_fn = torch.nn.CrossEntropyLoss()
        X_t = torch.as_tensor(np.asarray(X, dtype=np.float32), device=self.device)
        y_t = torch.as_tensor(np.asarray(y, dtype=np.int64), device=self.device)
        n, batch = len(X_t), min(p["batch_size"], len(X_t))
        generator = torch.Generator(device="cpu").manual_seed(self._seed)
        log.info("training torch %s for %d epochs, batch %d, on %s", self.model_name, p["epochs"], batch, self.device)
        net.train()
        epochs = tqdm(range(p["epochs"]), desc=f"train {self.model_name}", unit="epoch", disable=not progress,
                      leave=False)
        for _ in epochs:
            order = torch.randperm(n, generator=generator).to(self.device)
            total = torch.zeros((), device=self.device)
            for start in range(0, n, batch):
                idx = order[start:start + batch]
                optimizer.zero_grad(set_to_none=True)
                loss = loss_fn(net(X_t[idx]), y_t[idx])
                loss.backward()
                optimizer.step()
                total += loss.detach() * len(idx)
            if progress:
                epochs.set_postfix(loss=f"{float(total) / n:.4f}")
        net.eval()
        self.network = net

    def warm_up(self, X, y) -> None:
        """One optimiser step of a throw-away network on two samples. The first ``torch.optim.Adam`` of a
        process imports ``torch._dynamo`` (about 800 modules, 1.1 s here): inside the window it made the
        first torch fit of a process cost 27 J instead of 0.24 J."""
        import torch

        net = build_network(self.arch).to(self.device)
        optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
        X_t = torch.as_tensor(np.asarray(X[:2], dtype=np.float32), device=self.device)
        y_t = torch.as_tensor(np.asarray(y[:2], dtype=np.int64), device=self.device)
        torch.nn.CrossEntropyLoss()(net(X_t), y_t).backward()
        optimizer.step()
        net.eval()
        with torch.no_grad():
            net(X_t)

    def predict(self, X) -> np.ndarray:
        return predict_torch(self.network, X, self.device)

    def stats(self) -> ModelStats:
        import torch

        buffer = io.BytesIO()
        torch.save(self.network.state_dict(), buffer)
        return ModelStats(parameters=int(sum(p.numel() for p in self.network.parameters())),
                          size_bytes=buffer.getbuffer().nbytes)

    def save(self, folder: Path) -> Path:
        import torch

        path = Path(folder) / self.model_file
        state = {k: v.detach().cpu() for k, v in self.network.state_dict().items()}
        torch.save({"format": FILE_FORMAT, "arch": self.arch, "state_dict": state}, path)
        return path

    def fresh(self) -> "TorchTrainer":
        return TorchTrainer(self.model_name, shape=self.shape, params=self._user_params, seed=self._seed,
                            threads=self._threads, epochs=self._epochs, batch_size=self._batch_size,
                            device=self.device_name)

    def synchronize(self):
        if self.device.type == "cuda":
            import torch

            return torch.cuda.synchronize
        return None


def predict_torch(network, X, device, batch_size: int | None = None) -> np.ndarray:
    import torch

    X = np.asarray(X, dtype=np.float32)
    batch_size = batch_size or max(len(X), 1)
    out = []
    with torch.inference_mode():
        for start in range(0, len(X), batch_size):
            logits = network(torch.as_tensor(X[start:start + batch_size], device=device))
            out.append(logits.argmax(dim=1).cpu().numpy())
    return np.concatenate(out).astype(np.int64) if out else np.empty(0, dtype=np.int64)


def load_torch_model(path: Path, device: str = "cpu"):
    """(network on ``device``, architecture dict) from a ``model.pt`` written by :class:`TorchTrainer`."""
    import torch

    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a corrupt file
        raise SchemaError(f"cannot read torch model {str(path)!r} (damaged or not written by train.py): "
                          f"{first_line(exc)}") from exc
    if not isinstance(saved, dict) or saved.get("format") != FILE_FORMAT:
        raise SchemaError(f"{str(path)!r} is not an mlel torch model (format {FILE_FORMAT!r})")
    arch = saved["arch"]
    if arch.get("image_shape"):
        arch["image_shape"] = tuple(arch["image_shape"])
    network = build_network(arch)
    network.load_state_dict(saved["state_dict"])
    network.eval()
    return network.to(torch_device(device)), arch
