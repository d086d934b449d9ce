"""Where real data lives: an explicit ``root`` argument wins, then ``$FUSIONBENCH_DATA``, else none.

There is deliberately no default folder (no ``~/data`` guess): a benchmark must never pick up
some other copy of a dataset by accident, so the user always says where the data are.
"""

from __future__ import annotations

import os
from pathlib import Path

from .. import settings
from ..errors import DatasetUnavailable

ENV_VAR = "FUSIONBENCH_DATA"


def resolve_data_root(root: str | os.PathLike[str] | None = None) -> Path | None:
    """Return the data root to use, or None when neither ``root`` nor ``$FUSIONBENCH_DATA`` is set.

    ``~`` is expanded; the path is not required to exist (the caller reports a missing folder
    together with what it expected to find there).
    """
    return settings.data_root(Path(root) if root is not None and str(root) != "" else None)


def describe_root(root: Path | None) -> str:
    """A short phrase for messages: which root was used and where it came from."""
    if root is None:
        return f"no data root (pass --data-root or set ${ENV_VAR})"
    exists = "" if root.is_dir() else " (this folder does not exist)"
    return f"data root {root}{exists}"


def resolve_user_path(path: str, root: str | Path | None, dataset: str) -> Path:
    """A user-given path: absolute, or relative to the data root (else the working directory)."""
    if not path:
        raise DatasetUnavailable(
            f"dataset {dataset!r} needs a path parameter, e.g. {dataset}[path=...] (a file or folder, absolute or under the data root)"
        )
    p = Path(path).expanduser()
    base = resolve_data_root(root)
    candidates = [p] if p.is_absolute() else ([base / p] if base is not None else []) + [Path.cwd() / p]
    for c in candidates:
        if c.exists():
            return c
    raise DatasetUnavailable(
        f"dataset {dataset!r}: {path!r} not found; looked at " + ", ".join(str(c) for c in candidates)
    )
