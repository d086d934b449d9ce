"""Shared fixtures: the real shared data folder, a pip-installed fixture plugin site, MLflow stores."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fusionbench.testing.data import shared_data_dir

REPO = Path(__file__).resolve().parents[1]
FIXTURE_PLUGINS = REPO / "tests" / "fixtures" / "fb-fixture-plugins"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real samples in ../shared/data: skip when absent, fail when CI requires them."""
    return shared_data_dir(REPO)


@pytest.fixture(scope="session")
def plugin_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture plugin distribution, installed by pip into a private folder (real entry points,
    real dist-info), so it never leaks into the environment the tests run in."""
    site = tmp_path_factory.mktemp("plugin-site")
    build = tmp_path_factory.mktemp("plugin-build")
    source = build / "src"
    shutil.copytree(FIXTURE_PLUGINS, source)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(site),
            str(source),
        ],
        check=True,
        cwd=build,
    )
    return site


@pytest.fixture
def with_fixture_plugins(plugin_site: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Make the fixture plugins visible to this process, its spawned workers and subprocesses."""
    import importlib

    monkeypatch.syspath_prepend(str(plugin_site))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(plugin_site), os.environ.get("PYTHONPATH")])))
    importlib.invalidate_caches()
    return plugin_site


@pytest.fixture
def good_fixture_only(with_fixture_plugins: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Fixture plugins with the deliberately broken and conflicting ones disabled."""
    monkeypatch.setenv("FUSIONBENCH_DISABLE_PLUGINS", "fixture-broken-import,fixture-raising,fixture-conflict")
    return with_fixture_plugins


@pytest.fixture(scope="session")
def mlflow_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated MLflow sqlite store; tests copy it (migrations cost ~2 s, a copy ~0.04 s)."""
    from mlflow.tracking import MlflowClient

    folder = tmp_path_factory.mktemp("mlflow-template")
    db = folder / "template.db"
    MlflowClient(tracking_uri=f"sqlite:///{db}").search_experiments()
    return db


@pytest.fixture
def mlflow_store(mlflow_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh real sqlite MLflow store for one test, selected through MLFLOW_TRACKING_URI."""
    db = tmp_path / "mlflow.db"
    shutil.copy(mlflow_template, db)
    uri = f"sqlite:///{db}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    return uri


@pytest.fixture(autouse=True)
def _isolated_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test runs in its own folder so default result/MLflow paths never touch the repo."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def readonly_dir(tmp_path: Path):
    """A folder no file can be created in: chmod'ed for ordinary users; for root (who ignores
    permissions, as in CI) a path under sysfs, which refuses new files for everyone."""
    folder = tmp_path / "readonly"
    folder.mkdir()
    os.chmod(folder, 0o500)
    try:
        if not os.access(folder, os.W_OK):
            yield folder
            return
        sysfs = Path("/sys/fusionbench-readonly-test")
        try:
            sysfs.mkdir()
        except OSError:
            yield sysfs
            return
        pytest.skip("no read-only location available on this machine")
    finally:
        os.chmod(folder, 0o700)
