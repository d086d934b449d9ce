"""The built-in weights resolver: local paths only, hashes verified."""

from __future__ import annotations

from pathlib import Path

import pytest

from fusionbench.plugins import load_registry
from fusionbench.weights import WeightsError, file_sha256, resolve_verified


def _resolver(cache: Path):
    registry = load_registry()
    return lambda uri, sha: registry.hook.fusionbench_resolve_weights(uri=uri, expected_sha256=sha, cache_dir=cache)


def test_resolves_explicit_paths_env_folder_and_cache(tmp_path, monkeypatch):
    ckpt = tmp_path / "model.safetensors"
    ckpt.write_bytes(b"weights")
    resolve = _resolver(tmp_path / "cache")
    assert resolve_verified(resolve, str(ckpt), file_sha256(ckpt)) == ckpt
    monkeypatch.setenv("FUSIONBENCH_WEIGHTS", str(tmp_path))
    assert resolve_verified(resolve, "hub://org/model.safetensors") == tmp_path / "model.safetensors"
    monkeypatch.delenv("FUSIONBENCH_WEIGHTS")
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "other.pt").write_bytes(b"x")
    assert resolve_verified(resolve, "other.pt") == tmp_path / "cache" / "other.pt"


def test_missing_or_wrong_checkpoints_fail_clearly(tmp_path):
    resolve = _resolver(tmp_path)
    with pytest.raises(WeightsError, match="not found: looked at"):
        resolve_verified(resolve, "nowhere/256x256_diffusion_uncond.pt")
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"tampered")
    with pytest.raises(WeightsError, match="has sha256"):
        resolve_verified(resolve, str(bad), "0" * 64)
