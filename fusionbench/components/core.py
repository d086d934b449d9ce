"""First-party core plugin: executors, the default suites and the local weights resolver.

Registered through the ``fusionbench`` entry-point group exactly like a third-party plugin.
"""

from __future__ import annotations

from pathlib import Path

from fusionbench import hookimpl
from fusionbench.components.suites import DEFAULT_SUITES
from fusionbench.specs import ExecutorSpec


@hookimpl
def fusionbench_register_executors():
    return [
        ExecutorSpec(
            name="inline",
            factory="fusionbench.engine.executors.inline:InlineExecutor",
            description="serial, in the calling process (debugging)",
        ),
        ExecutorSpec(
            name="local",
            factory="fusionbench.engine.executors.local:LocalExecutor",
            description="one worker process per GPU, or per CPU slot; a crash fails one run only",
        ),
        ExecutorSpec(
            name="ray",
            factory="fusionbench.engine.executors.ray_executor:RayExecutor",
            description="one Ray task per run on a cluster ($RAY_ADDRESS) or a local Ray; extra fusionbench[ray]",
        ),
    ]


@hookimpl
def fusionbench_register_suites():
    return list(DEFAULT_SUITES)


@hookimpl(trylast=True)
def fusionbench_resolve_weights(uri: str, expected_sha256: str, cache_dir: Path):
    """Find a checkpoint on disk (a file or a folder) along :func:`fusionbench.weights.search_path`.
    Never downloads. The hash is checked by the caller (:func:`fusionbench.weights.resolve_verified`)."""
    from fusionbench.weights import locate

    return locate(uri, cache_dir)
