"""The one way to read results: explicit globs, schema unification, latest attempt wins.

``pandas.read_parquet(folder)`` silently takes the first file's schema (dropping columns added
later) and breaks on any stray file; this reader unifies schemas permissively and reports
unreadable files instead of failing or hiding them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .schema import METADATA_KEY, RUNS_SCHEMA, SCORES_SCHEMA
from .store import parse_run_file, safe_name


@dataclass
class ReadReport:
    files: int = 0
    problems: list[str] = field(default_factory=list)


def _read_tables(folder: Path, base: pa.Schema, report: ReadReport) -> pa.Table:
    tables: list[pa.Table] = []
    if folder.exists():
        for path in sorted(folder.rglob("*.parquet")):
            if path.name.startswith(".") or parse_run_file(path) is None:
                continue
            try:
                table = pq.read_table(path)
            except Exception as exc:  # noqa: BLE001 - any unreadable file is reported, not fatal
                report.problems.append(f"{path}: unreadable ({type(exc).__name__}: {exc})")
                continue
            version = (table.schema.metadata or {}).get(METADATA_KEY)
            if version is None:
                report.problems.append(f"{path}: no fusionbench schema_version metadata; skipped")
                continue
            table = table.replace_schema_metadata(None)
            try:
                # a readable file whose columns cannot take the known types (a string where a
                # number belongs) would make every later concatenation fail: skip it, say which
                _conform(table, pa.unify_schemas([base, table.schema], promote_options="permissive"))
            except (pa.ArrowTypeError, pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                report.problems.append(f"{path}: incompatible schema ({type(exc).__name__}: {exc}); skipped")
                continue
            tables.append(_decoded(table))
            report.files += 1
    base = _plain_schema(base)
    if not tables:
        return base.empty_table()
    schema = pa.unify_schemas([base, *(t.schema for t in tables)], promote_options="permissive")
    return pa.concat_tables([_conform(t, schema) for t in tables])


def _plain_schema(schema: pa.Schema) -> pa.Schema:
    """``schema`` with dictionary-encoded columns (the partition-named ``suite``/``task``, written
    so that ``pandas.read_parquet(folder)`` merges them with the folder names) as plain values."""
    return pa.schema([pa.field(f.name, f.type.value_type) if pa.types.is_dictionary(f.type) else f for f in schema])


def _decoded(table: pa.Table) -> pa.Table:
    """Files of every version read alike: dictionary columns decoded (older files wrote strings)."""
    for index, column in enumerate(table.schema):
        if pa.types.is_dictionary(column.type):
            table = table.set_column(index, column.name, table.column(index).cast(column.type.value_type))
    return table


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    columns = []
    for schema_field in schema:
        if schema_field.name in table.column_names:
            columns.append(table.column(schema_field.name).cast(schema_field.type))
        else:
            columns.append(pa.nulls(table.num_rows, type=schema_field.type))
    return pa.Table.from_arrays(columns, schema=schema)


def read_runs(results: Path, suite: str | None = None, report: ReadReport | None = None) -> pd.DataFrame:
    report = report or ReadReport()
    folder = results / "runs" / (f"suite={safe_name(suite)}" if suite else "")
    return _read_tables(folder, RUNS_SCHEMA, report).to_pandas()


def latest_runs(results: Path, suite: str | None = None, report: ReadReport | None = None) -> pd.DataFrame:
    """One row per run key: its latest attempt."""
    runs = read_runs(results, suite, report)
    if runs.empty:
        return runs
    runs = runs.sort_values(["run_key", "attempt"])
    return runs.drop_duplicates("run_key", keep="last").reset_index(drop=True)


def read_scores(
    results: Path, suite: str | None = None, *, only_ok: bool = True, report: ReadReport | None = None
) -> pd.DataFrame:
    """Per-image scores of each run's latest attempt; with ``only_ok``, of successful runs only."""
    report = report or ReadReport()
    folder = results / "scores" / (f"suite={safe_name(suite)}" if suite else "")
    scores = _read_tables(folder, SCORES_SCHEMA, report).to_pandas()
    if scores.empty:
        return scores
    latest = latest_runs(results, suite, report)
    if only_ok:
        latest = latest[latest["status"] == "ok"]
    keep = set(zip(latest["run_key"], latest["attempt"]))
    mask = [(k, a) in keep for k, a in zip(scores["run_key"], scores["attempt"])]
    return scores[mask].reset_index(drop=True)


def completed_run_keys(results: Path, report: ReadReport | None = None) -> dict[str, int]:
    """Run keys whose latest attempt finished ok, with that attempt number."""
    latest = latest_runs(results, report=report)
    if latest.empty:
        return {}
    ok = latest[latest["status"] == "ok"]
    return dict(zip(ok["run_key"], ok["attempt"].astype(int)))


def last_attempts(results: Path, report: ReadReport | None = None) -> dict[str, int]:
    latest = latest_runs(results, report=report)
    if latest.empty:
        return {}
    return dict(zip(latest["run_key"], latest["attempt"].astype(int)))


def tidy_scores(
    results: Path, suite: str | None = None, catalog: Any = None, report: ReadReport | None = None
) -> pd.DataFrame:
    """**The** table to analyse results with: one row per run × image × metric, latest attempt of
    each successful run only, schemas of every version unified, with the leaderboard's ``method``
    label (short, unique; see :mod:`fusionbench.results.labels`) and ``spec`` (every parameter).

    ``catalog`` (a :class:`~fusionbench.results.labels.SpecCatalog`) supplies parameter defaults
    for the short labels; the CLI passes the installed components'. ::

        from fusionbench.results.reader import tidy_scores
        scores = tidy_scores(Path("fusionbench-results"), "reduced-res")
        scores.groupby(["dataset", "method", "metric"])["value"].mean()
    """
    from .labels import with_labels

    scores = read_scores(results, suite, report=report)
    return with_labels(scores, catalog) if not scores.empty else scores.assign(method=[], spec=[])


def runs_table(results: Path, suite: str | None = None, report: ReadReport | None = None) -> pd.DataFrame:
    """One row per run (its latest attempt) with ``model``, ``sampler`` and ``dataset`` columns
    taken from the recorded run specification, beside status, timing and errors."""
    import json

    runs = latest_runs(results, suite, report)
    if runs.empty:
        return runs.assign(model=[], sampler=[], dataset=[])

    def part(text: Any, key: str) -> Any:
        try:
            value = json.loads(text).get(key) if isinstance(text, str) else None
        except ValueError:
            return None
        return value.get("name") if isinstance(value, dict) else value

    for column in ("dataset", "sampler", "model"):
        runs.insert(3, column, [part(text, column) for text in runs["spec_json"]])
    return runs
