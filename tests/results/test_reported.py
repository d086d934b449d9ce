"""Reported (published) results: the CSV loader, the separate block, the gaps, never ranked."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from fusionbench.errors import DataFormatError
from fusionbench.results.leaderboard import build_leaderboard
from fusionbench.results.render.reported import TITLE, gap_table, reported_grid, reported_markdown
from fusionbench.results.render.text import board_grid, board_text
from fusionbench.results.reported import read_reported_csv
from fusionbench.specs import ReportedResult

REPO = Path(__file__).resolve().parents[2]


def _row(metric: str, value: float, **kw: object) -> ReportedResult:
    data = dict(
        method="Paper|Net",
        model="exp",
        paper="P",
        year=2024,
        dataset="d",
        protocol="reduced",
        metric=metric,
        value=value,
    )
    data.update(kw)
    return ReportedResult(**data)  # type: ignore[arg-type]


def _scores() -> pd.DataFrame:
    rows = []
    for model, sam in (("exp", 3.0), ("gsa", 2.0)):
        for image in ("i0", "i1"):
            rows.append(
                dict(
                    dataset="d",
                    model=model,
                    metric="sam",
                    value=sam + (0.5 if image == "i1" else -0.5),
                    image_id=image,
                    base_seed=0,
                    higher_is_better=False,
                    data_sha256="h",
                    metric_version="1",
                    metric_params_json="{}",
                    card_json="{}",
                    model_params_json="{}",
                    sampler=None,
                    dataset_synthetic=False,
                    model_dist="x",
                )
            )
    return pd.DataFrame(rows)


def test_shipped_csvs_load_and_name_their_sources() -> None:
    for plugin in ("ssdiff", "ddfm", "classical"):
        rows = read_reported_csv(REPO / "plugins" / f"fusionbench-{plugin}" / f"fusionbench_{plugin}" / "reported.csv")
        assert rows and all(r.source_table and r.transcribed_by and r.settings for r in rows)
    ssdiff = read_reported_csv(REPO / "plugins/fusionbench-ssdiff/fusionbench_ssdiff/reported.csv")
    assert {r.dataset for r in ssdiff} == {"wv3-rr", "wv3-fr", "qb-rr", "qb-fr", "gf2-rr", "gf2-fr"}


def test_loader_refuses_bad_rows(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("method,paper,dataset,protocol,metric\nA,P,d,reduced,sam\n")
    with pytest.raises(DataFormatError, match="missing \\['value'\\]"):
        read_reported_csv(path)
    path.write_text("method,paper,dataset,protocol,metric,value\nA,P,d,reduced,sam,abc\n")
    with pytest.raises(DataFormatError, match=r"r\.csv:2: column 'value' is not a number"):
        read_reported_csv(path)


def test_reported_rows_are_never_ranked_or_bold_and_gaps_are_measured_minus_reported() -> None:
    scores = _scores()
    reported = [_row("sam", 0.5)]  # far better than anything measured
    board = build_leaderboard(scores)
    grid = board_grid(board, "d")
    assert [r.method for r in grid.rows] == ["gsa", "exp"] and grid.rows[0].cells[
        0
    ].best  # the measured best keeps the bold
    header, body = reported_grid(reported)
    assert not any("**" in cell for row in body for cell in row)
    gaps = gap_table(scores, reported, "d")
    assert list(gaps["method"]) == ["exp"] and gaps["gap"].item() == pytest.approx(3.0 - 0.5)
    text = board_text(board, "s", "markdown", reported, scores)
    assert TITLE in text and "Paper\\|Net" in text and "+2.5000" in text
    ranked = text.split(TITLE)[0]
    assert "Paper" not in ranked  # the ranked table holds measured rows only
    assert reported_markdown("other", reported, gaps) == ""
