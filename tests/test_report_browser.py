"""The HTML report rendered by headless Chromium: charts drawn, key figures shown, pixels on screen.

Skipped only when no Chromium is installed (CI installs the `chromium` apt package).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from support_report import chromium, make_run, png_pixels, run_chromium

from evolve.report.html import write_report
from evolve.report.source import load_run, resolve_program

BROWSER = chromium()
pytestmark = [pytest.mark.skipif(BROWSER is None, reason="chromium is not installed"), pytest.mark.slow]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float]:
    root = tmp_path_factory.mktemp("browser")
    run = make_run(root / "runs", "demo", programs=120, seed=7)
    with load_run(run) as handle:
        best = resolve_program(handle, "best")
        path = write_report(handle, root / "report.html")
    assert best.score is not None
    return path, best.score


def test_dom_after_scripts_ran(report: tuple[Path, float], tmp_path: Path) -> None:
    path, best = report
    assert BROWSER is not None
    dom = run_chromium(BROWSER, path, tmp_path, "--dump-dom")
    assert re.search(rf'id="best-score">{re.escape(f"{best:.6g}")}<', dom)
    assert 'id="program-count">120<' in dom
    # plotly replaced each chart div's content with its SVG; count the drawn charts
    drawn = re.findall(r'<div class="chart[^"]*" id="(fig-[\w-]+)"[^>]*>\s*<div class="plot-container', dom)
    assert set(drawn) == {"fig-best-evaluations", "fig-best-usd", "fig-validity", "fig-islands",
                          "fig-occupancy", "fig-lineage", "fig-holdout", "fig-models"}
    assert dom.count('class="main-svg"') >= 2 * len(drawn)
    assert "Best score over evaluations" in dom  # a title plotly rendered as SVG text


def test_screenshot_is_not_blank(report: tuple[Path, float], tmp_path: Path) -> None:
    path, _ = report
    assert BROWSER is not None
    shot = tmp_path / "shot.png"
    run_chromium(BROWSER, path, tmp_path, f"--screenshot={shot}", "--window-size=1280,1400")
    pixels = png_pixels(shot)
    assert pixels.shape[:2] == (1400, 1280)
    assert pixels.std() > 10  # a blank or single-colour page has almost no variance
    charts = pixels[450:900]  # the band where the progress charts sit
    coloured = (abs(charts[:, :, 0].astype(int) - charts[:, :, 2].astype(int)) > 60).mean()
    assert coloured > 0.001  # blue/orange curves were painted, not just grey text
