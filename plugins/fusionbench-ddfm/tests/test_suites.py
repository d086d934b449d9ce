"""`fusionbench run --suite ivf|mif` runs DDFM (tiny, its default sampler: DDPM, 100 even steps)
end to end on the embedded synthetic datasets (one image each, inline executor)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from fusionbench.cli import cli


@pytest.mark.parametrize(("suite", "dataset"), [("ivf", "synthetic-ivf"), ("mif", "synthetic-mif")])
def test_suite_runs_ddfm_on_the_embedded_default(tmp_path, suite, dataset):
    result = CliRunner().invoke(
        cli,
        [
            "run",
            "--suite",
            suite,
            "-m",
            "ddfm",
            "-d",
            dataset,
            "--max-items",
            "1",
            "--executor",
            "inline",
            "--no-mlflow",
            "--results",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "1 ok" in result.output and "ddfm+ddpm" in result.output
