"""The datasets plugin (cheap to import, valid specs) and ``fusionbench datasets list|info|check``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from fusionbench.cli.datasets import datasets_group
from fusionbench.components import datasets as plugin
from fusionbench.registry import _validate_spec, load_registry


def test_plugin_import_stays_light() -> None:
    code = (
        "import sys, fusionbench.components.datasets as p; p.all_specs(); "
        "print([m for m in ('torch', 'h5py', 'scipy', 'PIL', 'fusionbench.datasets.pancollection') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


def test_specs_are_valid_and_unique() -> None:
    specs = plugin.all_specs()
    names = [s.name for s in specs]
    assert len(names) == len(set(names))
    for spec in specs:
        _validate_spec(spec, "dataset")
    expected = {
        "wv3-rr", "wv3-fr", "qb-rr", "qb-fr", "gf2-rr", "gf2-fr", "wv2-rr", "wv2-fr", "cave-x4", "cave-x8",
        "harvard-x4", "tno", "roadscene", "msrs", "m3fd", "llvip", "harvard-mri-ct", "harvard-mri-pet",
        "harvard-mri-spect", "synthetic-wv3-rr", "synthetic-wv3-fr", "synthetic-qb-rr", "synthetic-gf2-rr",
        "synthetic-cave-x4", "synthetic-ivf", "synthetic-mif",
    }  # fmt: skip
    assert expected <= set(names)
    wv3 = next(s for s in specs if s.name == "wv3-rr")
    assert wv3.card.max_value == 2047 and wv3.card.bands == 8 and wv3.card.pan_gnyq == 0.14
    assert next(s for s in specs if s.name == "gf2-fr").card.max_value == 1023


def test_registry_and_core_commands_whatever_plugins_load(monkeypatch: pytest.MonkeyPatch) -> None:
    registry = load_registry(only=["datasets"])
    assert registry.get("dataset", "synthetic-wv3-rr").spec.synthetic
    # `datasets` and `train` are the CLI's own commands: loading only one plugin (or none) keeps them
    from fusionbench.cli import cli

    for only in ("ddif", "nosuchplugin"):
        monkeypatch.setenv("FUSIONBENCH_PLUGINS", only)
        listing = CliRunner().invoke(cli, ["--help"]).output
        assert "datasets" in listing and "train" in listing, listing


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("FUSIONBENCH_PLUGINS", "datasets")
    monkeypatch.setenv("COLUMNS", "250")
    return CliRunner()


def test_list_shows_what_is_present(runner: CliRunner, shared_data: Path) -> None:
    result = runner.invoke(datasets_group, ["list", "--json", "--data-root", str(shared_data)])
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r for r in json.loads(result.output)}
    assert rows["tno"]["state"] == "ok" and rows["tno"]["items"] == {"test": 6}
    assert rows["wv3-rr"]["state"] == "missing"
    assert rows["synthetic-wv3-rr"]["items"]["train"] == 400
    table = runner.invoke(datasets_group, ["list", "--task", "mif", "--real", "--data-root", str(shared_data)])
    assert table.exit_code == 0 and "harvard-mri-pet" in table.output and "synthetic-mif" not in table.output


def test_check_synthetic(runner: CliRunner) -> None:
    result = runner.invoke(datasets_group, ["check", "synthetic-ivf", "--split", "test"])
    assert result.exit_code == 0, result.output
    from fusionbench.datasets.synthetic import openers

    assert openers.__getattr__("synthetic-ivf")().content_sha256("test")[:12] in result.output.replace(
        "\n", ""
    ).replace("│", "").replace(" ", "")


def test_check_absent_dataset_says_where_and_how(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(datasets_group, ["check", "wv3-rr", "--data-root", str(tmp_path)])
    assert result.exit_code == 1
    flat = " ".join(result.output.split())
    assert "test_wv3_multiExm1.h5" in flat and "PanCollection" in flat and str(tmp_path) in flat


def test_check_reports_wald_error_of_a_real_sample(runner: CliRunner, shared_data: Path) -> None:
    args = [
        "check",
        "custom-scenes-rr",
        "-p",
        "path=pansharpening/cdif_WV3_test_RR.mat",
        "-p",
        "sensor=WV3",
        "--data-root",
        str(shared_data),
    ]
    result = runner.invoke(datasets_group, args)
    assert result.exit_code == 0, result.output
    assert "e-12" in result.output or "e-11" in result.output


def test_check_fails_on_corrupt_data(runner: CliRunner, tmp_path: Path) -> None:
    import numpy as np
    from PIL import Image

    for sub in ("ir", "vi"):
        (tmp_path / "ivf/tno" / sub).mkdir(parents=True)
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "ivf/tno/ir/1.png")
    (tmp_path / "ivf/tno/vi/1.png").write_bytes(b"not a png")
    result = runner.invoke(datasets_group, ["check", "tno", "--data-root", str(tmp_path)])
    assert result.exit_code == 1 and "FAILED" in result.output


def test_info_and_bad_param(runner: CliRunner, shared_data: Path) -> None:
    result = runner.invoke(datasets_group, ["info", "harvard-mri-spect", "--data-root", str(shared_data)])
    assert result.exit_code == 0 and "MRI_SPECT" in result.output and "6 items" in result.output
    bad = runner.invoke(datasets_group, ["check", "synthetic-ivf", "-p", "nope=1"])
    assert bad.exit_code != 0 and "no parameter 'nope'" in bad.output


def test_docs_name_every_dataset() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "datasets.md").read_text()
    missing = [s.name for s in plugin.all_specs() if f"`{s.name}`" not in docs]
    assert not missing, f"docs/datasets.md does not mention {missing}"


def test_check_shows_bracketed_error_text(runner: CliRunner, tmp_path: Path) -> None:
    """Error text holding ``[words]`` (here a data folder named ``data[raw]``) is printed
    literally, not eaten as rich markup."""
    import numpy as np

    from fusionbench.datasets.writers import write_h5_stacks
    from fusionbench.testing.synthetic import pan_stacks

    stacks = pan_stacks(n=3)
    stacks["ms"][1, 2, 3, 3] = np.nan
    root = tmp_path / "data[raw]"
    write_h5_stacks(root / "pansharpening" / "wv3" / "test_wv3_multiExm1.h5", stacks)
    result = runner.invoke(datasets_group, ["check", "wv3-rr", "--data-root", str(root)], env={"COLUMNS": "1000"})
    assert result.exit_code == 1 and "FAILED" in result.output
    assert "data[raw]" in result.output and "has 1 NaN" in result.output
