"""The Parquet schemas (long format). Evolve by adding nullable columns only, and bump
``SCHEMA_VERSION``; the reader unifies older files so nothing is silently dropped."""

from __future__ import annotations

import pyarrow as pa

SCHEMA_VERSION = "1"
METADATA_KEY = b"fusionbench.schema_version"

_TS = pa.timestamp("us", tz="UTC")

SCORES_SCHEMA = pa.schema(
    [
        ("run_key", pa.string()),
        ("attempt", pa.int32()),
        ("suite", pa.string()),
        ("suite_version", pa.string()),
        ("task", pa.string()),
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
        ("suite", pa.string()),
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
