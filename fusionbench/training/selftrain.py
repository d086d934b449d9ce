"""Where a model plugin's weights come from in a benchmark run: a named checkpoint, or training
itself once on the run's training dataset and caching the result under a content key.

Shared by the diffusion plugins (DDIF, SSDiff) so that every self-training model finds the same
training data, keys its cache the same way and says the same things when it cannot::

    # in the model's setup(context): the named checkpoint, or the self-trained one
    path = checkpoint_for(
        self.checkpoint, context, label="DDIF", model="ddif", preset=self.preset,
        train_iterations=self.train_iterations, code_version=TRAINING_CODE_VERSION,
        train=self._train,  # self._train(request: TrainRequest, max_value: float)
    )

The training dataset is ``context.training_dataset()``: the run's dataset, or for a
full-resolution one its ``train_from`` twin, whose card (sensor maximum, bands) enters the key —
so a reduced- and a full-resolution run of the same model share one checkpoint.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar

from ..errors import FusionbenchError
from ..weights import locate, search_path
from .api import TrainRequest
from .cache import CheckpointCache, content_key
from .checkpoint import CheckpointError, is_complete
from .config import lookup_preset
from .shipped import NO_SHIPPED_ENV, shipped_checkpoints_dir, use_shipped_checkpoints

TrainCallback = Callable[[TrainRequest, float], Any]
"""``train(request, max_value)``: write a complete checkpoint into ``request.output_dir``
(resuming from what is there), training on ``request.dataset``'s ``request.split`` with data
divided by ``max_value``."""


def checkpoint_candidates(name: str, cache_dir: Path) -> list[Path]:
    """Where a checkpoint name is looked for: :func:`fusionbench.weights.search_path` (kept
    under this name for plugins written against earlier releases)."""
    return search_path(name, cache_dir)


def find_checkpoint(checkpoint: str, context: Any, *, label: str, model: str) -> Path:
    """The checkpoint ``checkpoint`` names: whatever a weights-resolver plugin finds, else the
    first existing place on :func:`fusionbench.weights.search_path` (the same search the planner
    keys runs by). Raises :class:`CheckpointError` listing where it looked."""
    found = context.resolve_weights(checkpoint, "")
    if found is None:
        found = locate(checkpoint, Path(context.cache_dir))
    if found is None:
        looked = ", ".join(str(c) for c in search_path(checkpoint, Path(context.cache_dir)))
        raise CheckpointError(
            f"{label} checkpoint {checkpoint!r} not found; looked at: {looked} (and any weights-resolver plugin). "
            f"Set FUSIONBENCH_WEIGHTS or give a path; train one with `fusionbench train {model}`"
        )
    return Path(found)


def self_trained_checkpoint(
    context: Any,
    *,
    label: str,
    model: str,
    preset: Any,
    code_version: str,
    train: TrainCallback,
    train_iterations: int = 0,
    extra: Mapping[str, Any] | None = None,
    shipped: Path | None = None,
) -> Path:
    """The checkpoint this model trains for itself on the context's training dataset, trained at
    most once per content key (``<cache_dir>/<model>/<key>``, shared by workers and suites).

    ``preset`` has ``name``, ``auto_train`` (may it train itself in a benchmark run) and
    ``key_dict()`` (everything about it that changes the weights). A preset that does not
    auto-train (one meant for a GPU) raises :class:`CheckpointError` with the ``fusionbench
    train`` command to run instead, unless ``train_iterations`` (a user's explicit budget) is
    given. The key holds ``model``, the preset's key, ``train_iterations``, ``extra``, the train
    split's content hash, the training set's maximum and band count, the seed and
    ``code_version``. ``shipped``: a folder of checkpoints the plugin ships, one per key, used
    (copied into the cache) when it holds this key; see :func:`use_shipped_checkpoints`.
    """
    name = preset.name
    if not (preset.auto_train or train_iterations):
        raise CheckpointError(
            f"{label} preset {name!r} needs a checkpoint: train one on a GPU with "
            f"`fusionbench train {model} --preset {name} --dataset <dataset> --out ckpt/` and run with "
            f"-m '{model}[preset={name},checkpoint=ckpt/]' (or use preset=tiny, which trains itself)"
        )
    opener = getattr(context, "training_dataset", None)
    dataset = opener() if callable(opener) else context.dataset
    if dataset is None:
        raise FusionbenchError(f"{label} has no checkpoint and no dataset to train on")
    data_name = str(getattr(dataset, "name", "") or "dataset")
    try:
        data_hash = dataset.content_sha256("train")
    except FusionbenchError as exc:
        raise FusionbenchError(
            f"{label} has no checkpoint and dataset {data_name!r} has no usable train split ({exc}); "
            f"give one with {model}[checkpoint=PATH]"
        ) from None
    card = getattr(dataset, "card", None) or context.card  # the training set's (a full-res run trains on its twin)
    parts = {
        "model": model,
        "preset": preset.key_dict(),
        "train_iterations": int(train_iterations),
        **dict(extra or {}),
        "train_sha256": data_hash,
        "max_value": float(card.max_value),
        "bands": card.bands,
        "seed": int(context.seed),
        "code_version": code_version,
    }
    report = getattr(context, "report", print)
    tag = f"{label}[{name}]"

    def train_into(directory: Path) -> None:
        report(f"{tag}: no checkpoint given; training on {data_name}/train")
        request = TrainRequest(
            dataset=dataset,
            dataset_name=data_name,
            output_dir=directory,
            split="train",
            device=context.device,
            seed=int(context.seed),
            progress=False,
            report=report,
        )
        train(request, float(card.max_value))

    cache = CheckpointCache(Path(context.cache_dir) / model)
    if cache.lookup(parts) is None and shipped is not None and use_shipped_checkpoints():
        source = Path(shipped) / content_key(parts)
        if is_complete(source):
            path = cache.adopt(parts, source)
            report(
                f"{tag}: using the checkpoint shipped with the plugin for this exact recipe and data ({path}); "
                f"{NO_SHIPPED_ENV}=1 trains it here instead"
            )
            return path
    path, trained = cache.get_or_train(parts, train_into)
    if not trained:
        report(f"{tag}: using cached checkpoint {path}")
    return path


def checkpoint_for(checkpoint: str, context: Any, *, label: str, model: str, **self_training: Any) -> Path:
    """``find_checkpoint`` when ``checkpoint`` names one, else ``self_trained_checkpoint``
    (``self_training``: its keyword arguments besides ``label`` and ``model``)."""
    if checkpoint:
        return find_checkpoint(checkpoint, context, label=label, model=model)
    return self_trained_checkpoint(context, label=label, model=model, **self_training)


def require_bands(trained_bands: int, context: Any, path: Path, *, label: str, model: str) -> None:
    """Refuse a checkpoint trained for another band count than the run's data has."""
    bands = getattr(context.card, "bands", None)
    if bands is not None and bands != trained_bands:
        raise FusionbenchError(
            f"{label} checkpoint {path} was trained for {trained_bands} bands; the dataset has {bands}. "
            f"Train one for this sensor: fusionbench train {model} --dataset <its train set>"
        )


INFERENCE_PRECISIONS = ("fp32", "bf16", "fp16")
"""``precision=`` values a self-training model accepts: full precision or autocast on CUDA."""


def inference_autocast_dtype(precision: str) -> Any:
    """The autocast dtype for ``precision`` (None for fp32); ValueError for an unknown name."""
    import torch

    dtypes = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}
    if precision not in dtypes:
        raise ValueError(f"precision must be one of {sorted(dtypes)}, got {precision!r}")
    return dtypes[precision]


