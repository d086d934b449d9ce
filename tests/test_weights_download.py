"""``fusionbench.weights.fetch``: explicit downloads with pooch from a local HTTP server on
127.0.0.1 — resume after an interruption, wrong hashes refused and removed, no partial file
under the final name, unpinned hashes recorded on first download."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from fusionbench import WeightsRef
from fusionbench.testing.http import serve_files
from fusionbench.weights import WeightsError, fetch, locate

BODY = bytes(range(256)) * 4096  # 1 MiB


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_pinned_checkpoint_downloads_verified_with_progress(tmp_path):
    seen = []
    with serve_files({"/net.safetensors": BODY}) as server:
        ref = WeightsRef(uri=server.url("/net.safetensors"), sha256=_sha(BODY))
        got = fetch(ref, tmp_path, progress=lambda done, total: seen.append((done, total)))
        again = fetch(ref, tmp_path)
    assert got.path == tmp_path / "net.safetensors" and got.path.read_bytes() == BODY
    assert got.downloaded and got.hash_source == "pinned" and not again.downloaded
    assert seen[-1] == (len(BODY), len(BODY))
    assert _leftovers(tmp_path) == ["net.safetensors"]
    assert server.ranges == [None]  # the second fetch found the verified file: no request


def test_interrupted_download_resumes_with_a_range_request(tmp_path):
    with serve_files({"/big.pt": BODY}) as server:
        server.cut_after["/big.pt"] = 300_000
        ref = WeightsRef(uri=server.url("/big.pt"), sha256=_sha(BODY))
        with pytest.raises(WeightsError, match="fetch again to resume"):
            fetch(ref, tmp_path)
        assert not (tmp_path / "big.pt").exists()  # nothing partial under the final name
        assert locate("big.pt", tmp_path) is None
        got = fetch(ref, tmp_path)
    resumed_from = int(server.ranges[-1].removeprefix("bytes=").rstrip("-"))
    assert 0 < resumed_from <= 300_000  # what arrived before the cut (whole blocks) is kept
    assert got.path.read_bytes() == BODY
    assert _leftovers(tmp_path) == ["big.pt"]


def test_wrong_hash_is_refused_and_removed(tmp_path):
    with serve_files({"/x.pt": BODY}) as server:
        ref = WeightsRef(uri=server.url("/x.pt"), sha256="0" * 64)
        with pytest.raises(WeightsError, match="refused"):
            fetch(ref, tmp_path)
    assert _leftovers(tmp_path) == []


def test_unpinned_hash_is_recorded_said_and_enforced_later(tmp_path):
    notes = []
    with serve_files({"/prior.pt": BODY}) as server:
        ref = WeightsRef(uri=server.url("/prior.pt"))
        got = fetch(ref, tmp_path, report=notes.append)
        assert got.hash_source == "recorded-now"
        assert (tmp_path / "prior.pt.sha256").read_text().split() == [_sha(BODY), "prior.pt"]
        assert len(notes) == 1 and _sha(BODY) in notes[0] and "pin it" in notes[0]
        assert fetch(ref, tmp_path, report=notes.append).hash_source == "recorded" and len(notes) == 1
        # the file changes on disk and on the server: the recorded hash refuses the new bytes
        (tmp_path / "prior.pt").write_bytes(b"tampered")
        server.files["/prior.pt"] = b"other bytes"
        with pytest.raises(WeightsError, match="refused"):
            fetch(ref, tmp_path)
    assert _leftovers(tmp_path) == ["prior.pt.sha256"]


def test_a_plain_path_is_not_downloadable(tmp_path):
    with pytest.raises(WeightsError, match="not a URL"):
        fetch(WeightsRef(uri="weights/local.pt"), tmp_path)
