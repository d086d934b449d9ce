"""A local HTTP file server on 127.0.0.1 for download tests: serves byte strings, honours
``Range`` (to test resume), can cut a response short (an interrupted download) and logs every
request's ``Range`` header. Tests never reach the internet; this is what they download from."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class FileServer:
    """Files by path (``/x.pt`` → bytes); ``cut_after[path] = n``: the next response for ``path``
    sends ``n`` bytes of the body (announcing all of it) and closes the connection."""

    files: dict[str, bytes] = field(default_factory=dict)
    cut_after: dict[str, int] = field(default_factory=dict)
    ranges: list[str | None] = field(default_factory=list)
    base_url: str = ""

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"


@contextmanager
def serve_files(files: dict[str, bytes] | None = None) -> Iterator[FileServer]:
    """Run a :class:`FileServer` on a free port of 127.0.0.1 for the duration of the block."""
    state = FileServer(files=dict(files or {}))

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep test output clean
            pass

        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            body = state.files.get(self.path)
            header = self.headers.get("Range")
            state.ranges.append(header)
            if body is None:
                self.send_error(404)
                return
            start = int(header.split("=", 1)[1].split("-", 1)[0]) if header else 0
            if start >= len(body) and header:
                self.send_response(416)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            chunk = body[start:]
            self.send_response(206 if header else 200)
            self.send_header("Content-Length", str(len(chunk)))
            if header:
                self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
            self.end_headers()
            cut = state.cut_after.pop(self.path, None)
            self.wfile.write(chunk if cut is None else chunk[:cut])
            if cut is not None:
                self.wfile.flush()
                self.close_connection = True

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
