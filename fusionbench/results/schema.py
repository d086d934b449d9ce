"""The Parquet schemas (long format) and the only functions that build their rows.

Evolve by adding nullable columns only, and bump ``SCHEMA_VERSION``; the reader unifies older
files so nothing is silently dropped. Rows are built here and nowhere else, so a column is named
once in its schema and once in its builder.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

from fusionbench import __version__
from fusionbench.canonical import canonical_json

from .records import RunOutcome, RunRecord, utc_now

SCHEMA_VERSION = "3"
METADATA_KEY = b"fusionbench.schema_version"

_TS = pa.timestamp("us", tz="UTC")
_PARTITION = pa.dictionary(pa.int32(), pa.string())
"""The type of the columns that are also folder names (``suite=``, ``task=``): what
``pandas.read_parquet(<results>/scores)`` infers for the hive partitions, so the in-file column
and the partition merge instead of clashing (string vs dictionary). Our reader decodes them."""

SCORES_SCHEMA = pa.schema(
    [
        ("run_key", pa.string()),
        ("attempt", pa.int32()),
        ("suite", _PARTITION),
        ("suite_version", pa.string()),
        ("task", _PARTITION),
        ("protocol", pa.string()),
        ("dataset", pa.string()),
        ("dataset_version", pa.string()),
        ("dataset_params_json", pa.string()),
        ("data_sha256", pa.string()),
        ("split", pa.string()),
        ("image_id", pa.string()),
        ("model", pa.string()),
        ("model_version", pa.string()),
        ("model_params_json", pa.string()),
        ("model_dist", pa.string()),
        ("model_dist_version", pa.string()),
        ("weights_sha256_json", pa.string()),
        ("sampler", pa.string()),
        ("sampler_version", pa.string()),
        ("sampler_params_json", pa.string()),
        ("metric", pa.string()),
        ("metric_version", pa.string()),
        ("metric_params_json", pa.string()),
        ("metric_dist_version", pa.string()),
        ("higher_is_better", pa.bool_()),
        ("value", pa.float64()),
        ("seed", pa.int64()),
        ("base_seed", pa.int64()),
        ("repetition", pa.int32()),
        ("card_json", pa.string()),
        ("dataset_synthetic", pa.bool_()),  # v2: from DatasetSpec.synthetic (null in v1 files)
        ("output_file", pa.string()),  # v3: scored from saved outputs (`fusionbench score`): the image's file
        ("output_sha256", pa.string()),  # v3: and that file's SHA-256 (null for runs of a model)
        ("fusionbench_version", pa.string()),
        ("device", pa.string()),
        ("image_wall_s", pa.float64()),
        ("run_wall_s", pa.float64()),
        ("created_at", _TS),
    ]
)

RUNS_SCHEMA = pa.schema(
    [
        ("run_key", pa.string()),
        ("attempt", pa.int32()),
        ("suite", _PARTITION),
        ("label", pa.string()),
        ("spec_json", pa.string()),
        ("status", pa.string()),
        ("error_type", pa.string()),
        ("error_message", pa.string()),
        ("traceback", pa.string()),
        ("started_at", _TS),
        ("finished_at", _TS),
        ("wall_s", pa.float64()),
        ("per_image_mean_s", pa.float64()),
        ("nfe", pa.int64()),
        ("peak_mem_mb", pa.float64()),
        ("device", pa.string()),
        ("device_name", pa.string()),
        ("torch_version", pa.string()),
        ("fusionbench_version", pa.string()),
        ("executor", pa.string()),
        ("host", pa.string()),
        ("env_json", pa.string()),
        ("scores_file", pa.string()),
        ("n_images_expected", pa.int64()),
        ("n_images_scored", pa.int64()),
        ("observer_errors_json", pa.string()),
    ]
)


def with_version(schema: pa.Schema) -> pa.Schema:
    return schema.with_metadata({METADATA_KEY: SCHEMA_VERSION.encode()})


def scores_table(
    rows: Sequence[Mapping[str, Any]], run: Any, attempt: int, *, device: str, synthetic: bool
) -> pa.Table:
    """One run attempt's scores: ``rows`` (one per image x metric: image_id, metric, value, ...)
    joined with the run's identity and provenance. ``run`` is a
    :class:`fusionbench.engine.runspec.RunSpec` (duck-typed: results sit below the engine)."""
    common = {
        "run_key": run.run_key,
        "attempt": attempt,
        "suite": run.suite,
        "suite_version": run.suite_version,
        "task": run.task,
        "protocol": run.protocol,
        "dataset": run.dataset.name,
        "dataset_version": run.dataset.spec_version,
        "dataset_params_json": canonical_json(dict(run.dataset.params)),
        "data_sha256": run.data_sha256,
        "split": run.split,
        "model": run.model.name,
        "model_version": run.model.spec_version,
        "model_params_json": canonical_json(dict(run.model.params)),
        "model_dist": run.model.dist,
        "model_dist_version": run.model.dist_version,
        "weights_sha256_json": json.dumps(list(run.weights_sha256)),
        "sampler": run.sampler.name if run.sampler else None,
        "sampler_version": run.sampler.spec_version if run.sampler else None,
        "sampler_params_json": canonical_json(dict(run.sampler.params)) if run.sampler else None,
        "base_seed": run.seed,
        "repetition": run.repetition,
        "card_json": canonical_json(dict(run.card)),
        "dataset_synthetic": bool(synthetic),
        "fusionbench_version": __version__,
        "device": device,
        "created_at": utc_now(),
    }
    full = [{**common, **row} for row in rows]
    columns = {f.name: [r.get(f.name) for r in full] for f in SCORES_SCHEMA}
    return pa.Table.from_pydict(columns, schema=with_version(SCORES_SCHEMA))


def run_record_table(record: RunRecord) -> pa.Table:
    """The one-row runs table of one run attempt."""
    o: RunOutcome = record.outcome
    row = {
        "run_key": record.run_key,
        "attempt": record.attempt,
        "suite": record.suite,
        "label": record.label,
        "spec_json": record.spec_json,
        "status": o.status,
        "error_type": o.error_type,
        "error_message": o.error_message,
        "traceback": o.traceback,
        "started_at": o.started_at,
        "finished_at": o.finished_at,
        "wall_s": o.wall_s,
        "per_image_mean_s": o.per_image_mean_s,
        "nfe": o.nfe,
        "peak_mem_mb": o.peak_mem_mb,
        "device": o.device,
        "device_name": o.device_name,
        "torch_version": o.torch_version,
        "fusionbench_version": record.fusionbench_version,
        "executor": record.executor,
        "host": record.host,
        "env_json": record.env_json,
        "scores_file": o.scores_path,
        "n_images_expected": o.n_images_expected,
        "n_images_scored": o.n_images_scored,
        "observer_errors_json": json.dumps(record.observer_errors),
    }
    return pa.Table.from_pylist([row], schema=with_version(RUNS_SCHEMA))
