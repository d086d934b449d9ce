"""Source hashes in run keys: plugins installed from a folder are keyed by their ``*.py`` files,
releases by their version alone (their keys do not carry the field)."""

from __future__ import annotations

from fusionbench.engine.runspec import ComponentRef
from fusionbench.engine.sources import installed_from_source, tree_sha256


def test_editable_plugins_are_from_source_and_index_releases_are_not():
    assert installed_from_source("fusionbench-classical")  # `-e plugins/…` in requirements.txt
    assert not installed_from_source("pluggy")  # a wheel from the index: its version is enough
    assert not installed_from_source("no-such-distribution")


def test_a_release_key_has_no_source_field_and_a_source_hash_changes_the_key():
    release = ComponentRef("model", "m", spec_version="1", dist="d", plugin="p")
    assert "source_sha256" not in release.key_dict()
    edited = [
        ComponentRef("model", "m", spec_version="1", dist="d", plugin="p", source_sha256=h)
        for h in ("a" * 64, "b" * 64)
    ]
    assert edited[0].key_dict() != edited[1].key_dict() != release.key_dict()
    assert ComponentRef.from_dict(edited[0].to_dict()) == edited[0]  # recorded and read back


def test_tree_hash_follows_python_sources_only(tmp_path, monkeypatch):
    package = tmp_path / "srcpkg_for_hash"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "model.py").write_text("X = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    before = tree_sha256(["srcpkg_for_hash.hooks", "srcpkg_for_hash.model:Net"])
    (package / "weights.bin").write_bytes(b"data written at run time")
    assert tree_sha256(["srcpkg_for_hash.hooks"]) == before
    (package / "model.py").write_text("X = 2\n")
    assert tree_sha256(["srcpkg_for_hash.hooks"]) != before
