"""The leaderboard page in a real headless Chromium: tabs, sorting, thumbnails, no network."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from fusionbench.engine.planner import Selection, plan_suite
from fusionbench.registry import load_registry
from fusionbench.results.render.export import export_board
from fusionbench.engine.runner import RunOptions, run_plan

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path:
        return path
    message = "Chromium is not installed (apt-get install chromium)"
    if os.environ.get("FUSIONBENCH_REQUIRE_BROWSER") == "1":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture
def page_file(good_fixture_only, tmp_path) -> Path:
    registry = load_registry(disabled=["mlflow"])
    models = [Selection.parse(m) for m in ("fixture-lms", "fixture-noisy[sigma=0.5]", "fixture-noisy[sigma=0.05]")]
    plan = plan_suite(registry, "fixture-suite", models=models)
    run_plan(registry, plan, RunOptions(results_dir=tmp_path / "results", executor="inline"))
    return export_board(tmp_path / "results", "fixture-suite", "html", tmp_path / "board.html")


def test_page_is_self_contained(page_file):
    text = page_file.read_text()
    assert "http://" not in text and "https://" not in text  # no CDN, nothing fetched
    assert text.count("data:image/png;base64,") == 3  # one thumbnail per method


def test_sorting_and_tabs_in_headless_chromium(page_file):
    sync_api = pytest.importorskip("playwright.sync_api")
    executable = _chromium()
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            requests: list[str] = []
            page.on("request", lambda request: requests.append(request.url))
            page.goto(page_file.as_uri())
            panel = page.locator(".panel.active")
            assert panel.get_attribute("data-dataset") == "fixture-scenes"
            methods = lambda: panel.locator("tbody tr").evaluate_all("rows => rows.map(r => r.dataset.method)")  # noqa: E731
            values = lambda: panel.locator("tbody tr td[data-value].num:nth-child(4)").evaluate_all(  # noqa: E731
                "cells => cells.map(c => parseFloat(c.dataset.value))"
            )
            # initial order: by average rank, best (lowest MAE) first
            assert methods()[0] == "fixture-lms"
            header = panel.locator("th[data-metric='fixture-mae']")
            header.click()
            assert header.get_attribute("aria-sort") == "ascending"
            assert values() == sorted(values())
            header.click()
            assert header.get_attribute("aria-sort") == "descending"
            assert values() == sorted(values(), reverse=True)
            assert methods()[0] == "fixture-noisy[sigma=0.5]"
            best = panel.locator("td.best")
            assert best.count() == 1 and "0.04" in best.inner_text()
            assert panel.locator("img").count() == 3
            shot = page_file.with_suffix(".png")
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 1000
            assert all(url.startswith(("file://", "data:")) for url in requests)
        finally:
            browser.close()
