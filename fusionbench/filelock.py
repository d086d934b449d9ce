"""Advisory file locks that the operating system releases when their holder dies.

Why ``flock`` and not a lock *file* created with ``O_EXCL``: a process killed by SIGKILL or the
OOM killer cannot delete its lock file, and every later run would have to guess whether the
holder is still alive (a PID means nothing on another host of a cluster). A ``flock`` is released
by the kernel when its file descriptor closes, however the process ends, so a stale lock
recovers by itself; the lock file left behind is harmless. On Linux, NFS emulates ``flock`` with
byte-range locks, so processes on several hosts sharing a results folder exclude each other too.

Where ``fcntl`` does not exist (Windows) nothing is locked: callers stay correct for a single
process, and the atomic renames of the results store still protect readers.
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import IO

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created if missing) for the ``with`` block, waiting for it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        if fcntl is None:  # pragma: no cover
            yield
            return
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def try_lock(path: Path) -> IO[str] | None:
    """Take an exclusive lock on ``path`` without waiting: the open handle (keep it; closing it
    releases the lock), or None when another process holds it. The file records who holds it
    (host and PID), for people looking at a stuck folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+")
    if fcntl is not None:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return None
        except OSError:
            handle.close()
            raise
    handle.seek(0)
    handle.truncate()
    handle.write(f"{socket.gethostname()} {os.getpid()}\n")
    handle.flush()
    return handle
