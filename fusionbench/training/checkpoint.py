"""Checkpoints: weights in safetensors, configuration in JSON, resumable training state.

A checkpoint is a directory::

    config.json            format marker, model config (how to rebuild the network), training
                           config, step, loss history; written LAST, so its presence means complete
    model.safetensors      online weights
    ema.safetensors        EMA weights (what inference loads), when the run had an EMA
    training_state.pt      optimizer / LR scheduler / grad scaler / generator / RNG states, for resume

Nothing is ever unpickled: weights load with safetensors, the training state with
``torch.load(weights_only=True)``. A bare ``.safetensors`` file (with an optional ``<stem>.json``
beside it) is also accepted by :func:`load_checkpoint`, and so is a ``.pt``/``.pth`` state dict.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from ..errors import FusionbenchError

FORMAT = "fusionbench-checkpoint"
FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
MODEL_FILE = "model.safetensors"
EMA_FILE = "ema.safetensors"
STATE_FILE = "training_state.pt"


class CheckpointError(FusionbenchError):
    """A checkpoint is missing, incomplete or of the wrong kind (the message names the path)."""


def _atomic_write_bytes(path: Path, write: Any) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    write(tmp)
    os.replace(tmp, path)


def save_weights(path: Path, state: Mapping[str, torch.Tensor], metadata: Mapping[str, str] | None = None) -> None:
    from safetensors.torch import save_file

    tensors = {k: v.detach().to("cpu").contiguous() for k, v in state.items()}
    _atomic_write_bytes(Path(path), lambda tmp: save_file(tensors, str(tmp), metadata=dict(metadata or {})))


def load_weights(path: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(str(path))


def save_checkpoint(
    directory: Path,
    *,
    model_state: Mapping[str, torch.Tensor],
    config: Mapping[str, Any],
    ema_state: Mapping[str, torch.Tensor] | None = None,
    training_state: Mapping[str, Any] | None = None,
) -> Path:
    """Write a checkpoint directory; ``config.json`` goes last (atomically) and marks it complete."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    save_weights(directory / MODEL_FILE, model_state)
    if ema_state is not None:
        save_weights(directory / EMA_FILE, ema_state)
    if training_state is not None:
        _atomic_write_bytes(directory / STATE_FILE, lambda tmp: torch.save(dict(training_state), tmp))
    payload = {"format": FORMAT, "format_version": FORMAT_VERSION, **dict(config)}
    text = json.dumps(payload, indent=2, sort_keys=True, default=_json_default)
    _atomic_write_bytes(directory / CONFIG_FILE, lambda tmp: tmp.write_text(text + "\n", encoding="utf-8"))
    return directory


def _json_default(value: Any) -> Any:
    if isinstance(value, (tuple, set, frozenset)):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def is_complete(directory: Path) -> bool:
    return (Path(directory) / CONFIG_FILE).is_file()


def read_config(path: Path) -> dict[str, Any]:
    """The JSON config of a checkpoint directory, or of a weights file's ``<stem>.json`` ({} if none)."""
    path = Path(path)
    candidate = path / CONFIG_FILE if path.is_dir() else path.with_suffix(".json")
    if not candidate.is_file():
        return {}
    try:
        return json.loads(candidate.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"checkpoint config {candidate} is not valid JSON: {exc}") from None


def load_checkpoint(path: Path, prefer: str = "ema") -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Weights and config of a checkpoint directory or file.

    ``prefer="ema"`` loads ``ema.safetensors`` when present, else ``model.safetensors``;
    ``prefer="model"`` the online weights. Files: ``.safetensors``, or ``.pt``/``.pth``/``.ckpt``
    read with ``weights_only=True`` (a state dict, or a dict holding one under a usual key).
    """
    path = Path(path)
    if path.is_dir():
        if not is_complete(path):
            raise CheckpointError(f"{path} is not a complete checkpoint (no {CONFIG_FILE})")
        order = (EMA_FILE, MODEL_FILE) if prefer == "ema" else (MODEL_FILE, EMA_FILE)
        for name in order:
            if (path / name).is_file():
                return load_weights(path / name), read_config(path)
        raise CheckpointError(f"checkpoint {path} holds no {MODEL_FILE} or {EMA_FILE}")
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    if path.suffix == ".safetensors":
        return load_weights(path), read_config(path)
    if path.suffix in (".pt", ".pth", ".ckpt", ".bin"):
        return _torch_state_dict(path, prefer), read_config(path)
    raise CheckpointError(
        f"unsupported checkpoint file {path} (expected .safetensors, .pt, .pth, .ckpt or a directory)"
    )


_NESTED_KEYS = ("ema_model", "ema", "model_ema", "state_dict", "model", "net", "params")


def _torch_state_dict(path: Path, prefer: str) -> dict[str, torch.Tensor]:
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - report any unpickling refusal with the file name
        raise CheckpointError(
            f"cannot load {path} with weights_only=True (pickled objects are refused): {exc}"
        ) from None
    keys = _NESTED_KEYS if prefer == "ema" else tuple(k for k in _NESTED_KEYS if "ema" not in k) + ("ema_model", "ema")
    while isinstance(data, dict) and not all(isinstance(v, torch.Tensor) for v in data.values()):
        nested = next((data[k] for k in keys if isinstance(data.get(k), dict)), None)
        if nested is None:
            raise CheckpointError(f"{path} holds no state dict (top-level keys: {sorted(data)[:10]})")
        data = nested
    if not isinstance(data, dict) or not data:
        raise CheckpointError(f"{path} holds no state dict")
    return {k.removeprefix("module."): v for k, v in data.items()}
