"""Find a dataset's files under the data root, and say where we looked when they are absent.

Patterns are relative to the root, matched component by component, *case-insensitively* (a
download unpacked as ``TNO/IR`` or ``tno/ir`` both work), with shell wildcards inside a
component and ``**`` for "any folders, up to :data:`MAX_STARSTAR_DEPTH` deep". Results are
sorted, so the same tree always resolves to the same files.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence
from pathlib import Path

from .paths import ENV_VAR

MAX_STARSTAR_DEPTH = 4


def match(root: Path, pattern: str) -> list[Path]:
    """All paths under ``root`` matching ``pattern`` (see module docstring), sorted."""
    parts = [p for p in pattern.replace("\\", "/").split("/") if p not in ("", ".")]
    return sorted(set(_match(root, parts, MAX_STARSTAR_DEPTH)))


def _children(folder: Path) -> list[Path]:
    try:
        return sorted(folder.iterdir())
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return []


def _match(base: Path, parts: Sequence[str], depth: int) -> Iterable[Path]:
    if not parts:
        yield base
        return
    head, rest = parts[0], parts[1:]
    if head == "**":
        yield from _match(base, rest, depth)
        if depth > 0:
            for child in _children(base):
                if child.is_dir():
                    yield from _match(child, parts, depth - 1)
        return
    wildcard = any(c in head for c in "*?[")
    if not wildcard:
        exact = base / head
        if exact.exists():
            yield from _match(exact, rest, depth)
            return
    low = head.lower()
    for child in _children(base):
        name = child.name.lower()
        if fnmatch.fnmatchcase(name, low) if wildcard else name == low:
            yield from _match(child, rest, depth)


def find_file(root: Path, patterns: Sequence[str]) -> Path | None:
    """The first regular file matching the first pattern that matches anything."""
    for pattern in patterns:
        hits = [p for p in match(root, pattern) if p.is_file()]
        if hits:
            return hits[0]
    return None


def find_dir_pair(root: Path, candidates: Sequence[tuple[str, str]]) -> tuple[Path, Path] | None:
    """The first candidate (folder A, folder B) for which both folders exist."""
    for a_pattern, b_pattern in candidates:
        a_hits = [p for p in match(root, a_pattern) if p.is_dir()]
        b_hits = [p for p in match(root, b_pattern) if p.is_dir()]
        if a_hits and b_hits:
            return a_hits[0], b_hits[0]
    return None


def missing_message(
    dataset: str,
    split: str,
    root: Path | None,
    looked_for: Sequence[str],
    how_to_get: str,
) -> str:
    """The message of a DatasetUnavailable: where we looked (full paths) and how to get the data."""
    lines = [f"dataset {dataset!r}, split {split!r}: data not found."]
    if root is None:
        lines.append(f"  No data root is set: pass --data-root PATH or set ${ENV_VAR}=PATH.")
        lines.append("  Under the data root it expects one of:")
    else:
        state = "" if root.is_dir() else " (this folder does not exist)"
        lines.append(f"  Looked under data root {root}{state} for:")
    lines.extend(f"    {p}" for p in looked_for)
    lines.append(f"  How to get it: {how_to_get}")
    lines.append("  See docs/datasets.md for the expected layout, or use a synthetic-* dataset (no download).")
    return "\n".join(lines)
