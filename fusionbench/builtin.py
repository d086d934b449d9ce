"""First-party core plugin: executors, the default suites and the local weights resolver.

Registered through the ``fusionbench`` entry-point group exactly like a third-party plugin.
"""

from __future__ import annotations

import os
from pathlib import Path

from . import hookimpl
from .specs import ExecutorSpec
from .suites import DEFAULT_SUITES


@hookimpl
def fusionbench_register_executors():
    return [
        ExecutorSpec(
            name="inline",
            factory="fusionbench.executors.inline:InlineExecutor",
            description="serial, in the calling process (debugging)",
        ),
        ExecutorSpec(
            name="local",
            factory="fusionbench.executors.local:LocalExecutor",
            description="one worker process per GPU, or per CPU slot; a crash fails one run only",
        ),
        ExecutorSpec(
            name="ray",
            factory="fusionbench.executors.ray_executor:RayExecutor",
            description="one Ray task per run on a cluster ($RAY_ADDRESS) or a local Ray; extra fusionbench[ray]",
        ),
    ]


@hookimpl
def fusionbench_register_suites():
    return list(DEFAULT_SUITES)


@hookimpl(trylast=True)
def fusionbench_resolve_weights(uri: str, expected_sha256: str, cache_dir: Path):
    """Find a checkpoint on disk: an absolute/relative path, or a name under ``$FUSIONBENCH_WEIGHTS``
    or the cache folder. Never downloads. The hash is checked by the caller (see weights.py)."""
    candidates = [Path(uri).expanduser()]
    name = Path(uri.split("://", 1)[-1]).name
    for folder in filter(None, [os.environ.get("FUSIONBENCH_WEIGHTS"), str(cache_dir)]):
        candidates.append(Path(folder).expanduser() / name)
    for path in candidates:
        if path.is_file():
            return path
    return None
