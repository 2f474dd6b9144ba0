"""Report data, HTML report, `evolve show` / `diff` / `report` / `serve` on runs written via Store."""

from __future__ import annotations

import itertools
import json
import re
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from support_report import make_run

from evolve.cli import main
from evolve.report.collect import collect_run, is_copy
from evolve.report.html import build_report, write_report
from evolve.report.scores import holdout_score
from evolve.report.serve import make_server
from evolve.report.source import lineage, load_run, resolve_program


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_run(tmp_path_factory.mktemp("runs"), "demo", programs=60, seed=3)


def test_holdout_score_prefers_combined_then_mean() -> None:
    assert holdout_score({"score": 2.0, "a": 10.0}) == 2.0
    assert holdout_score({"a": 1.0, "b": 3.0, "note": "x"}) == 2.0
    assert holdout_score({}) is None
    assert holdout_score({"score": float("nan")}) is None


def test_collect_matches_stored_programs(run_dir: Path) -> None:
    with load_run(run_dir) as handle:
        programs = list(handle.store.programs(handle.run_id))
        data = collect_run(handle, top_n=5)
        counters = handle.store.counters(handle.run_id)
    evaluated = [p for p in programs if not is_copy(p)]
    valid = [p for p in evaluated if p.valid]
    best = max(valid, key=lambda p: p.score or 0.0)
    assert data.programs == len(programs)
    assert data.evaluations == len(evaluated) < len(programs)  # migration copies are not evaluations
    assert [p.id for p in data.top] == [p.id for p in sorted(valid, key=lambda p: -(p.score or 0.0))[:5]]
    scores = [pt.score for pt in data.best_curve]
    assert scores == sorted(scores) and scores[-1] == best.score
    assert data.best_curve[-1].evaluation == len(evaluated)
    assert data.lineage[-1].id == best.id and data.lineage[0].parent_id is None
    assert sum(v + i for _, _, v, i in data.validity) == len(evaluated)
    assert sum(v for _, _, v, _ in data.validity) == len(valid)
    assert data.grid is not None and sum(map(sum, data.grid.count)) == len(valid)
    assert sum(m.usd for m in data.models) == pytest.approx(counters.usd)
    assert sum(m.failed for m in data.models) == 1
    assert data.reasons and sum(n for _, n in data.reasons) == len(evaluated) - len(valid)
    assert sum(s.programs for s in data.islands) == len(programs)


def test_report_is_self_contained_and_escapes_untrusted_text(run_dir: Path, tmp_path: Path) -> None:
    with load_run(run_dir) as handle:
        best = resolve_program(handle, "best")
        path = write_report(handle, tmp_path / "r.html", top_n=3)
    html = path.read_text(encoding="utf-8")
    assert f'id="best-score">{best.score:.6g}<' in html
    assert 'id="program-count">60<' in html
    assert f'id="best-holdout">{holdout_score(best.holdout):.6g}<' in html
    # offline: plotly.js (its partial cartesian bundle) embedded exactly once, nothing
    # fetched from elsewhere, and the page a third of what the full library would make it
    assert html.count("* plotly.js (cartesian - minified) v") == 1 and "* plotly.js v" not in html
    assert len(html.encode()) < 2_000_000
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=\"?https?:", html)
    # artifacts hold "<script>alert(1)</script>": shown as text, never as markup
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)" in html
    figures = json.loads(re.search(r'id="figure-data">(.*?)</script>', html, re.DOTALL).group(1))  # type: ignore[union-attr]
    assert {"fig-best-evaluations", "fig-best-usd", "fig-validity", "fig-islands", "fig-occupancy",
            "fig-lineage", "fig-holdout", "fig-models"} <= set(figures)
    assert html.count('class="program"') == 3


def test_report_without_valid_programs_or_costs(tmp_path: Path) -> None:
    run = make_run(tmp_path, "empty", programs=0, calls=False)
    with load_run(run) as handle:
        html = build_report(handle)
    assert "This run has no valid program yet." in html
    assert 'id="best-score">-<' in html
    assert "fig-best-usd" not in html.split('id="figure-data"')[1]


@pytest.mark.slow
def test_report_on_ten_thousand_programs_stays_small(tmp_path: Path) -> None:
    run = make_run(tmp_path, "big", programs=10_000, seed=1)
    with load_run(run) as handle:
        html = build_report(handle, top_n=10)
    data_block = re.search(r'id="figure-data">(.*?)</script>', html, re.DOTALL).group(1)  # type: ignore[union-attr]
    assert len(data_block) < 1_500_000  # bounded series, not one point per program
    assert 'id="program-count">10000<' in html
    assert html.count('class="lineage-step"') <= 60


def test_lineage_and_prefix_resolution(run_dir: Path) -> None:
    with load_run(run_dir) as handle:
        best = resolve_program(handle, "best")
        assert resolve_program(handle, best.id[:10]).id == best.id
        assert resolve_program(handle, best.id.upper()).id == best.id
        chain = lineage(handle, best)
        for parent, child in itertools.pairwise(chain):
            assert child.parent_id == parent.id


