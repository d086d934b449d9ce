"""Every score row a real suite run writes records the metric parameters that change its number
(IVF/MIF ``profile``, pansharpening ``dim_cut``, ``data_range``) and the data card they resolve
against, so two rows are never compared without knowing how each was computed.

Runs tiny real suites through the command line, in process (inline executor, no MLflow): one
classical model on two images of one synthetic dataset per suite.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from fusionbench.cli import main
from fusionbench.components.metrics import metric_specs

SPECS = {s.name: s for s in metric_specs()}


def _run(results: Path, suite: str, model: str, dataset: str) -> None:
    argv = ["run", "--suite", suite, "-m", model, "-d", dataset, "--max-items", "2",
            "--executor", "inline", "--no-mlflow", "--results", str(results)]  # fmt: skip
    try:
        main(argv)
    except SystemExit as exc:
        assert exc.code in (0, None), f"fusionbench {' '.join(argv)} exited with {exc.code}"


def _rows(results: Path, suite: str) -> list[dict]:
    files = sorted((results / "scores" / f"suite={suite}").rglob("*.parquet"))
    assert files, f"no score files for suite {suite}"
    return [row for f in files for row in pq.read_table(f).to_pylist()]


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("recorded") / "results"
    _run(folder, "ivf-vifb", "average", "synthetic-ivf")
    _run(folder, "reduced-res", "exp", "synthetic-wv3-rr")
    return folder


def _check_common(row: dict) -> tuple[dict, dict]:
    spec = SPECS[row["metric"]]
    params = json.loads(row["metric_params_json"])
    # every declared parameter is recorded (none left to a hidden default), and the version
    assert set(params) == set(spec.params), (row["metric"], params)
    assert row["metric_version"] == spec.version
    card = json.loads(row["card_json"])
    assert {"sensor", "ratio", "bands", "max_value", "mtf_gnyq", "pan_gnyq", "extra"} <= set(card)
    return params, card


def test_ivf_rows_record_profile_and_card(results: Path) -> None:
    rows = _rows(results, "ivf-vifb")
    expected = {"en", "sd", "sf", "ag", "mi", "scd", "vif", "qabf", "ssim-fusion", "psnr-fusion", "cc", "nabf", "rmse"}
    assert {r["metric"] for r in rows} >= expected
    assert len(rows) == 2 * len({r["metric"] for r in rows})  # 2 images x every metric
    for row in rows:
        params, card = _check_common(row)
        assert params["profile"] == "vifb" and params["quantize"] == "round", row["metric"]
        if row["metric"] == "ssim-fusion":
            assert params["data_range"] == "profile"  # resolved from the recorded profile: 255
        assert card["max_value"] == 255.0 and card["extra"].get("synthetic") is True
        assert row["metric"] != "nabf" or row["metric_version"] == "2"


def test_pansharpening_rows_record_dim_cut_and_card(results: Path) -> None:
    rows = _rows(results, "reduced-res")
    assert {r["metric"] for r in rows} == {"sam", "ergas", "q2n", "q-avg", "scc", "psnr"}
    assert len(rows) == 2 * 6
    for row in rows:
        params, card = _check_common(row)
        assert params["dim_cut"] == 0, row["metric"]  # the suite's explicit choice
        if row["metric"] == "psnr":
            assert params["data_range"] == "card"
        if row["metric"] == "ergas":
            assert params["ratio"] == "card"
        # what "card" resolves to is on the same row
        assert card["sensor"] == "WV3" and card["max_value"] == 2047.0 and card["ratio"] == 4 and card["bands"] == 8
        assert card["mtf_gnyq"] is not None and len(card["mtf_gnyq"]) == 8
