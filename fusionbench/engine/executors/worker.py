"""Entry point of a local worker process. Import-light: the environment (e.g.
``CUDA_VISIBLE_DEVICES``) must be set before torch is imported by the first job."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any


def worker_main(conn: Any, env: Mapping[str, str], config_dict: dict[str, Any]) -> None:
    import signal

    # Ctrl-C reaches the whole process group; only the coordinator reacts (it stops the workers
    # and records the interrupted runs), so a worker never dies half-way through a write.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # likewise SIGTERM sent to the whole group by a scheduler: the coordinator handles it and
    # kills its workers; a worker whose coordinator is gone ends through _exit_with_parent
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _exit_with_parent(os.getppid())
    os.environ.update(env)
    try:
        from fusionbench.engine.execution import WorkerConfig, execute_run
        from fusionbench.engine.runspec import RunSpec
        from fusionbench.registry import load_registry

        config = WorkerConfig(**config_dict)
        registry = load_registry()
        startup_error: tuple[str, str] | None = None
    except Exception as exc:  # noqa: BLE001 - reported with the first job instead of a bare exit code
        startup_error = _describe(exc)
    while True:
        try:
            message = conn.recv()
        except (EOFError, KeyboardInterrupt):
            return
        if message is None:
            return
        if startup_error is not None:
            conn.send(("fatal", *startup_error))
            return
        run_json, attempt = message
        hook_errors: list[str] = []
        try:
            run = RunSpec.from_json(run_json)
            outcome = execute_run(
                run,
                attempt,
                registry,
                config,
                progress=lambda done, total: conn.send(("progress", done, total)),
                hook_errors=hook_errors,
            )
        except Exception as exc:  # noqa: BLE001 - execute_run should not raise; if it does, say why
            conn.send(("fatal", *_describe(exc)))
            return
        conn.send(("done", outcome, hook_errors))


def _describe(exc: BaseException) -> tuple[str, str]:
    import traceback

    return f"{type(exc).__name__}: {exc}", "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))


def _exit_with_parent(parent: int, poll_s: float = 0.5) -> None:
    """End this worker when its coordinator is gone (SIGKILL, OOM killer, a closed terminal).

    Only the coordinator records results, so a worker left behind would burn CPU or GPU for
    nothing, for hours on a training run. The pipe's EOF is seen only between runs; this thread
    notices within ``poll_s`` (the orphan is re-parented, so ``getppid`` changes). Score files are
    written atomically, so exiting at any point loses nothing already written.
    """
    import threading
    import time

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll_s)
        os._exit(1)

    threading.Thread(target=watch, name="fusionbench-parent-watch", daemon=True).start()
