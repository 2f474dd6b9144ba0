"""The browsing commands on a real run made by `evolve run` (offline engine, circle packing)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def evolve(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "evolve.cli", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=600, check=False)


@pytest.mark.slow
def test_browse_a_real_run(tmp_path: Path) -> None:
    made = evolve("run", str(REPO / "problems" / "circle_packing"), "--iterations", "5",
                  "--out", str(tmp_path / "runs"), "--name", "cp", cwd=tmp_path)
    assert made.returncode == 0, made.stderr[-3000:]
    run = tmp_path / "runs" / "cp"

    board = evolve("leaderboard", "--runs", "runs", "--format", "json", cwd=tmp_path)
    assert board.returncode == 0, board.stderr
    rows = json.loads(board.stdout)
    assert len(rows) == 1 and rows[0]["problem"] == "circle_packing" and rows[0]["score"] is not None
    assert rows[0]["evaluations"] >= 1

    shown = evolve("show", "cp", "best", "--code-only", cwd=tmp_path)  # bare name under runs/
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == (run / "best_program.py").read_text()

    report = evolve("report", str(run), "-o", str(tmp_path / "report.html"), cwd=tmp_path)
    assert report.returncode == 0, report.stderr
    html = (tmp_path / "report.html").read_text()
    assert f'id="best-score">{rows[0]["score"]:.6g}<' in html
    assert f'id="program-count">{rows[0]["programs"]}<' in html
