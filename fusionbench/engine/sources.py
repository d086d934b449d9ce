"""Which plugin source a run was computed with: a hash of the plugin package's source files.

Why: a plugin author edits ``fuse()`` and reruns; the model's spec version is unchanged, so the
run key is unchanged and the old scores would be reused silently. For a distribution installed
*from source* (``pip install -e PATH`` or ``pip install PATH``: its ``direct_url.json`` has
``dir_info``, PEP 610) the SHA-256 of the package's ``*.py`` files therefore joins the model's
identity in the run key (and is recorded in the run spec). A release installed from an index
carries no ``direct_url.json`` with ``dir_info``: its version is enough, and its keys are the
same as without this module.

Which files: every ``*.py`` file (relative name and content) below the top-level package of the
plugin's hook module and of the model's factory (``"pkg.model:Net"`` → ``pkg``), caches and
hidden folders excluded. Data files are not hashed: checkpoints have their own hashes, and a
model that writes into its package folder must not change its own key.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

_CACHE: dict[tuple[Any, ...], str] = {}


@functools.cache
def installed_from_source(dist: str) -> bool:
    """True when the distribution was installed from a local folder (editable or not); asked
    once per process and distribution (a plan asks for every model x dataset)."""
    try:
        text = metadata.distribution(dist).read_text("direct_url.json")
    except (metadata.PackageNotFoundError, ValueError):
        return False
    if not text:
        return False
    try:
        return "dir_info" in json.loads(text)
    except json.JSONDecodeError:
        return False


def _package_files(top: str) -> tuple[Path, list[Path]] | None:
    """The folder (or single module file) of a top-level import name and its ``*.py`` files,
    found without importing it."""
    try:
        found = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return None
    if found is None:
        return None
    locations = list(found.submodule_search_locations or [])
    if locations:
        root = Path(locations[0])
        files = sorted(
            p
            for p in root.rglob("*.py")
            if not any(part.startswith(".") or part == "__pycache__" for part in p.relative_to(root).parts)
        )
        return root, files
    if found.origin and found.origin.endswith(".py"):
        origin = Path(found.origin)
        return origin.parent, [origin]
    return None


def tree_sha256(modules: Iterable[str]) -> str:
    """SHA-256 over the ``*.py`` files of the top-level packages of ``modules`` (``"a.b"``,
    ``"a.b:attr"``); remembered per (names, sizes, mtimes), so a plan of many runs reads them once."""
    tops = sorted({m.split(":", 1)[0].split(".", 1)[0] for m in modules if m})
    trees = [(top, _package_files(top)) for top in tops]
    signature = tuple(
        (top, tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in found[1]) if found else None)
        for top, found in trees
    )
    if signature not in _CACHE:
        digest = hashlib.sha256()
        for top, found in trees:
            if found is None:
                continue
            root, files = found
            for path in files:
                digest.update(f"{top}/{path.relative_to(root).as_posix()}\0".encode())
                digest.update(hashlib.sha256(path.read_bytes()).hexdigest().encode() + b"\n")
        _CACHE[signature] = digest.hexdigest()
    return _CACHE[signature]


def plugin_source_sha256(registry: Any, entry: Any) -> str:
    """The source hash of the plugin that registered ``entry`` (a ``Registered`` component), or
    ``""`` when its distribution is a release (not installed from a local folder)."""
    if not installed_from_source(entry.dist):
        return ""
    try:
        module = registry.status(entry.plugin).module
    except Exception:  # noqa: BLE001 - a component registered in-process has no entry point
        module = ""
    factory = (
        entry.spec.factory if isinstance(entry.spec.factory, str) else getattr(entry.spec.factory, "__module__", "")
    )
    return tree_sha256([module, factory])
