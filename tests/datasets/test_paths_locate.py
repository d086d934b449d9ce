from __future__ import annotations

from pathlib import Path

import pytest

from fusionbench.datasets.catalog import CATALOG
from fusionbench.datasets.locate import find_dir_pair, find_file, match, missing_message
from fusionbench.datasets.paths import ENV_VAR, resolve_data_root, resolve_user_path
from fusionbench.errors import DatasetUnavailable


def test_explicit_root_beats_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "env"))
    assert resolve_data_root(tmp_path / "arg") == tmp_path / "arg"
    assert resolve_data_root(None) == tmp_path / "env"
    monkeypatch.delenv(ENV_VAR)
    assert resolve_data_root(None) is None
    assert resolve_data_root("") is None


def test_match_is_case_insensitive_and_supports_starstar(tmp_path: Path) -> None:
    (tmp_path / "IVF" / "TNO" / "IR").mkdir(parents=True)
    (tmp_path / "PanCollection" / "a" / "b").mkdir(parents=True)
    (tmp_path / "PanCollection" / "a" / "b" / "test_wv3_multiExm1.h5").write_bytes(b"x")
    assert match(tmp_path, "ivf/tno/ir") == [tmp_path / "IVF" / "TNO" / "IR"]
    assert (
        find_file(tmp_path, ["pancollection/**/test_wv3_multiexm1.h5"])
        == tmp_path / "PanCollection/a/b/test_wv3_multiExm1.h5"
    )
    assert find_file(tmp_path, ["nothing/*.h5"]) is None


def test_dir_pair_needs_both(tmp_path: Path) -> None:
    (tmp_path / "x" / "ir").mkdir(parents=True)
    assert find_dir_pair(tmp_path, [("x/ir", "x/vi")]) is None
    (tmp_path / "x" / "vi").mkdir()
    assert find_dir_pair(tmp_path, [("x/ir", "x/vi")]) == (tmp_path / "x/ir", tmp_path / "x/vi")


def test_missing_message_says_where_and_how(tmp_path: Path) -> None:
    entry = CATALOG["tno"]
    msg = missing_message(entry.name, "test", tmp_path, entry.looked_for("test", str(tmp_path)), entry.how_to_get)
    assert str(tmp_path / "ivf/tno/ir") in msg and str(tmp_path / "ivf/tno/vi") in msg
    assert "figshare" in msg
    no_root = missing_message(entry.name, "test", None, entry.looked_for("test"), entry.how_to_get)
    assert "--data-root" in no_root and ENV_VAR in no_root


def test_user_path_relative_to_root(tmp_path: Path) -> None:
    (tmp_path / "scenes").mkdir()
    assert resolve_user_path("scenes", tmp_path, "custom") == tmp_path / "scenes"
    with pytest.raises(DatasetUnavailable, match="needs a path"):
        resolve_user_path("", tmp_path, "custom")
    with pytest.raises(DatasetUnavailable, match="not found"):
        resolve_user_path("nope", tmp_path, "custom")


def test_every_catalog_entry_is_complete() -> None:
    for entry in CATALOG.values():
        assert entry.splits and entry.how_to_get and entry.description and entry.url
        assert entry.factory_path.endswith(f":openers.{entry.name}")
        for split in entry.splits:
            assert entry.looked_for(split)
