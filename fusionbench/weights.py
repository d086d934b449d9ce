"""Find and verify checkpoints: the one search path every part of fusionbench uses.

Why one function: the planner hashes a ``path`` parameter into the run key, the built-in weights
resolver hands files to models, and self-training models look for their checkpoint folders. When
these searched different places, a run could be keyed by one file and load another. All of them
now call :func:`search_path` / :func:`locate`. Nothing is downloaded here: a plugin's resolver
hook (``fusionbench_resolve_weights``) or the built-in one finds a local file or folder, and its
SHA-256 is checked before a model may load it.

Downloads happen only on an explicit request: ``fusionbench weights fetch MODEL`` or
``fusionbench run --allow-download`` call :func:`fetch`, which puts a declared checkpoint (a
``WeightsRef`` whose ``uri`` is a URL) where :func:`search_path` looks: ``$FUSIONBENCH_WEIGHTS``,
else the results cache."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import settings
from .errors import FusionbenchError


class WeightsError(FusionbenchError):
    """A checkpoint is missing or is not the file the model expects."""


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


_TREE_HASHES: dict[tuple[str, tuple[tuple[str, int, int], ...]], str] = {}


def content_sha256(path: Path) -> str:
    """SHA-256 of a file, or of a folder's visible files (relative names and their hashes).

    A planner hashes user-given checkpoints for every run of a plan: the result is remembered per
    (path, names, sizes, mtimes), so a 2 GB prior is read once per process, and again when it changes.
    """
    path = Path(path)
    files = (
        [path]
        if path.is_file()
        else sorted(
            p
            for p in path.rglob("*")
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
        )
    )
    signature = tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files)
    key = (str(path.resolve()), signature)
    if key not in _TREE_HASHES:
        if path.is_file():
            _TREE_HASHES[key] = file_sha256(path)
        else:
            digest = hashlib.sha256()
            for p in files:
                digest.update(f"{p.relative_to(path).as_posix()}\0{file_sha256(p)}\n".encode())
            _TREE_HASHES[key] = digest.hexdigest()
    return _TREE_HASHES[key]


def relative_name(uri: str) -> str:
    """The part of ``uri`` looked up inside the weights folders: the whole relative path for a
    plain path (``sub/x.safetensors`` stays ``sub/x.safetensors``), the file name for a URL
    (``https://host/a/x.pt`` is ``x.pt``, the name a download of it is saved under)."""
    if "://" in uri:
        return Path(uri.split("://", 1)[1]).name
    return uri


def search_path(uri: str, cache_dir: Path | None = None) -> list[Path]:
    """Every place ``uri`` is looked for, in order: the path as given (``~`` expanded), then
    :func:`relative_name` inside ``$FUSIONBENCH_WEIGHTS``, then inside ``cache_dir``."""
    if not uri:
        return []
    candidates = [] if "://" in uri else [Path(uri).expanduser()]
    rel = relative_name(uri)
    if not Path(rel).expanduser().is_absolute():
        for folder in (settings.weights_dir(), Path(cache_dir) if cache_dir is not None else None):
            if folder is not None:
                candidates.append(folder / rel)
    return candidates


def locate(uri: str, cache_dir: Path | None = None) -> Path | None:
    """The first existing file or folder of :func:`search_path`, or ``None``."""
    return next((path for path in search_path(uri, cache_dir) if path.exists()), None)


def local_path(value: str) -> Path | None:
    """Where a path-valued parameter points on this machine (:func:`locate` without a cache
    folder: the planner keys runs by what is on disk before any run starts)."""
    return locate(value)


def resolve_verified(
    resolve: Callable[[str, str], Path | None], uri: str, expected_sha256: str = "", model: str = ""
) -> Path:
    """Resolve ``uri`` to a local file and check its hash (when one is expected). ``model``
    names the command that fetches a missing URL checkpoint in the error message."""
    path = resolve(uri, expected_sha256)
    if path is None:
        folder = settings.weights_dir() or "<unset>"
        how = (
            f"get it with `fusionbench weights fetch {model or 'MODEL'}` (or `fusionbench run --allow-download`)"
            if "://" in uri
            else "download it yourself and pass its path, or set FUSIONBENCH_WEIGHTS"
        )
        raise WeightsError(
            f"checkpoint {uri!r} not found: looked at the path itself, in $FUSIONBENCH_WEIGHTS ({folder}) "
            f"and in the results cache; {how}"
        )
    path = Path(path)
    if expected_sha256:
        actual = content_sha256(path)
        if actual != expected_sha256:
            raise WeightsError(f"checkpoint {path} has sha256 {actual[:16]}…, expected {expected_sha256[:16]}…")
    return path


# ---------------------------------------------------------------- downloads (explicit only)

RECORDED_SUFFIX = ".sha256"
"""``x.pt.sha256`` beside a download whose model pins no hash: the hash seen on first download,
in ``sha256sum`` format (``sha256sum -c x.pt.sha256`` checks it), trusted from then on."""


def is_url(uri: str) -> bool:
    return "://" in uri


def download_dir(results_dir: Path | None = None) -> Path:
    """Where downloads go: ``$FUSIONBENCH_WEIGHTS`` when set, else the results cache
    (``<results>/cache``) — both are on :func:`search_path`, so a run finds what was fetched."""
    return settings.weights_dir() or settings.results_dir(results_dir) / "cache"


def recorded_sha256(path: Path) -> str:
    """The hash recorded beside ``path`` on its first download (``""`` when none)."""
    sidecar = Path(str(path) + RECORDED_SUFFIX)
    words = sidecar.read_text(encoding="utf-8").split() if sidecar.is_file() else []
    return words[0].lower() if words else ""


def expected_sha256(ref: Any, cache_dir: Path | None = None) -> str:
    """The hash a checkpoint must have: the model's pin, else the one recorded on first download."""
    if ref.sha256:
        return ref.sha256.lower()
    found = locate(ref.uri, cache_dir)
    return recorded_sha256(found) if found is not None and found.is_file() else ""


@dataclass(frozen=True)
class Fetched:
    """What :func:`fetch` did: the file, its hash, and whether the hash was pinned, recorded now
    (first download of an unpinned checkpoint) or already recorded."""

    path: Path
    sha256: str
    downloaded: bool
    hash_source: str  # pinned | recorded-now | recorded


def _resumable_downloader(target: Path, progress: Callable[[int, int | None], None] | None) -> Callable[..., None]:
    """A pooch downloader that resumes: bytes go to ``.NAME.part`` beside the target (a stable
    name, hidden from folder hashes), an interrupted download continues with an HTTP ``Range``
    request, and only a complete file is handed to pooch, which checks the hash and moves it
    into place (or deletes it on a mismatch)."""

    def download(url: str, output_file: str, pooch_obj: Any, check_only: bool = False) -> Any:
        import requests

        part = target.with_name(f".{target.name}.part")
        have = part.stat().st_size if part.exists() else 0
        headers = {"Range": f"bytes={have}-"} if have else {}
        with requests.get(url, headers=headers, stream=True, timeout=60) as response:
            if response.status_code == 416:  # the part is already complete
                response.close()
            else:
                response.raise_for_status()
                if have and response.status_code != 206:  # the server ignores Range: start over
                    have = 0
                length = response.headers.get("Content-Length")
                total = have + int(length) if length is not None else None
                with open(part, "ab" if have else "wb") as handle:
                    done = have
                    if progress is not None:
                        progress(done, total)
                    for block in response.iter_content(chunk_size=1 << 16):
                        handle.write(block)
                        done += len(block)
                        if progress is not None:
                            progress(done, total)
                if total is not None and done < total:
                    raise WeightsError(f"download of {url} stopped at {done} of {total} bytes; fetch again to resume")
        os.replace(part, output_file)

    return download


def fetch(
    ref: Any,
    target_dir: Path,
    progress: Callable[[int, int | None], None] | None = None,
    report: Callable[[str], None] = lambda message: None,
) -> Fetched:
    """Download the checkpoint ``ref`` (a ``WeightsRef`` whose uri is a URL) into ``target_dir``
    unless a verified copy is already there, with pooch: resume, SHA-256 check against the pin
    (or the hash recorded on the first download), nothing left under the final name unless it
    verified. An unpinned checkpoint's hash is recorded beside it (``x.pt.sha256``) and reported."""
    import pooch

    if not is_url(ref.uri):
        raise WeightsError(f"{ref.uri!r} is not a URL: nothing to download (put the file in $FUSIONBENCH_WEIGHTS)")
    target_dir = Path(target_dir)
    target_dir.mkdir(parents=True, exist_ok=True)
    name = relative_name(ref.uri)
    target = target_dir / name
    pinned = ref.sha256.lower()
    known = pinned or recorded_sha256(target)
    downloaded = not (target.is_file() and known and file_sha256(target) == known)
    if downloaded:
        if target.exists():
            target.unlink()  # a stale or unverifiable copy: fetch a fresh one
        import requests

        pooch.get_logger().setLevel("WARNING")  # what was fetched and its hash are reported by the caller
        retriever = pooch.create(
            path=target_dir, base_url="", registry={name: f"sha256:{known}" if known else None}, urls={name: ref.uri}
        )
        try:
            path = Path(retriever.fetch(name, downloader=_resumable_downloader(target, progress)))
        except ValueError as exc:  # pooch: hash mismatch; it has deleted the downloaded file already
            raise WeightsError(f"refused {ref.uri}: {' '.join(str(exc).split())}") from None
        except requests.RequestException as exc:
            raise WeightsError(
                f"download of {ref.uri} failed ({exc.__class__.__name__}: {exc}); fetch again to resume"
            ) from None
    else:
        path = target
    actual = file_sha256(path)
    if pinned:
        source = "pinned"
    elif known:
        source = "recorded"
    else:
        Path(str(path) + RECORDED_SUFFIX).write_text(f"{actual}  {name}\n", encoding="utf-8")
        source = "recorded-now"
        report(
            f"no sha256 is pinned for {ref.uri}; recorded {actual} in {path}{RECORDED_SUFFIX} "
            "(later fetches and runs check against it; pin it in the model's WeightsRef)"
        )
    return Fetched(path=path, sha256=actual, downloaded=downloaded, hash_source=source)
