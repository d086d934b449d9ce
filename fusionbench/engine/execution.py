"""Execute one run: build the components, fuse every image, score it, write the scores file.

This is what a worker does, whatever the executor. It imports torch (lazily), and it is only
imported by commands that run something, never by the CLI at start-up.
"""

from __future__ import annotations

import platform
import time
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from fusionbench.engine.executors.base import WorkerConfig
from fusionbench.engine.outputs_out import OutputWriter
from fusionbench.engine.runspec import RunSpec, canonical_json, image_seed
from fusionbench.engine.scoring import as_batch, build_metrics, score_prediction, write_scores
from fusionbench.errors import FusionbenchError, InvalidModelOutput
from fusionbench.lazy import build
from fusionbench.protocols import FusionBatch, ModelContext
from fusionbench.registry import Registry, call_hook_isolated
from fusionbench.results.records import RunOutcome, utc_now
from fusionbench.specs import DataCard
from fusionbench.tasks import get_task

ProgressFn = Callable[[int, int | None], None]


def card_from(mapping: Mapping[str, Any]) -> DataCard:
    """The DataCard recorded in a run spec (``RunSpec.card``), rebuilt."""
    data = dict(mapping)
    gnyq = data.get("mtf_gnyq")
    return DataCard(
        sensor=data.get("sensor", "none"),
        ratio=data.get("ratio"),
        bands=data.get("bands"),
        max_value=data.get("max_value", 1.0),
        mtf_gnyq=tuple(gnyq) if gnyq is not None else None,
        pan_gnyq=data.get("pan_gnyq"),
        extra=data.get("extra") or {},
    )


def _resolve_weights(
    registry: Registry, cache_dir: Path, errors: list[str] | None = None
) -> Callable[[str, str], Path | None]:
    """The ``resolve_weights`` of a ``ModelContext``: asks the resolver plugins, isolated, so one
    that raises is recorded and skipped and the next one (the built-in resolver) answers."""
    sink: list[str] = errors if errors is not None else []

    def resolve(uri: str, expected_sha256: str) -> Path | None:
        return call_hook_isolated(
            registry,
            "fusionbench_resolve_weights",
            {"uri": uri, "expected_sha256": expected_sha256, "cache_dir": cache_dir},
            sink,
            firstresult=True,
        )

    return resolve


def validate_output(out: Any, expected: tuple[int, ...], label: str) -> None:
    """Refuse outputs of the wrong shape, dtype or with NaN/inf before anything is scored."""
    import torch

    if not isinstance(out, torch.Tensor):
        raise InvalidModelOutput(f"{label}: model returned {type(out).__name__}, expected a torch.Tensor")
    if tuple(out.shape) != expected:
        raise InvalidModelOutput(f"{label}: model output has shape {tuple(out.shape)}, expected {expected}")
    if not out.dtype.is_floating_point:
        raise InvalidModelOutput(f"{label}: model output dtype {out.dtype} is not floating point")
    bad = (~torch.isfinite(out)).sum().item()
    if bad:
        raise InvalidModelOutput(f"{label}: model output has {bad} non-finite values (NaN/inf)")


def execute_run(
    run: RunSpec,
    attempt: int,
    registry: Registry,
    config: WorkerConfig,
    progress: ProgressFn | None = None,
    hook_errors: list[str] | None = None,
) -> RunOutcome:
    """Run one RunSpec end to end. Model, data and device errors become a failed outcome (with
    the traceback), never an exception. Errors of plugin hooks called on the way (the weights
    resolver) are appended to ``hook_errors`` for the coordinator to record on the run."""
    import torch

    if config.torch_threads:
        torch.set_num_threads(config.torch_threads)
    started = utc_now()
    t0 = time.perf_counter()
    outcome = RunOutcome(status="ok", started_at=started, device=config.device, torch_version=torch.__version__)
    try:
        # inside the try: a device that does not exist (or a CUDA error) fails this run with its
        # traceback instead of escaping and killing the worker (which would look like a crash)
        outcome.device_name = _device_name(config.device)
        if config.device.startswith("cuda"):
            torch.cuda.reset_peak_memory_stats(torch.device(config.device))
        rows, n_expected, nfe, image_times = _fuse_and_score(run, registry, config, progress, hook_errors, attempt)
        outcome.n_images_expected = n_expected
        outcome.n_images_scored = len(image_times)
        outcome.nfe = nfe
        outcome.per_image_mean_s = sum(image_times) / len(image_times) if image_times else None
        outcome.wall_s = time.perf_counter() - t0
        path = write_scores(
            registry,
            run,
            attempt,
            rows,
            results_dir=Path(config.results_dir),
            device=config.device,
            wall_s=outcome.wall_s,
        )
        outcome.scores_path = str(path)
    except InvalidModelOutput as exc:
        fail_outcome(outcome, "invalid_output", exc)
    except Exception as exc:  # noqa: BLE001 - a plugin's error fails its run only
        fail_outcome(outcome, "failed", exc)
    except SystemExit as exc:
        # a model or metric calling sys.exit: in a worker process the process would end (a crash);
        # in the inline executor it would end the whole command with no record. Either way the
        # run is recorded as crashed, and the session goes on.
        fail_outcome(outcome, "crashed", exc)
        outcome.error_message = f"the run called sys.exit({exc.code!r})"
    outcome.wall_s = time.perf_counter() - t0
    outcome.finished_at = utc_now()
    outcome.peak_mem_mb = _peak_mem_mb(config.device)
    return outcome


def _peak_mem_mb(device: str) -> float | None:
    if not device.startswith("cuda"):
        return _rss_mb()
    try:
        import torch

        return torch.cuda.max_memory_allocated(torch.device(device)) / 2**20
    except Exception:  # noqa: BLE001 - the run already records the device error
        return None


def fail_outcome(outcome: RunOutcome, status: str, exc: BaseException) -> None:
    """Mark ``outcome`` failed with ``exc`` (traceback kept unless it is one of our clean errors)."""
    outcome.status = status
    outcome.error_type = type(exc).__name__
    outcome.error_message = str(exc)
    if not isinstance(exc, FusionbenchError):
        outcome.traceback = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))


def _fuse_and_score(
    run: RunSpec,
    registry: Registry,
    config: WorkerConfig,
    progress: ProgressFn | None,
    hook_errors: list[str] | None = None,
    attempt: int = 1,
) -> tuple[list[dict[str, Any]], int | None, int | None, list[float]]:
    import torch

    task = get_task(run.task)
    dataset_entry = registry.get("dataset", run.dataset.lookup)
    data_root = Path(config.data_root) if config.data_root else None
    dataset, cached_items = _open_dataset(dataset_entry, run, data_root)
    data_hash = dataset.content_sha256(run.split)
    if run.data_sha256 and data_hash != run.data_sha256:
        raise FusionbenchError(
            f"dataset {run.dataset.name!r} changed since the run was planned "
            f"(hash {data_hash[:12]} != {run.data_sha256[:12]}); plan again"
        )
    card = card_from(run.card) if run.card else dataset.card
    if not run.metrics:
        raise FusionbenchError(
            f"run {run.label} has no metric to score it with (the suite's metrics are missing or do not apply); "
            "an unscored run would count as done with no results"
        )
    # The sampler and the metrics are built before the model's setup, which may train for
    # hours: a sampler configuration that cannot work (a step count it refuses) or a metric
    # that cannot be built fails the run now, not after the training.
    sampler = None
    if run.sampler is not None:
        sampler = build(registry.get("sampler", run.sampler.lookup).spec, **run.sampler.params)
    metrics = build_metrics(registry, run)
    model_entry = registry.get("model", run.model.lookup)
    model = build(model_entry.spec, **run.model.params)
    cache_dir = Path(config.cache_dir) if config.cache_dir else Path(config.results_dir) / "cache"
    check_sampler = getattr(model, "check_sampler", None)
    if sampler is not None and callable(check_sampler):
        check_sampler(sampler)
    setup = getattr(model, "setup", None)
    if callable(setup):
        setup(
            ModelContext(
                device=config.device,
                card=card,
                dataset=dataset,
                cache_dir=cache_dir,
                resolve_weights=_resolve_weights(registry, cache_dir, hook_errors),
                seed=run.seed,
                task=run.task,
                open_training_dataset=_training_opener(registry, dataset_entry, data_root),
            )
        )
    writer = OutputWriter.for_run(config, run, card, attempt) if config.save_outputs else None

    n_expected = _count(dataset, run.split)
    if run.max_items is not None and n_expected is not None:
        n_expected = min(n_expected, run.max_items)
    rows: list[dict[str, Any]] = []
    image_times: list[float] = []
    device = torch.device(config.device)
    nfe: int | None = None
    # progress in sampling steps when the sampler reports them (a diffusion run spends minutes on
    # one image), else in images; a bar with a known total from the start shows an ETA, not 0/?
    steps = int(getattr(sampler, "steps", 0) or 0) if run.sampler is not None and hasattr(sampler, "on_step") else 0
    units = max(steps, 1)
    total_units = n_expected * units if n_expected is not None else None
    if progress is not None:
        progress(0, total_units)
    for index, item in enumerate(cached_items if cached_items is not None else dataset.items(run.split)):
        if run.max_items is not None and index >= run.max_items:
            break
        if steps and progress is not None:
            sampler.on_step = lambda done, _total, base=index * units: progress(base + min(done, units), total_units)
        inputs = {name: as_batch(item.inputs[name], device) for name in task.input_names}
        seed = image_seed(run, item.image_id)
        generator = torch.Generator(device=device).manual_seed(seed)
        expected = (
            1,
            inputs[task.output_channels_from].shape[1],
            *inputs[task.output_size_from].shape[2:],
        )
        t_image = time.perf_counter()
        with torch.no_grad():
            out = model.fuse(
                FusionBatch(image_ids=(item.image_id,), inputs=inputs, card=card),
                sampler=sampler,
                generator=generator,
            )
        validate_output(out, expected, f"{run.model.name} on {run.dataset.name}/{item.image_id}")
        image_times.append(time.perf_counter() - t_image)
        nfe = getattr(sampler, "nfe", None) if sampler is not None else nfe
        pred = out.detach().to("cpu", torch.float64)
        if writer is not None:
            writer.add(item.image_id, pred[0].numpy())
        if index < config.previews:
            from fusionbench.results.previews import save_preview

            save_preview(
                Path(config.results_dir),
                run.suite,
                run.run_key,
                item.image_id,
                pred[0].numpy(),
                item.reference,
                card.extra,
                card.max_value,
                sources={k: v[0].detach().to("cpu", torch.float64).numpy() for k, v in inputs.items()},
            )
        cpu_inputs = {k: v.to("cpu", torch.float64) for k, v in inputs.items()}
        rows.extend(
            score_prediction(
                metrics,
                pred,
                item.reference,
                cpu_inputs,
                card,
                image_id=item.image_id,
                seed=seed,
                image_wall_s=image_times[-1],
            )
        )
        if progress is not None:
            progress((index + 1) * units, total_units)
    if not image_times:
        raise FusionbenchError(f"dataset {run.dataset.name!r} split {run.split!r} yielded no images")
    if writer is not None:
        writer.finish()
    return rows, n_expected, nfe, image_times


_SYNTHETIC_CACHE: dict[tuple[str, str, str], tuple[Any, list[Any]]] = {}
_SYNTHETIC_CACHE_MAX = 16


def _open_dataset(entry: Any, run: RunSpec, data_root: Path | None) -> tuple[Any, list[Any] | None]:
    """Build the dataset; generated (synthetic) splits are kept in the worker's memory.

    A worker runs many models on the same embedded dataset, and generating its scenes costs far
    more than fusing them with a classical method; real datasets are read from disk each time.
    """
    if not entry.spec.synthetic:
        return build(entry.spec, root=data_root, **run.dataset.params), None
    key = (run.dataset.lookup, canonical_json(dict(run.dataset.params)), run.split)
    if key not in _SYNTHETIC_CACHE:
        dataset = build(entry.spec, root=data_root, **run.dataset.params)
        items = list(dataset.items(run.split))
        if len(_SYNTHETIC_CACHE) >= _SYNTHETIC_CACHE_MAX:
            _SYNTHETIC_CACHE.pop(next(iter(_SYNTHETIC_CACHE)))
        _SYNTHETIC_CACHE[key] = (dataset, items)
    return _SYNTHETIC_CACHE[key]


def _training_opener(registry: Registry, entry: Any, data_root: Path | None) -> Callable[[], Any] | None:
    """Opens ``entry``'s ``train_from`` dataset on demand (only self-training models ask)."""
    name = entry.spec.train_from
    if not name:
        return None

    def open_training_dataset() -> Any:
        try:
            twin = registry.get("dataset", name)
        except Exception as exc:  # noqa: BLE001 - unknown or conflicting name: same remedy
            raise FusionbenchError(
                f"dataset {entry.spec.name!r} trains models on {name!r}, which is not available: {exc}"
            ) from None
        return build(twin.spec, root=data_root)

    return open_training_dataset


def _count(dataset: Any, split: str) -> int | None:
    n_items = getattr(dataset, "n_items", None)
    if callable(n_items):
        return int(n_items(split))
    try:
        return len(dataset)
    except TypeError:
        return None


def _device_name(device: str) -> str:
    if device.startswith("cuda"):
        import torch

        return torch.cuda.get_device_name(torch.device(device))
    return platform.processor() or platform.machine()


def _rss_mb() -> float | None:
    try:
        import psutil

        return psutil.Process().memory_info().rss / 2**20
    except Exception:  # noqa: BLE001 - memory reporting is best effort
        return None
