"""The package's structure is checked, not promised: layering contracts, one reader of the
environment, one list of component kinds, lint-clean code."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import fusionbench
from fusionbench import hookspecs, settings
from fusionbench.specs import KINDS

REPO = Path(__file__).resolve().parents[1]
PACKAGE = Path(fusionbench.__file__).resolve().parent


def test_import_layering_contracts_are_kept():
    from importlinter.cli import lint_imports

    assert lint_imports(config_filename=str(REPO / "pyproject.toml"), no_cache=True) == 0


def test_only_the_settings_module_reads_fusionbench_variables():
    reads_env = re.compile(r"(os\.environ|getenv)[^\n]*FUSIONBENCH_|FUSIONBENCH_[A-Z_]+[\"']\s*(\]|in os\.environ)")
    offenders = [
        f"{path.relative_to(REPO)}:{n}"
        for path in PACKAGE.rglob("*.py")
        if path.name != "settings.py"
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if reads_env.search(line)
    ]
    assert offenders == []


def test_every_variable_is_documented_in_the_architecture_page():
    page = (REPO / "docs" / "architecture.md").read_text()
    missing = [v.name for v in settings.VARIABLES if f"`{v.name}`" not in page]
    assert missing == []


def test_settings_expand_the_home_folder_and_ignore_blanks(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("FUSIONBENCH_DATA", "~/data")
    assert settings.data_root() == tmp_path / "data"
    assert settings.data_root(Path("~/other")) == tmp_path / "other"  # --data-root wins, expanded too
    monkeypatch.setenv("FUSIONBENCH_DATA", "  ")
    assert settings.data_root() is None
    monkeypatch.setenv("FUSIONBENCH_RESULTS", "~/res")
    assert settings.results_dir() == tmp_path / "res"
    monkeypatch.setenv("FUSIONBENCH_PLUGINS", " a, ,b ")
    assert settings.plugins_only() == {"a", "b"}


def test_one_list_of_component_kinds_drives_the_registration_hooks():
    assert set(hookspecs.REGISTRATION_HOOKS) == set(KINDS)
    for hook in hookspecs.REGISTRATION_HOOKS.values():
        assert callable(getattr(hookspecs, hook)), hook


def test_no_source_cites_text_outside_the_repository():
    cites = re.compile(r"spec §|issue \d|models\.md|metrics-and-data\.md|design\.md|platform-survey")
    offenders = [
        f"{path.relative_to(REPO)}:{n}"
        for root in (PACKAGE, REPO / "plugins")
        for path in root.rglob("*.py")
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if cites.search(line)
    ]
    assert offenders == []


def _ruff() -> str:
    return shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")


def test_ruff_lint_passes():
    result = subprocess.run([_ruff(), "check", "--no-cache", "."], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-4000:]


def test_ruff_format_is_applied():
    result = subprocess.run([_ruff(), "format", "--check", "--no-cache", "."], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-4000:]
