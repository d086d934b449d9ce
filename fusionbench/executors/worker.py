"""Entry point of a local worker process. Import-light: the environment (e.g.
``CUDA_VISIBLE_DEVICES``) must be set before torch is imported by the first job."""

from __future__ import annotations

import os
from typing import Any, Mapping


def worker_main(conn: Any, env: Mapping[str, str], config_dict: dict[str, Any]) -> None:
    import signal

    # Ctrl-C reaches the whole process group; only the coordinator reacts (it stops the workers
    # and records the interrupted runs), so a worker never dies half-way through a write.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ.update(env)
    from ..execution import WorkerConfig, execute_run
    from ..plugins import load_registry
    from ..runspec import RunSpec

    config = WorkerConfig(**config_dict)
    registry = load_registry()
    while True:
        try:
            message = conn.recv()
        except (EOFError, KeyboardInterrupt):
            return
        if message is None:
            return
        run_json, attempt = message
        run = RunSpec.from_json(run_json)
        outcome = execute_run(
            run, attempt, registry, config, progress=lambda done, total: conn.send(("progress", done, total))
        )
        conn.send(("done", outcome))
