"""Published numbers (the ``reported`` results kind): read them from a CSV, check them, index them.

A plugin ships the numbers of its paper as a CSV in its package and returns
``read_reported_csv(path)`` from ``fusionbench_register_reported``. The CSV is self-describing:
every row says which table of which paper (or README) it was transcribed from and by whom, so a
reviewer can check each value against its source without the source being in the repository.

Columns (header required; ``method, paper, dataset, protocol, metric, value`` must be filled):

``method, model, paper, year, dataset, protocol, metric, metric_as_published, value, std,
settings, citation, url, source_table, transcribed_by, note`` — see
:class:`fusionbench.specs.ReportedResult` for what each means.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from ..errors import DataFormatError
from ..specs import ReportedResult

REQUIRED = ("method", "paper", "dataset", "protocol", "metric", "value")
COLUMNS = tuple(f.name for f in fields(ReportedResult) if f.name != "provider")


def _number(text: str, where: str, column: str, required: bool) -> float | None:
    text = (text or "").strip()
    if not text:
        if required:
            raise DataFormatError(f"{where}: column {column!r} is empty")
        return None
    try:
        value = float(text)
    except ValueError:
        raise DataFormatError(f"{where}: column {column!r} is not a number: {text!r}") from None
    if not math.isfinite(value):
        raise DataFormatError(f"{where}: column {column!r} is not finite: {text!r}")
    return value


def read_reported_csv(path: str | Path) -> list[ReportedResult]:
    """Every row of a reported-results CSV; raises :class:`DataFormatError` naming the line."""
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(row for row in handle if not row.lstrip().startswith("#"))
            header = reader.fieldnames or []
            missing = [c for c in REQUIRED if c not in header]
            unknown = [c for c in header if c not in COLUMNS]
            if missing or unknown:
                raise DataFormatError(f"{path}: columns missing {missing}, unknown {unknown}; expected {list(COLUMNS)}")
            rows = []
            for line, raw in enumerate(reader, start=2):
                where = f"{path}:{line}"
                for column in REQUIRED:
                    if not (raw.get(column) or "").strip():
                        raise DataFormatError(f"{where}: column {column!r} is empty")
                data: dict[str, Any] = {c: (raw.get(c) or "").strip() for c in COLUMNS if c in raw}
                data["value"] = _number(raw["value"], where, "value", True)
                data["std"] = _number(raw.get("std", ""), where, "std", False)
                year = _number(raw.get("year", ""), where, "year", False)
                data["year"] = int(year) if year is not None else None
                data["settings"] = data.get("settings") or "unstated"
                rows.append(ReportedResult(**data))
    except OSError as exc:
        raise DataFormatError(f"{path}: cannot read: {exc.strerror or exc}") from None
    return rows


def with_provider(rows: Iterable[Any], provider: str) -> tuple[list[ReportedResult], list[str]]:
    """``rows`` a plugin returned, stamped with its name; anything that is not a
    :class:`ReportedResult` is reported as an error instead of being shown."""
    good: list[ReportedResult] = []
    errors: list[str] = []
    for row in rows or ():
        if isinstance(row, ReportedResult):
            good.append(replace(row, provider=provider))
        else:
            errors.append(
                f"{provider}.fusionbench_register_reported: returned {type(row).__name__}, expected ReportedResult"
            )
    return good, errors


def for_dataset(rows: Iterable[ReportedResult], dataset: str) -> list[ReportedResult]:
    """The reported rows of one dataset, in a stable order (method, paper, metric)."""
    return sorted((r for r in rows if r.dataset == dataset), key=lambda r: (r.method.lower(), r.paper, r.metric))
