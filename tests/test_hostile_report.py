"""The HTML report of a run an attacker prepared, as headless Chromium renders it.

Planted names, keys and texts must stay text after plotly.js has drawn every chart: no
link, no styled element, no image and no script of theirs in the DOM. Each check is
paired with a control page that shows the same detector catching the attack when the
defence is absent, so the checks cannot pass by looking in the wrong place.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from support_hostile import LINK, STYLE, plant_payloads
from support_report import chromium, run_chromium

from evolve.report.html import plotly_js, write_report
from evolve.report.source import load_run

BROWSER = chromium()
pytestmark = [pytest.mark.skipif(BROWSER is None, reason="chromium is not installed"), pytest.mark.slow]

INJECTED_LINK = re.compile(r"<a\b[^>]*evil\.example", re.IGNORECASE)
INJECTED_STYLE = re.compile(r"<[a-z]+\b[^>]*style=\"[^\"]*120px", re.IGNORECASE)
INJECTED_IMAGE = re.compile(r"<img\b[^>]*src=\"x\"", re.IGNORECASE)


def dom_of(page: Path, work: Path) -> str:
    assert BROWSER is not None
    return run_chromium(BROWSER, page, work, "--dump-dom")


def title_of(dom: str) -> str:
    found = re.search(r"<title>(.*?)</title>", dom, re.DOTALL)
    return found.group(1) if found else ""


def test_planted_payloads_inject_nothing_into_the_rendered_report(tmp_path: Path) -> None:
    run = plant_payloads(tmp_path / "runs")
    with load_run(run) as handle:
        page = write_report(handle, tmp_path / "report.html")
    dom = dom_of(page, tmp_path)
    drawn = re.findall(r'id="(fig-[\w-]+)"[^>]*>\s*<div class="plot-container', dom)
    assert {"fig-models", "fig-occupancy", "fig-lineage", "fig-best-evaluations"} <= set(drawn)
    assert not INJECTED_LINK.search(dom)
    assert not INJECTED_STYLE.search(dom)
    assert not INJECTED_IMAGE.search(dom)
    assert title_of(dom) != "pwned"
    # the payload is on the page as the text it is (a table cell and a chart label)
    assert "click me" in dom and "evil.example/phish" in dom
    assert dom.count("&lt;a href=") >= 2


def test_control_plotly_draws_label_markup_when_it_is_not_escaped(tmp_path: Path) -> None:
    figure = {"data": [{"type": "bar", "x": [LINK + STYLE], "y": [1]}],
              "layout": {"title": {"text": LINK}}}
    page = tmp_path / "control.html"
    page.write_text(
        "<!DOCTYPE html><html><head><meta charset=utf-8><title>control</title></head><body>"
        f"<div id=c></div><script>{plotly_js()}</script><script>"
        f"Plotly.newPlot('c', {json.dumps(figure)}.data, {json.dumps(figure)}.layout);</script>"
        "</body></html>", encoding="utf-8")
    dom = dom_of(page, tmp_path)
    assert INJECTED_LINK.search(dom) and INJECTED_STYLE.search(dom)


SCRIPT = "<script>document.title='pwned'</script>"


def test_the_report_policy_stops_a_script_that_slipped_through(tmp_path: Path) -> None:
    run = plant_payloads(tmp_path / "runs")
    with load_run(run) as handle:
        page = write_report(handle, tmp_path / "report.html")
    html = page.read_text(encoding="utf-8")
    assert 'http-equiv="Content-Security-Policy"' in html
    guarded = tmp_path / "guarded.html"
    guarded.write_text(html.replace("</body>", SCRIPT + "</body>"), encoding="utf-8")
    dom = dom_of(guarded, tmp_path)
    assert title_of(dom) != "pwned"
    assert '<div class="plot-container' in dom  # the report's own scripts still ran
    bare = tmp_path / "bare.html"  # control: the same page without its policy runs the script
    bare.write_text(re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", html)
                    .replace("</body>", SCRIPT + "</body>"), encoding="utf-8")
    assert title_of(dom_of(bare, tmp_path)) == "pwned"
