"""The built-in weights resolver: local paths only, hashes verified."""

from __future__ import annotations

from pathlib import Path

import pytest

from fusionbench.registry import load_registry
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


def test_one_search_path_for_planner_resolver_and_self_training(tmp_path, monkeypatch):
    """``checkpoint=sub/x.safetensors`` is the same file for the planner (run key), the resolver
    (what a model loads) and self-training models (what they look for): ``$FUSIONBENCH_WEIGHTS/sub/x``."""
    from types import SimpleNamespace

    from fusionbench.training.selftrain import find_checkpoint
    from fusionbench.weights import local_path, search_path

    weights = tmp_path / "weights"
    (weights / "sub").mkdir(parents=True)
    (weights / "sub" / "x.safetensors").write_bytes(b"the one in the subfolder")
    (weights / "x.safetensors").write_bytes(b"a different file with the same name")
    monkeypatch.setenv("FUSIONBENCH_WEIGHTS", str(weights))
    cache = tmp_path / "cache"
    wanted = weights / "sub" / "x.safetensors"

    planner_sees = local_path("sub/x.safetensors")
    resolver_gives = _resolver(cache)("sub/x.safetensors", "")
    context = SimpleNamespace(resolve_weights=lambda uri, sha: None, cache_dir=cache)  # no resolver plugin
    self_training_finds = find_checkpoint("sub/x.safetensors", context, label="m", model="m")
    assert planner_sees == resolver_gives == self_training_finds == wanted
    assert search_path("sub/x.safetensors", cache) == [
        Path("sub/x.safetensors"),
        wanted,
        cache / "sub" / "x.safetensors",
    ]
    # a URL is looked up by its file name, where a download of it would be saved
    assert search_path("https://host/a/x.safetensors", cache) == [weights / "x.safetensors", cache / "x.safetensors"]


def test_home_folder_is_expanded_in_the_weights_folder(tmp_path, monkeypatch):
    from fusionbench.weights import locate

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("FUSIONBENCH_WEIGHTS", "~/w")
    (tmp_path / "w").mkdir()
    (tmp_path / "w" / "prior.pt").write_bytes(b"p")
    assert locate("prior.pt") == tmp_path / "w" / "prior.pt"
