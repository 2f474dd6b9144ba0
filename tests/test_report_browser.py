"""The HTML report rendered by headless Chromium: charts drawn, key figures shown, pixels on screen.

Skipped only when no Chromium is installed (CI installs the `chromium` apt package).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from support_report import chromium, layout_probe, make_run, png_pixels, run_chromium

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


LONG_REASON = ("the candidate returned a placement in which expert 17 appears on two GPUs of the "
               "same node while expert 203 is missing from every GPU of layer 5 and layer 9")
LONG_MODEL = "openrouter/some-provider/a-very-long-model-name-with-a-dated-suffix-2025-06-01"


@pytest.fixture(scope="module")
def wordy_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A report whose reasons, model names and metric names are long."""
    from support_database import ledger_entry, make_call, make_program

    from evolve.database.store import Store

    root = tmp_path_factory.mktemp("wordy")
    run = make_run(root / "runs", "wordy", programs=40, seed=11)
    with Store(f"sqlite:///{run / 'evolve.db'}") as store:
        run_id = store.runs()[0].id
        for i in range(6):
            bad = make_program(run_id, valid=False, score=None, iteration=100 + i, model=LONG_MODEL,
                               reason=f"{LONG_REASON} (case {i})")
            store.commit(ledger_entry(bad, [make_call(run_id, model=LONG_MODEL, iteration=100 + i)]))
        metrics = {f"candidate_ms[shape=({i * 1024}, {i * 4096}), dtype=bfloat16]": 0.5 * i
                   for i in range(4)}
        store.commit(ledger_entry(make_program(run_id, score=99.0, iteration=200, metrics=metrics,
                                               model=LONG_MODEL)))
    with load_run(run) as handle:
        return write_report(handle, root / "wordy.html")


@pytest.mark.parametrize("width", [1400, 800])
def test_no_table_is_clipped(wordy_report: Path, tmp_path: Path, width: int) -> None:
    """Every table sits in a container whose scroll width equals its client width (the
    table fits the room it has), and the page is no wider than the window."""
    assert BROWSER is not None
    probe = layout_probe(BROWSER, wordy_report, tmp_path, width)
    assert probe["containers"] and probe["loose"] == 0, probe
    assert probe["clipped"] == [], probe
    page = probe["page"]
    assert isinstance(page, list) and page[0] <= page[1], probe
