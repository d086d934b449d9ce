"""``fusionbench score`` through the CLI: the round trips with ``run --save-outputs``, the shared
real samples (PanCollection-style .mat, VIFB fused images), and bad inputs (one clear line, no
traceback, nothing written)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from fusionbench.cli import cli
from fusionbench.results.reader import read_runs, read_scores


def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def _by_model(results: Path, suite: str) -> dict[str, dict[tuple[str, str], float]]:
    scores = read_scores(results, suite)
    out: dict[str, dict[tuple[str, str], float]] = {}
    for row in scores.itertuples():
        out.setdefault(row.model, {})[(row.image_id, row.metric)] = row.value
    return out


def _run_exp_saving(results: Path, outs: Path) -> tuple[int, str]:
    """`exp` on two synthetic WV3 items with --save-outputs OUTS."""
    return _invoke(
        "run", "--suite", "reduced-res", "-m", "exp", "-d", "synthetic-wv3-rr", "--max-items", "2",
        "--executor", "inline", "--no-mlflow", "--results", str(results), "--save-outputs", str(outs),
    )  # fmt: skip


def _score_mine(results: Path, folder: Path) -> tuple[int, str]:
    """`fusionbench score` of the saved folder as "Mine | v2" (a name that needs escaping)."""
    return _invoke(
        "score", "--suite", "reduced-res", "--dataset", "synthetic-wv3-rr", "--name", "Mine | v2",
        "--max-items", "2", "--no-mlflow", "--results", str(results), str(folder),
    )  # fmt: skip


@pytest.fixture(scope="module")
def wv3_saved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """exp on two synthetic WV3 items, run once with --save-outputs (module-wide: it is slow)."""
    root = tmp_path_factory.mktemp("wv3")
    results, outs = root / "res", root / "outs"
    code, output = _run_exp_saving(results, outs)
    assert code == 0, output
    return results, outs / "reduced-res" / "synthetic-wv3-rr" / "exp"


def test_pansharpening_round_trip(wv3_saved: tuple[Path, Path]) -> None:
    results, folder = wv3_saved
    assert sorted(p.name for p in folder.iterdir()) == ["fused.h5", "outputs.json"]
    stamp = (folder / "fused.h5").stat().st_mtime_ns
    code, output = _score_mine(results, folder)
    assert code == 0, output
    assert "matched by its image_ids" in output and "scored from outputs" in output
    values = _by_model(results, "reduced-res")
    assert set(values["Mine | v2"]) == set(values["exp"]) and len(values["exp"]) == 12
    for key, expected in values["exp"].items():
        assert math.isclose(values["Mine | v2"][key], expected, rel_tol=1e-9, abs_tol=1e-12), key
    scores = read_scores(results, "reduced-res")
    mine = scores[scores["model"] == "Mine | v2"]
    assert set(mine["model_dist"]) == {"outputs"} and mine["output_sha256"].str.len().eq(64).all()
    assert set(scores[scores["model"] == "exp"]["model_dist"]) != {"outputs"}
    # a second score of the same outputs resumes (nothing new), like a run
    code, output = _score_mine(results, folder)
    assert code == 0 and "already scored" in output
    assert len(read_runs(results, "reduced-res")) == 2
    # rerunning exp (finished: skipped) leaves its saved outputs alone
    code, output = _run_exp_saving(results, folder.parents[2])
    assert code == 0 and "not written again" in output
    assert (folder / "fused.h5").stat().st_mtime_ns == stamp
    code, output = _invoke(
        "leaderboard", "show", "--suite", "reduced-res", "--format", "markdown", "--results", str(results)
    )
    assert "Mine \\| v2 (scored from outputs)" in output


def test_scored_runs_are_tagged_as_outputs_in_mlflow(
    wv3_saved: tuple[Path, Path], mlflow_store: str, tmp_path: Path
) -> None:
    """A scored run is a normal nested MLflow run, tagged ``fusionbench.source = outputs``."""
    from mlflow.tracking import MlflowClient

    _, folder = wv3_saved
    code, output = _invoke(
        "score", "--suite", "reduced-res", "--dataset", "synthetic-wv3-rr", "--name", "mine",
        "--max-items", "2", "--results", str(tmp_path / "res"), str(folder),
    )  # fmt: skip
    assert code == 0, output
    client = MlflowClient(tracking_uri=mlflow_store)
    experiment = client.get_experiment_by_name("fusionbench-reduced-res")
    runs = client.search_runs([experiment.experiment_id], filter_string="tags.`fusionbench.kind` = 'run'")
    assert [(r.data.tags["fusionbench.source"], r.info.status) for r in runs] == [("outputs", "FINISHED")]
    assert runs[0].data.metrics["sam"] > 0


def _bad(results: Path, folder: Path, *extra: str) -> str:
    code, output = _invoke(
        "score",
        "--suite",
        "reduced-res",
        "--dataset",
        "synthetic-wv3-rr",
        "--name",
        "bad",
        "--max-items",
        "2",
        "--no-mlflow",
        "--results",
        str(results),
        *extra,
        str(folder),
    )
    assert code == 2, output
    assert "Traceback" not in output
    assert not (results / "runs").exists() and not (results / "scores").exists(), "nothing may be written"
    lines = [line for line in output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, output
    return lines[0]


def _write_items(folder: Path, arrays: dict[str, np.ndarray]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, array in arrays.items():
        np.save(folder / f"{name}.npy", array)


def test_bad_inputs_give_one_line_and_write_nothing(wv3_saved: tuple[Path, Path], tmp_path: Path) -> None:
    import h5py

    _, saved = wv3_saved
    with h5py.File(saved / "fused.h5", "r") as handle:
        stack = handle["fused"][()]
    results = tmp_path / "res"
    good = {"test-00": stack[0], "test-01": stack[1]}

    _write_items(tmp_path / "missing", {"test-00": stack[0], "other": stack[1]})
    assert "missing items" in _bad(results, tmp_path / "missing") and "test-01" in _bad(results, tmp_path / "missing")

    _write_items(tmp_path / "extra", {**good, "test-02x": stack[1]})
    assert "extra files" in _bad(results, tmp_path / "extra")

    nan = stack[1].copy()
    nan[0, 3, 4] = np.nan
    _write_items(tmp_path / "nan", {"test-00": stack[0], "test-01": nan})
    line = _bad(results, tmp_path / "nan")
    assert "test-01.npy" in line and "item test-01" in line and "NaN" in line

    _write_items(tmp_path / "shape", {"test-00": stack[0], "test-01": stack[1][:, :-1]})
    line = _bad(results, tmp_path / "shape")
    assert "test-01" in line and "shape" in line

    _write_items(tmp_path / "normalised", {k: v / float(stack.max()) for k, v in good.items()})  # in [0, 1]
    line = _bad(results, tmp_path / "normalised")
    assert "normalised" in line and "--scale 2047" in line

    _write_items(tmp_path / "twice", good)
    np.save(tmp_path / "twice" / "test-00.mat.npy", stack[0])  # stem "test-00.mat": not an id, extra
    assert "extra" in _bad(results, tmp_path / "twice")


def test_ivf_png_round_trip_is_exact(tmp_path: Path) -> None:
    results, outs = tmp_path / "res", tmp_path / "outs"
    code, output = _invoke(
        "run",
        "--suite",
        "ivf",
        "-m",
        "average",
        "-d",
        "synthetic-ivf",
        "--max-items",
        "2",
        "--executor",
        "inline",
        "--no-mlflow",
        "--results",
        str(results),
        "--save-outputs",
        str(outs),
        "--save-outputs-tif",
    )
    assert code == 0, output
    folder = outs / "ivf" / "synthetic-ivf" / "average"
    assert sorted(p.suffix for p in folder.iterdir()) == [".json", ".png", ".png", ".tif", ".tif"]
    code, output = _invoke(
        "score",
        "--suite",
        "ivf",
        "--dataset",
        "synthetic-ivf",
        "--name",
        "png",
        "--glob",
        "*.png",
        "--max-items",
        "2",
        "--no-mlflow",
        "--results",
        str(results),
        str(folder),
    )
    assert code == 0, output
    values = _by_model(results, "ivf")
    assert values["png"] == values["average"]  # the metrics' `round` quantisation is what the PNG stores


def test_shared_pancollection_mat_folder(shared_data: Path, tmp_path: Path) -> None:
    """The toolbox-style .mat sample as "outputs": its gt scored against itself is perfect; as
    stored (DN/2047) it is refused with the --scale advice."""
    folder = tmp_path / "mats"
    folder.mkdir()
    (folder / "cdif_WV3_test_RR.mat").symlink_to(shared_data / "pansharpening" / "cdif_WV3_test_RR.mat")
    dataset = "custom-scenes-rr[path=pansharpening/cdif_WV3_test_RR.mat,sensor=WV3]"
    common = [
        "score",
        "--suite",
        "reduced-res",
        "--dataset",
        dataset,
        "--name",
        "gt",
        "--key",
        "gt",
        "--no-mlflow",
        "--results",
        str(tmp_path / "res"),
        "--data-root",
        str(shared_data),
    ]
    code, output = _invoke(*common, str(folder))
    assert code == 2 and "--scale 2047" in output and not (tmp_path / "res" / "runs").exists()
    code, output = _invoke(*common, "--scale", "2047", str(folder))
    assert code == 0, output
    assert "matched 1 files by item id" in output  # the scene reader names its item by the file stem
    values = {k[1]: v for k, v in _by_model(tmp_path / "res", "reduced-res")["gt"].items()}
    assert values["q2n"] == pytest.approx(1.0) and values["sam"] == pytest.approx(0.0, abs=1e-9)
    assert values["ergas"] == pytest.approx(0.0, abs=1e-9)


def test_shared_vifb_fused_folder(shared_data: Path, tmp_path: Path) -> None:
    """VIFB's fused images (four methods in one folder), matched by the id the glob's '*' stands
    for; the first two pairs only, to keep the test fast."""
    fused = tmp_path / "fused"
    fused.mkdir()
    for image_id in ("carLight", "carShadow"):
        for method in ("GFF", "CBF", "ADF", "LatLRR"):
            name = f"{image_id}_{method}.jpg"
            (fused / name).symlink_to(shared_data / "ivf" / "vifb" / "fused" / name)
    common = [
        "score",
        "--suite",
        "ivf-vifb",
        "--dataset",
        "vifb",
        "--max-items",
        "2",
        "--no-mlflow",
        "--data-root",
        str(shared_data),
    ]
    code, output = _invoke(
        *common, "--name", "GFF (VIFB)", "--glob", "*_GFF.jpg", "--results", str(tmp_path / "res"), str(fused)
    )
    assert code == 0, output
    assert "matched 2 files by item id" in output
    scores = read_scores(tmp_path / "res", "ivf-vifb")
    assert sorted(scores["image_id"].unique()) == ["carLight", "carShadow"] and np.isfinite(scores["value"]).all()
    carlight = scores[(scores["image_id"] == "carLight") & (scores["metric"] == "en")]["value"].item()
    assert 7.0 < carlight < 8.0  # VIFB's MATLAB gives 7.5117 on the colour image (per channel)
    code, output = _invoke(*common, "--name", "all", "--results", str(tmp_path / "res2"), str(fused))
    assert code == 2 and "8 files but the dataset has 2 items" in output  # four methods: refused, not guessed
