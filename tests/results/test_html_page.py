"""The leaderboard page in a real headless Chromium: tabs, sorting, thumbnails, no network."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from fusionbench.engine.planner import Selection, plan_suite
from fusionbench.engine.runner import RunOptions, run_plan
from fusionbench.registry import load_registry
from fusionbench.results.render.export import export_board

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
    import re

    text = page_file.read_text()
    # no CDN, nothing fetched: every src is a data URI, no stylesheet or script is linked
    assert all(src.startswith("data:") for src in re.findall(r"src=[\"']([^\"']*)", text))
    assert "<link" not in text and "<script src" not in text
    assert text.count("data:image/png;base64,") == 3  # one thumbnail per method
    assert "name='viewport'" in text


def test_page_does_not_change_when_nothing_changed(page_file):
    again = export_board(page_file.parent / "results", "fixture-suite", "html", page_file.parent / "again.html")
    assert again.read_bytes() == page_file.read_bytes()  # no timestamp: republishing gives an empty diff


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
            values = lambda: panel.locator("tbody tr td[data-value].num:nth-child(5)").evaluate_all(  # noqa: E731
                "cells => cells.map(c => parseFloat(c.dataset.value))"
            )
            # initial order: by average rank, best (lowest MAE) first
            assert methods()[0] == "fixture-lms"
            header = panel.locator("th[data-metric='fixture-mae']")
            header.locator("button").focus()  # keyboard: headers are buttons, Enter sorts
            page.keyboard.press("Enter")
            assert header.get_attribute("aria-sort") == "ascending"  # MAE ↓: the first sort is best first
            assert values() == sorted(values())
            header.locator("button").click()
            assert header.get_attribute("aria-sort") == "descending"
            assert values() == sorted(values(), reverse=True)
            assert methods()[0] == "fixture-noisy[sigma=0.5]"
            n_column = panel.locator("tbody tr td:nth-child(4)").all_inner_texts()
            assert set(n_column) == {"3"}
            assert panel.locator("th:nth-child(4)").inner_text().strip() == "n"
            best = panel.locator("td.best")
            assert best.count() == 1 and "0.04" in best.inner_text()
            assert panel.locator("img").count() == 3
            shot = page_file.with_suffix(".png")
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 1000
            assert all(url.startswith(("file://", "data:")) for url in requests)
        finally:
            browser.close()


@pytest.mark.parametrize("width", [400, 1400])
def test_layout_has_no_horizontal_overflow_and_keeps_the_preview_visible(page_file, width):
    sync_api = pytest.importorskip("playwright.sync_api")
    executable = _chromium()
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.goto(page_file.as_uri())
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"the page scrolls sideways by {overflow} px at {width} px"
            image = page.locator(".panel.active img").first.bounding_box()
            assert image is not None and image["x"] >= 0 and image["x"] + image["width"] <= width
            label = page.locator(".panel.active td.method").first.bounding_box()
            assert label is not None and label["x"] + label["width"] <= width
            shot = page_file.parent / f"board-{width}.png"
            page.screenshot(path=str(shot), full_page=True)
            from PIL import Image

            with Image.open(shot) as picture:
                assert picture.size[0] == width  # a full-page screenshot is as wide as the viewport
        finally:
            browser.close()


def test_first_click_on_a_metric_sorts_best_first_by_its_arrow(tmp_path):
    """Higher-is-better (↑) sorts descending on the first click, lower-is-better (↓) ascending."""
    import pandas as pd

    from fusionbench.results.leaderboard import build_leaderboard
    from fusionbench.results.render.html import render_html

    rows = []
    for i, model in enumerate(["a", "b", "c"]):
        for metric, higher, value in (("psnr", True, 30.0 + i), ("sam", False, 3.0 - i * 0.5)):
            rows.append(
                {
                    "dataset": "d",
                    "model": model,
                    "model_params_json": "{}",
                    "sampler": None,
                    "sampler_params_json": None,
                    "metric": metric,
                    "higher_is_better": higher,
                    "data_sha256": "h",
                    "metric_version": "1",
                    "metric_params_json": "{}",
                    "card_json": "{}",
                    "base_seed": 0,
                    "run_key": model,
                    "image_id": "i0",
                    "value": value,
                }
            )
    scores = pd.DataFrame(rows)
    page_path = tmp_path / "page.html"
    page_path.write_text(render_html(build_leaderboard(scores), scores.assign(method=scores["model"]), tmp_path, "s"))
    sync_api = pytest.importorskip("playwright.sync_api")
    executable = _chromium()
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(page_path.as_uri())

            def order() -> list[str]:
                return page.locator(".panel.active tbody tr").evaluate_all("rows => rows.map(r => r.dataset.method)")

            page.locator("th[data-metric='psnr'] button").click()
            assert order()[0] == "c"  # highest PSNR first
            page.locator("th[data-metric='sam'] button").click()
            assert order()[0] == "c"  # lowest SAM first
            page.locator("th[data-metric='sam'] button").click()
            assert order()[0] == "a"
        finally:
            browser.close()