def test_show_prints_holdout_apart_and_code(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", str(run_dir)]) == 0
    out = capsys.readouterr().out
    assert "holdout (never shown" in out and "metrics (train)" in out
    assert "EVOLVE-BLOCK-START" in out and "lineage" in out
    with load_run(run_dir) as handle:
        worst = min((p for p in handle.store.programs(handle.run_id) if not p.valid), key=lambda p: p.iteration)
    assert main(["show", str(run_dir), worst.id[:16], "--no-code"]) == 0
    out = capsys.readouterr().out
    assert "invalid" in out and worst.reason in out and "EVOLVE-BLOCK-START" not in out


def test_show_code_only_is_the_stored_code(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", str(run_dir), "best", "--code-only"]) == 0
    with load_run(run_dir) as handle:
        assert capsys.readouterr().out == resolve_program(handle, "best").code


def test_diff_against_parent_and_between_two(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with load_run(run_dir) as handle:
        best = resolve_program(handle, "best")
        parent = handle.store.get_program(best.parent_id or "")
    assert main(["diff", str(run_dir), best.id, "--plain"]) == 0
    out = capsys.readouterr().out
    assert f"--- a/{parent.id[:12]}" in out and f"+++ b/{best.id[:12]}" in out
    assert main(["diff", str(run_dir), parent.id, "best"]) == 0
    assert "->" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["show", "{run}", "ffffffffffffffffz"], "no program with id"),
    (["show", "{run}", ""], "empty program id"),
    (["show", "{missing}"], "no such run folder"),
    (["diff", "{run}", "best", "nope"], "no program with id"),
    (["report", "{run}", "--top", "0"], "--top"),
])
def test_user_errors_print_one_line_and_exit_2(run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                               argv: list[str], message: str) -> None:
    args = [a.format(run=run_dir, missing=tmp_path / "missing") for a in argv]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


def test_ambiguous_prefix_is_a_user_error(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with load_run(run_dir) as handle:
        ids = [p.id for p in handle.store.programs(handle.run_id)]
    prefix = next(c for c in "0123456789abcdef" if sum(i.startswith(c) for i in ids) > 1)
    assert main(["show", str(run_dir), prefix]) == 2
    assert "ambiguous" in capsys.readouterr().err


def test_report_command_writes_into_the_run_folder_by_name(run_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(run_dir.parent.parent)
    Path("runs").mkdir(exist_ok=True)
    if not Path("runs/demo").exists():
        Path("runs/demo").symlink_to(run_dir)
    assert main(["report", "demo"]) == 0
    assert (run_dir / "report.html").stat().st_size > 1_000_000  # plotly.js is inside
    assert "wrote" in capsys.readouterr().out


def test_serve_lists_runs_and_serves_reports(run_dir: Path) -> None:
    server = make_server(run_dir.parent, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        index = urllib.request.urlopen(base + "/", timeout=30).read().decode()
        assert 'href="/run/demo"' in index and "circle_packing" in index
        page = urllib.request.urlopen(base + "/run/demo", timeout=60).read().decode()
        assert 'id="program-count">60<' in page
        assert 'http-equiv="refresh"' not in page  # finished runs do not reload
        for bad in ("/run/../../etc/passwd", "/run/nope", "/elsewhere"):
            with pytest.raises(urllib.error.HTTPError) as info:
                urllib.request.urlopen(base + bad, timeout=30)
            assert info.value.code == 404
    finally:
        server.shutdown()
        server.server_close()


def test_report_layout_fixes(tmp_path: Path) -> None:
    """Reasons cut at a word with an ellipsis, whole-number ticks where counts and steps are
    drawn, square MAP-Elites cells, and no empty half-row when no USD was spent."""
    from support_database import ledger_entry, make_program

    from evolve.database.store import Store
    from evolve.report.figures import all_figures, integer_ticks
    from evolve.report.scores import shorten

    reason = "expert 17 is placed twice on one GPU " * 6
    run = make_run(tmp_path, "offline", programs=25, seed=4, calls=False, llm_models=[])
    with Store(f"sqlite:///{run / 'evolve.db'}") as store:
        run_id = store.runs()[0].id
        store.commit(ledger_entry(make_program(run_id, valid=False, score=None, reason=reason)))
    with load_run(run) as handle:
        data = collect_run(handle)
        html = build_report(handle)
    cut = next(text for text, _ in data.reasons if text.startswith("expert 17"))
    assert cut.endswith("\u2026") and len(cut) <= 100
    assert reason.startswith(cut[:-1]) and reason[len(cut) - 1] == " "  # a word boundary
    assert shorten("short enough", 100) == "short enough"

    figures = {name: fig.to_plotly_json()["layout"] for name, fig in all_figures(data).items()}
    for name, axis in (("fig-lineage", "xaxis"), ("fig-validity", "yaxis"), ("fig-islands", "yaxis")):
        ticks = figures[name][axis]
        assert ticks["tickformat"] == ",d" and float(ticks["dtick"]).is_integer(), (name, ticks)
    assert figures["fig-occupancy"]["yaxis"]["scaleanchor"] == "x"
    assert integer_ticks(7)["dtick"] == 1 and integer_ticks(37)["dtick"] == 5
    assert integer_ticks(1234)["dtick"] == 200

    # no USD spent: the score-over-evaluations chart takes the whole row, a note follows
    assert "fig-best-usd" not in figures
    assert not re.search(r'class="grid2">\s*<div class="chart" id="fig-best-evaluations"', html)
    assert "the offline engine answered" in html
    assert 'id="tokens">offline<' in html and 'id="usd">offline<' in html