def load_state_strictly(net: Any, state: Mapping[str, Any], path: Path, *, label: str, preset: str) -> None:
    """Load ``state`` into ``net`` or raise :class:`CheckpointError` naming the checkpoint and
    what does not fit (shape mismatches, missing or unexpected tensors) — never torch's raw
    RuntimeError, which names neither the file nor the preset."""
    try:
        missing, unexpected = net.load_state_dict(state, strict=False)
    except RuntimeError as exc:  # size mismatches
        mismatch = next((line.strip() for line in str(exc).splitlines() if "size mismatch" in line), str(exc)[:200])
        raise CheckpointError(
            f"checkpoint {path} does not fit the {label} network of preset {preset!r} ({mismatch})"
        ) from None
    if missing or unexpected:
        raise CheckpointError(
            f"checkpoint {path} does not fit the {label} network of preset {preset!r} ({len(missing)} missing, "
            f"{len(unexpected)} unexpected tensors; e.g. missing {list(missing)[:3]}, unexpected {list(unexpected)[:3]})"
        )


class SelfTrainingModel:
    """Shared ``__init__`` parameters and ``setup`` of a model plugin that loads a named
    checkpoint or trains itself once per content key (DDIF, SSDiff).

    A subclass sets ``label`` (for messages), ``model_name`` (its registry name),
    ``code_version`` (enters the cache key) and ``presets``, and implements
    ``load(path, device)`` (which sets ``self.net`` with a ``config.channels``) and
    ``_train(request, max_value)`` (see :data:`TrainCallback`).
    """

    label: ClassVar[str]
    model_name: ClassVar[str]
    code_version: ClassVar[str]
    presets: ClassVar[Mapping[str, Any]]

    def _init_self_training(self, preset: str, checkpoint: str, precision: str, train_iterations: int) -> None:
        self.preset = lookup_preset(self.presets, preset, label=self.label)
        self.checkpoint = checkpoint or ""
        self.autocast_dtype = inference_autocast_dtype(precision)
        self.precision = precision
        self.train_iterations = int(train_iterations or 0)
        self.net: Any = None
        self.checkpoint_path: Path | None = None

    def setup(self, context: Any) -> None:
        """Load the checkpoint, or train (once per content key) when the preset allows it; a
        full-resolution run trains on its reduced-resolution twin (``context.training_dataset()``)."""
        path = checkpoint_for(
            self.checkpoint,
            context,
            label=self.label,
            model=self.model_name,
            preset=self.preset,
            train_iterations=self.train_iterations,
            code_version=self.code_version,
            train=self._train,
            shipped=shipped_checkpoints_dir(type(self)),
        )
        self.load(path, device=context.device)
        require_bands(self.net.config.channels, context, path, label=self.label, model=self.model_name)

    def load(self, path: Path, device: str = "cpu") -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _train(self, request: TrainRequest, max_value: float) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError
