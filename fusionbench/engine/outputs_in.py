"""Score fused images produced elsewhere (``fusionbench score``): read, match, validate, score.

Most results in this field come from other code (PyTorch projects, the MATLAB toolbox) as saved
files. This module turns such files into a normal run of a suite: a :class:`RunSpec` whose model
is the given name with ``dist="outputs"`` and whose run key holds the outputs' content hash, so
the result resumes, ranks, exports and logs like any run, through the same scoring path
(:mod:`.scoring`) and the same coordinator (:func:`.runner.run_plan`).

What is read (PATH):

* **a folder of per-item files** — ``.mat`` (v5 or v7.3), ``.h5``/``.hdf5``, ``.npy``, images
  (``.png``, ``.jpg``, ``.bmp``) and ``.tif``/GeoTIFF. Files are matched to the dataset's items
  **by id** when every item id has a file whose name (less the extension, or the part that the
  ``*`` of ``--glob`` stands for) is the id; otherwise **by sorted order** (natural sort, so
  ``out_2`` comes before ``out_10``) when no name is an id and the counts agree. Anything else
  (some ids found, others not; two files for one item; two names that sort alike) is refused.
* **one stack** (``.h5``/``.mat``/``.npy`` file, or a folder holding just one): ``(N,C,H,W)``
  or ``(N,H,W,C)``, one grey ``(N,H,W)``; an ``image_ids`` dataset beside it (as
  ``run --save-outputs`` writes) matches by id, otherwise by order.

Layouts are decided from the dataset's geometry (each item's expected ``C,H,W``), never from a
band-count guess; a shape that fits both ``(C,H,W)`` and ``(H,W,C)`` (``C == H == W``) is refused.
Arrays are in the dataset's native units; an output that looks normalised (max ≤ 1 where the data
go to 2047) is refused with the ``--scale`` to use. Colour images scored against a one-channel
task (IVF/MIF) are reduced to their luminance exactly as the datasets reduce a colour source.
Every problem is a :class:`OutputsError` naming the file and the item, raised before anything is
written.
"""

from __future__ import annotations

import fnmatch
import hashlib
import itertools
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fusionbench.engine.execution import card_from, fail_outcome
from fusionbench.engine.executors.base import EventSink, Job, JobFinished, JobProgress, JobStarted, WorkerConfig
from fusionbench.engine.outputs_out import IDS_KEY, MANIFEST
from fusionbench.engine.planner import (
    DatasetCache,
    Plan,
    Selection,
    _ref,
    entry_datasets,
    entry_metrics,
    reference_metrics,
    resolve_params,
)
from fusionbench.engine.runspec import ComponentRef, RunSpec, image_seed
from fusionbench.engine.scoring import as_batch, build_metrics, score_prediction, write_scores
from fusionbench.errors import FusionbenchError, PlanError, UnknownComponentError
from fusionbench.registry import Registered, Registry
from fusionbench.results.leaderboard import OUTPUTS_DIST
from fusionbench.results.records import RunOutcome, utc_now
from fusionbench.specs import frozen_mapping
from fusionbench.tasks import get_task

OUTPUTS_VERSION = "1"

STACK_SUFFIXES = (".h5", ".hdf5", ".mat", ".npy")
IMAGE_FILE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")
TIFF_FILE_SUFFIXES = (".tif", ".tiff")
SUFFIXES = STACK_SUFFIXES + IMAGE_FILE_SUFFIXES + TIFF_FILE_SUFFIXES

ACCEPTED_KEYS = ("fused", "sr", "output", "out", "result", "pred", "I_F", "I_fused")
"""Variable names looked for in ``.mat``/``.h5`` files, in this order, when ``--key`` is not given:
``fused`` (what ``run --save-outputs`` writes), ``sr`` (the toolbox's / PanCollection's result
files), and common names of training codebases. A file with exactly one image-shaped variable
needs no key either."""


class OutputsError(FusionbenchError, ValueError):
    """Saved outputs that cannot be scored: the message names the file and the item."""


@dataclass(frozen=True)
class ScoreRequest:
    """What ``fusionbench score`` was asked to do."""

    suite: str
    dataset: str  # a selection: NAME or NAME[k=v,...]
    name: str
    path: Path
    key: str | None = None
    scale: float | None = None
    glob: str | None = None
    data_root: Path | None = None
    max_items: int | None = None  # the first N items only, like ``run --max-items``


@dataclass
class LoadedOutputs:
    """Validated outputs: one ``(C,H,W)`` float64 array per item id, in native units."""

    arrays: dict[str, np.ndarray]
    files: dict[str, Path]  # image id -> the file it came from
    file_sha256: dict[Path, str]
    matched_by: str  # "id" | "order"
    description: str  # for people: how the files were matched

    def content_sha256(self, ids: Sequence[str]) -> str:
        """SHA-256 of the ids, shapes and float64 values: the outputs' identity in the run key
        (independent of the file format and names, dependent on ``--scale`` and ``--key``)."""
        digest = hashlib.sha256()
        for image_id in ids:
            array = np.ascontiguousarray(self.arrays[image_id], dtype=np.float64)
            digest.update(image_id.encode() + b"\0" + repr(array.shape).encode() + b"\0")
            digest.update(array.tobytes())
        return digest.hexdigest()


@dataclass
class PreparedScore:
    """Everything scoring needs, validated: the run, its items and the outputs."""

    run: RunSpec
    dataset_entry: Registered
    items: list[Any]
    outputs: LoadedOutputs
    warnings: list[str] = field(default_factory=list)

    @property
    def plan(self) -> Plan:
        return Plan(suite=self.run.suite, runs=[self.run], warnings=list(self.warnings))


# -- geometry -----------------------------------------------------------------------------------
def to_chw(array: np.ndarray, expected: tuple[int, int, int], where: str) -> np.ndarray:
    """One item as ``(C,H,W)``, its layout decided by the expected geometry ``(C,H,W)``:
    ``(C,H,W)``, ``(H,W,C)`` or, for one channel, ``(H,W)``. Refuses shapes that fit neither and
    shapes that fit both (``C == H == W`` with different meanings)."""
    c, h, w = expected
    shape = tuple(array.shape)
    if array.ndim == 2:
        if c == 1 and shape == (h, w):
            return array[None]
        raise OutputsError(f"{where}: shape {shape}, expected {(c, h, w)} (C,H,W) or {(h, w, c)} (H,W,C)")
    if array.ndim == 3:
        chw, hwc = shape == (c, h, w), shape == (h, w, c)
        if chw and hwc and not (c == 1 or (h == w == 1)):
            raise OutputsError(
                f"{where}: shape {shape} fits both (C,H,W) and (H,W,C); save it with a distinguishable layout"
            )
        if chw:
            return array
        if hwc:
            return np.moveaxis(array, -1, 0)
    raise OutputsError(f"{where}: shape {shape}, expected {(c, h, w)} (C,H,W) or {(h, w, c)} (H,W,C)")


def split_stack(array: np.ndarray, n: int, expected: tuple[int, int, int], where: str) -> list[np.ndarray]:
    """A stack as ``n`` ``(C,H,W)`` arrays: ``(N,C,H,W)``, ``(N,H,W,C)``, ``(N,H,W)`` for one
    channel, or one item's ``(C,H,W)``/``(H,W,C)`` when ``n == 1``."""
    if array.ndim == 4 or (array.ndim == 3 and expected[0] == 1 and array.shape[0] == n and n != 1):
        if array.shape[0] != n:
            raise OutputsError(f"{where}: the stack holds {array.shape[0]} images, the dataset has {n} items")
        return [to_chw(array[i], expected, f"{where} [{i}]") for i in range(n)]
    if n == 1:
        return [to_chw(array, expected, where)]
    raise OutputsError(f"{where}: shape {tuple(array.shape)} is not a stack of {n} images (N,C,H,W or N,H,W,C)")


# -- reading files -------------------------------------------------------------------------------
def _pick_key(names: Sequence[str], key: str | None, where: Path, shaped: Sequence[str]) -> str:
    if key is not None:
        if key not in names:
            raise OutputsError(f"{where}: no variable {key!r} (it has: {', '.join(sorted(names)) or 'none'})")
        return key
    found = [k for k in ACCEPTED_KEYS if k in names]
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        raise OutputsError(f"{where}: several output variables ({', '.join(found)}); choose one with --key")
    if len(shaped) == 1:
        return shaped[0]
    raise OutputsError(
        f"{where}: which variable holds the fused image? it has {', '.join(sorted(names)) or 'none'}; "
        f"choose with --key (looked for {', '.join(ACCEPTED_KEYS)})"
    )


def _read_h5(path: Path, key: str | None) -> tuple[np.ndarray, list[str] | None]:
    import h5py

    try:
        with h5py.File(path, "r") as handle:
            names = [k for k in handle.keys() if isinstance(handle[k], h5py.Dataset)]
            shaped = [k for k in names if handle[k].ndim >= 2 and k != IDS_KEY]
            chosen = _pick_key(names, key, path, shaped)
            array = np.asarray(handle[chosen][()])
            ids = None
            if IDS_KEY in handle:
                ids = [v.decode() if isinstance(v, bytes) else str(v) for v in handle[IDS_KEY][()]]
    except OSError as exc:
        raise OutputsError(f"{path}: not a readable HDF5 file: {exc}") from None
    return array, ids


def _read_mat(path: Path, key: str | None) -> np.ndarray:
    from fusionbench.datasets.matfiles import load_mat

    try:
        variables = load_mat(path)
    except FusionbenchError as exc:
        raise OutputsError(str(exc)) from None
    arrays = {k: v for k, v in variables.items() if isinstance(v, np.ndarray) and v.dtype.kind in "biuf"}
    chosen = _pick_key(list(arrays), key, path, [k for k, v in arrays.items() if v.ndim >= 2])
    return arrays[chosen]


def _read_array(path: Path, key: str | None) -> tuple[np.ndarray, list[str] | None]:
    """A numeric array from a stack-format file, and the ids stored beside it (h5 only)."""
    suffix = path.suffix.lower()
    if suffix in (".h5", ".hdf5"):
        return _read_h5(path, key)
    if suffix == ".mat":
        return _read_mat(path, key), None
    try:
        return np.load(path, allow_pickle=False), None
    except (OSError, ValueError) as exc:
        raise OutputsError(f"{path}: not a readable .npy file: {exc}") from None


def _read_item(path: Path, key: str | None, expected: tuple[int, int, int], where: str) -> np.ndarray:
    suffix = path.suffix.lower()
    if suffix in IMAGE_FILE_SUFFIXES:
        from fusionbench.datasets.images import read_image, to_luminance

        try:
            pixels = read_image(path)
        except FusionbenchError as exc:
            raise OutputsError(str(exc)) from None
        if expected[0] == 1 and pixels.ndim == 3:
            return to_luminance(pixels).y.astype(np.float64)  # colour fused image: its luminance, like the datasets
        return to_chw(pixels, expected, where)
    if suffix in TIFF_FILE_SUFFIXES:
        from fusionbench.datasets.rasters import read_raster

        try:
            return to_chw(read_raster(path), expected, where)
        except OutputsError:
            raise
        except FusionbenchError as exc:
            raise OutputsError(str(exc)) from None
    array, _ = _read_array(path, key)
    return to_chw(array, expected, where)


# -- matching ------------------------------------------------------------------------------------
def natural_key(name: str) -> tuple[Any, ...]:
    """Sort key that compares digit runs as numbers: ``out_2`` before ``out_10``."""
    return tuple(int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name))


def _glob_regex(pattern: str) -> re.Pattern[str] | None:
    """The ``--glob`` pattern (``*`` and ``?`` wildcards) as a regex capturing what its first
    ``*`` stands for: with ``--glob '*_GFF.jpg'``, ``carLight_GFF.jpg`` is item ``carLight``."""
    if "*" not in pattern:
        return None
    parts, captured = [], False
    for char in pattern:
        if char == "*":
            parts.append(".*" if captured else "(.*)")
            captured = True
        elif char == "?":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    return re.compile("".join(parts) + r"\Z", re.S)


def _candidate_files(folder: Path, glob: str | None) -> list[Path]:
    files = []
    for path in sorted(folder.iterdir()):
        if not path.is_file() or path.name.startswith(".") or path.name == MANIFEST:
            continue
        if glob is not None and not fnmatch.fnmatchcase(path.name, glob):
            continue
        if path.suffix.lower() in SUFFIXES:
            files.append(path)
    return files


def _file_ids(files: Sequence[Path], glob: str | None) -> dict[str, Path]:
    regex = _glob_regex(glob) if glob else None
    out: dict[str, Path] = {}
    for path in files:
        match = regex.match(path.name) if regex is not None else None
        file_id = match.group(1) if match else path.stem
        if file_id in out:
            raise OutputsError(
                f"two files for item {file_id!r}: {out[file_id].name} and {path.name}; "
                "keep one, or choose with --glob (e.g. --glob '*.png')"
            )
        out[file_id] = path
    return out


def match_files(
    files: Sequence[Path], ids: Sequence[str], glob: str | None, folder: Path
) -> tuple[dict[str, Path], str, str]:
    """Map item ids to files: by id when every id has its file, by sorted order when no file
    name is an id and the counts agree; refuse everything in between."""
    from fusionbench.results.store import safe_name

    by_name = _file_ids(files, glob)
    lookup = {name: name for name in by_name}
    lookup.update({safe_name(name): name for name in by_name})
    found = {
        image_id: by_name[lookup[key]] for image_id in ids for key in (image_id, safe_name(image_id)) if key in lookup
    }
    if found and len(found) == len(ids):
        extra = sorted(set(by_name.values()) - set(found.values()))
        if extra:
            raise OutputsError(
                f"{folder}: {len(extra)} extra files match no item of the dataset: "
                + ", ".join(p.name for p in extra[:5])
                + ("" if glob else "; narrow with --glob")
            )
        return found, "id", f"matched {len(ids)} files by item id"
    if found:
        missing = [i for i in ids if i not in found]
        raise OutputsError(
            f"{folder}: missing items: no file for {len(missing)} of {len(ids)} items: {', '.join(missing[:5])}"
            + (" ..." if len(missing) > 5 else "")
        )
    if len(files) != len(ids):
        raise OutputsError(
            f"{folder}: {len(files)} files but the dataset has {len(ids)} items, and no file name is an item id "
            f"(ids look like {', '.join(ids[:3])}); nothing to match by"
        )
    ordered = sorted(files, key=lambda p: natural_key(p.name))
    keys = [natural_key(p.stem) for p in ordered]
    if len(set(keys)) != len(keys):
        clash = [p.name for p, k in zip(ordered, keys) if keys.count(k) > 1]
        raise OutputsError(f"{folder}: file names sort alike ({', '.join(clash[:4])}); cannot match by order")
    pairs = dict(zip(ids, ordered))
    return (
        pairs,
        "order",
        (
            f"matched {len(ids)} files to the items by sorted order (no file is named by an item id): "
            f"{ordered[0].name} -> {ids[0]}, ..., {ordered[-1].name} -> {ids[-1]}"
        ),
    )


def load_outputs(
    path: Path,
    ids: Sequence[str],
    expected: dict[str, tuple[int, int, int]],
    *,
    key: str | None = None,
    glob: str | None = None,
    scale: float | None = None,
    max_value: float = 1.0,
) -> LoadedOutputs:
    """Read, match and validate outputs for the items ``ids`` (see the module docstring)."""
    from fusionbench.weights import file_sha256

    path = Path(path).expanduser()
    if not path.exists():
        raise OutputsError(f"{path}: no such file or folder")
    files: dict[str, Path]
    arrays: dict[str, np.ndarray] = {}
    if path.is_dir():
        candidates = _candidate_files(path, glob)
        if not candidates:
            raise OutputsError(
                f"{path}: no output files found (looked for {', '.join(SUFFIXES)}{' matching ' + glob if glob else ''})"
            )
        stack = len(candidates) == 1 and len(ids) > 1 and candidates[0].suffix.lower() in STACK_SUFFIXES
        if stack:
            path = candidates[0]
        else:
            files, matched_by, description = match_files(candidates, ids, glob, path)
            for image_id in ids:
                arrays[image_id] = _read_item(
                    files[image_id], key, expected[image_id], f"{files[image_id]} (item {image_id})"
                )
    if not arrays:  # one stack file
        if path.suffix.lower() not in STACK_SUFFIXES:
            raise OutputsError(
                f"{path}: a single file must be a stack ({', '.join(STACK_SUFFIXES)}); give a folder of images"
            )
        array, stored_ids = _read_array(path, key)
        shapes = set(expected.values())
        if len(shapes) != 1:
            raise OutputsError(
                f"{path}: the dataset's items differ in size; give a folder of per-item files, not a stack"
            )
        items = split_stack(np.asarray(array), len(ids), shapes.pop(), str(path))
        if stored_ids is not None:
            if sorted(stored_ids) != sorted(ids) or len(set(stored_ids)) != len(stored_ids):
                missing, extra = sorted(set(ids) - set(stored_ids)), sorted(set(stored_ids) - set(ids))
                raise OutputsError(
                    f"{path}: its {IDS_KEY} do not match the dataset's items (missing: {missing[:5]}, extra: {extra[:5]})"
                )
            arrays = dict(zip(stored_ids, items))
            matched_by, description = "id", f"one stack of {len(ids)} images, matched by its {IDS_KEY}"
        else:
            arrays = dict(zip(ids, items))
            matched_by, description = "order", f"one stack of {len(ids)} images, matched to the items in dataset order"
        files = {image_id: path for image_id in ids}
    out: dict[str, np.ndarray] = {}
    for image_id in ids:
        array = np.asarray(arrays[image_id], dtype=np.float64)
        if scale is not None:
            array = array * scale
        bad = int((~np.isfinite(array)).sum())
        if bad:
            raise OutputsError(f"{files[image_id]} (item {image_id}): {bad} non-finite values (NaN/inf)")
        out[image_id] = array
    peak = max(float(a.max()) for a in out.values())
    if max_value > 1.0 and peak <= 1.0:
        raise OutputsError(
            f"{path}: the outputs look normalised (max {peak:.4g}) but the dataset's values go to {max_value:g}; "
            f"give them in the dataset's units, or pass --scale {max_value:g} if they are value/{max_value:g}"
        )
    hashes = {p: file_sha256(p) for p in dict.fromkeys(files.values())}
    return LoadedOutputs(out, files, hashes, matched_by, description)


# -- the run -------------------------------------------------------------------------------------
def _find_dataset(registry: Registry, suite: Any, selection: Selection) -> tuple[Any, Registered, dict[str, Any]]:
    hits = []
    for entry in suite.entries:
        datasets, params = entry_datasets(registry, entry, [selection])
        hits.extend((entry, d, params[d.name]) for d in datasets)
    if not hits:
        blocks = ", ".join(f"{e.task}/{e.protocol}" for e in suite.entries)
        raise PlanError(f"no dataset {selection.pattern!r} in suite {suite.name!r} (its blocks: {blocks})")
    if len(hits) > 1:
        names = sorted({d.name for _, d, _ in hits})
        raise PlanError(
            f"{selection.pattern!r} names {len(hits)} datasets of suite {suite.name!r} ({', '.join(names)}); name one"
        )
    return hits[0]


def prepare_score(registry: Registry, request: ScoreRequest) -> PreparedScore:
    """Plan the one run of ``request`` and load its outputs; raises before anything is written."""
    if not request.name.strip():
        raise PlanError("--name must not be empty")
    if request.scale is not None and not (np.isfinite(request.scale) and request.scale > 0):
        raise PlanError(f"--scale must be a positive number, got {request.scale}")
    try:
        suite = registry.suites.get(request.suite).spec
    except UnknownComponentError as exc:
        raise PlanError(str(exc)) from None
    entry, dataset_entry, given = _find_dataset(registry, suite, Selection.parse(request.dataset))
    params = resolve_params("dataset", dataset_entry.name, dataset_entry.spec.params, given)
    dataset, data_hash, unavailable = DatasetCache(request.data_root).open(dataset_entry, params, entry.split)
    if unavailable is not None:
        raise FusionbenchError(unavailable)
    warnings: list[str] = []
    metrics = reference_metrics(registry, entry, entry_metrics(registry, suite, entry, warnings))
    task = get_task(entry.task)
    max_items = request.max_items if request.max_items is not None else entry.max_items
    items = list(itertools.islice(dataset.items(entry.split), max_items))
    ids = [item.image_id for item in items]
    expected = {
        item.image_id: (
            int(np.shape(item.inputs[task.output_channels_from])[0]),
            *(int(n) for n in np.shape(item.inputs[task.output_size_from])[-2:]),
        )
        for item in items
    }
    card = dataset.card
    outputs = load_outputs(
        request.path,
        ids,
        expected,
        key=request.key,
        glob=request.glob,
        scale=request.scale,
        max_value=float(card.max_value),
    )
    model = ComponentRef(kind="model", name=request.name.strip(), spec_version=OUTPUTS_VERSION, dist=OUTPUTS_DIST)
    run = RunSpec(
        suite=suite.name,
        suite_version=str(suite.version),
        task=entry.task,
        protocol=entry.protocol,
        dataset=_ref(dataset_entry, params),
        split=entry.split,
        model=model,
        sampler=None,
        metrics=metrics,
        seed=0,
        repetition=0,
        data_sha256=data_hash or "",
        weights_sha256=(f"outputs:{outputs.content_sha256(ids)}",),
        card=frozen_mapping(card.as_dict()),
        max_items=max_items,
    )
    return PreparedScore(run, dataset_entry, items, outputs, warnings)


def score_outputs(registry: Registry, prepared: PreparedScore, attempt: int, results_dir: Path) -> RunOutcome:
    """Score the loaded outputs of ``prepared`` and write the scores file: a run's outcome."""
    import torch

    run = prepared.run
    t0 = time.perf_counter()
    outcome = RunOutcome(status="ok", started_at=utc_now(), device="cpu", torch_version=torch.__version__)
    try:
        task = get_task(run.task)
        metrics = build_metrics(registry, run)
        card = card_from(run.card)
        rows: list[dict[str, Any]] = []
        for item in prepared.items:
            image_id = item.image_id
            inputs = {name: as_batch(item.inputs[name]) for name in task.input_names}
            file = prepared.outputs.files[image_id]
            item_rows = score_prediction(
                metrics,
                as_batch(prepared.outputs.arrays[image_id]),
                item.reference,
                inputs,
                card,
                image_id=image_id,
                seed=image_seed(run, image_id),
                image_wall_s=None,
            )
            for row in item_rows:
                row["output_file"] = str(file)
                row["output_sha256"] = prepared.outputs.file_sha256[file]
            rows.extend(item_rows)
        outcome.n_images_expected = outcome.n_images_scored = len(prepared.items)
        outcome.wall_s = time.perf_counter() - t0
        outcome.scores_path = str(
            write_scores(registry, run, attempt, rows, results_dir=results_dir, device="cpu", wall_s=outcome.wall_s)
        )
    except Exception as exc:  # noqa: BLE001 - a metric's error fails this run only, with its traceback
        fail_outcome(outcome, "failed", exc)
    outcome.wall_s = time.perf_counter() - t0
    outcome.finished_at = utc_now()
    return outcome


class OutputsExecutor:
    """Hands the runner's job to :func:`score_outputs` instead of a model (in this process)."""

    name = "outputs"

    def __init__(self, registry: Registry, prepared: PreparedScore):
        self.registry = registry
        self.prepared = prepared

    def run(self, jobs: Sequence[Job], config: WorkerConfig, emit: EventSink) -> None:
        for job in jobs:
            emit(JobStarted(job, "cpu"))
            emit(JobProgress(job, 0, len(self.prepared.items)))
            outcome = score_outputs(self.registry, self.prepared, job.attempt, Path(config.results_dir))
            emit(JobFinished(job, outcome))


__all__ = [
    "ACCEPTED_KEYS",
    "OUTPUTS_DIST",
    "LoadedOutputs",
    "OutputsError",
    "OutputsExecutor",
    "PreparedScore",
    "ScoreRequest",
    "load_outputs",
    "match_files",
    "natural_key",
    "prepare_score",
    "score_outputs",
    "split_stack",
    "to_chw",
]
