"""`evolve leaderboard` over several run folders written via Store."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from support_report import make_run

from evolve.cli import main
from evolve.database.store import Store
from evolve.errors import UserError
from evolve.report.leaderboard import collect, sort_rows
from evolve.report.scores import holdout_score
from evolve.report.source import load_run


@pytest.fixture(scope="module")
def runs_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("runs")
    make_run(root, "cp-a", programs=30, seed=1)
    make_run(root, "cp-b", programs=45, seed=2, holdout=False)
    make_run(root / "nested", "eplb-a", problem="eplb", programs=20, seed=5, calls=False)
    (root / "broken").mkdir()
    (root / "broken" / "run.json").write_text(json.dumps(
        {"run_id": "x", "database_url": f"sqlite:///{root / 'broken' / 'gone.db'}"}))
    (root / "foreign").mkdir()
    (root / "foreign" / "other.db").write_text("not a database")
    (root / "foreign" / "run.json").write_text(json.dumps(
        {"run_id": "x", "database_url": f"sqlite:///{root / 'foreign' / 'other.db'}"}))
    return root


def test_one_row_per_run_with_cost_and_holdout_apart(runs_root: Path) -> None:
    warnings: list[str] = []
    rows = collect(runs_root, warnings=warnings)
    assert sorted(r.run for r in rows) == ["cp-a", "cp-b", "eplb-a"]
    assert len(warnings) == 2 and all(w.startswith("skipped ") for w in warnings)
    for row in rows:
        with load_run(row.run_dir) as handle:
            best = handle.store.best_program(handle.run_id)
            counters = handle.store.counters(handle.run_id)
        assert best is not None and row.score == best.score and row.best_program == best.id
        assert row.holdout == holdout_score(best.holdout)
        assert row.usd == pytest.approx(counters.usd) and row.evaluations == counters.evaluations
        assert row.tokens == counters.prompt_tokens + counters.completion_tokens
        assert row.llm_calls == sum(row.models.values())
    by_name = {r.run: r for r in rows}
    assert by_name["cp-b"].holdout is None and by_name["cp-a"].holdout is not None
    assert by_name["eplb-a"].usd == 0 and by_name["eplb-a"].models == {}
    assert set(by_name["cp-a"].models) == {"gpt-4o-mini", "o3"}


def test_sorting_and_problem_filter(runs_root: Path) -> None:
    rows = collect(runs_root)
    default = sort_rows(rows)
    assert [r.problem for r in default] == sorted(r.problem for r in rows)
    by_usd = sort_rows(rows, "usd")
    assert [r.usd for r in by_usd] == sorted((r.usd for r in rows), reverse=True)
    assert [r.usd for r in sort_rows(rows, "usd", ascending=True)] == sorted(r.usd for r in rows)
    assert sort_rows(rows, "holdout")[-1].holdout is None  # missing values sort last
    assert sort_rows(rows, "holdout", ascending=True)[-1].holdout is None
    assert [r.run for r in collect(runs_root, problem="eplb")] == ["eplb-a"]
    with pytest.raises(UserError):
        sort_rows(rows, "colour")


def test_cli_formats(runs_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["leaderboard", "--runs", str(runs_root), "--format", "json", "--sort", "score"]) == 0
    out, err = capsys.readouterr()
    data = json.loads(out)
    assert len(data) == 3 and data[0]["score"] >= data[1]["score"] >= data[2]["score"]
    assert err.count("warning: skipped") == 2
    assert main(["leaderboard", "--runs", str(runs_root), "--format", "csv", "--problem", "circle_packing"]) == 0
    table = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert {r["run"] for r in table} == {"cp-a", "cp-b"}
    assert {"score", "holdout", "usd", "tokens", "evaluations", "wall_s", "seed", "models"} <= set(table[0])
    assert main(["leaderboard", "--runs", str(runs_root), "--limit", "1"]) == 0
    out = capsys.readouterr().out
    assert "train" in out and "holdout" in out and out.count("circle_packing") + out.count("eplb") == 1


def test_cli_errors(runs_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["leaderboard", "--runs", str(tmp_path / "none")]) == 2
    assert "no such folder" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["leaderboard", "--runs", str(runs_root), "--format", "xml"])
    assert info.value.code == 2
    assert main(["leaderboard", "--runs", str(tmp_path)]) == 0
    assert "no runs found" in capsys.readouterr().out


def test_status_column_failed_starts_hidden_and_offline_usage(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_run(tmp_path, "scored-run", programs=10, status="stopped", llm_models=[{"name": "gpt-4o"}])
    make_run(tmp_path, "offline-run", programs=10, calls=False, llm_models=[])
    empty = tmp_path / "failed-start"  # a run that stored nothing: no scored program
    empty.mkdir()
    url = f"sqlite:///{(empty / 'evolve.db').resolve()}"
    with Store(url) as store:
        run_id = store.create_run("failed-start", "circle_packing", {"llm": {"models": []}}, 0)
        store.set_run_status(run_id, "failed")
    (empty / "run.json").write_text(json.dumps(
        {"run_id": run_id, "database_url": url, "problem_dir": "problems/circle_packing"}))

    assert main(["leaderboard", "--runs", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    header = next(line for line in lines if "problem" in line and "train" in line)
    assert "status" in header
    scored = next(line for line in lines if "scored-run" in line)
    assert "stopped" in scored and "offline" not in scored
    offline = next(line for line in lines if "offline-run" in line)
    assert offline.count("offline") == 3  # the name, then the tokens and USD cells
    assert "failed-start" not in out
    assert "1 run(s) without a scored program hidden" in out and "--all" in out

    assert main(["leaderboard", "--runs", str(tmp_path), "--all"]) == 0
    out = capsys.readouterr().out
    failed = next(line for line in out.splitlines() if "failed-start" in line)
    assert "failed" in failed.replace("failed-start", "")
    assert "hidden" not in out

    assert main(["leaderboard", "--runs", str(tmp_path), "--format", "json"]) == 0
    captured = capsys.readouterr()
    rows = {r["run"]: r for r in json.loads(captured.out)}  # stdout stays pure JSON
    assert set(rows) == {"scored-run", "offline-run"}
    assert rows["offline-run"]["offline"] is True and rows["scored-run"]["offline"] is False
    assert "without a scored program hidden" in captured.err
