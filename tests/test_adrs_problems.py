"""The ADRS problems through the CLI: listed by `evolve problems`, and a short offline run each."""

from __future__ import annotations

from pathlib import Path

import pytest

from evolve.runs import open_run
from tests.support_adrs import evolve_cli

MINE = ("prism", "telemetry_repair", "txn_scheduling")


def test_problems_lists_the_nested_adrs_folders():
    proc = evolve_cli("problems")
    assert proc.returncode == 0, proc.stderr[-2000:]
    for name in MINE:
        assert f"problems/adrs/{name}  ({name})" in proc.stdout


@pytest.mark.parametrize("name", MINE)
def test_offline_run(tmp_path: Path, name: str) -> None:
    out = tmp_path / "runs"
    proc = evolve_cli("run", f"problems/adrs/{name}", "--iterations", "2", "--out", str(out),
                      "--name", name)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "offline mutation engine" in proc.stdout
    run = open_run(out / name)
    assert run.store.counters(run.run_id).iterations == 2
    programs = list(run.store.programs(run.run_id))
    initial = [p for p in programs if p.origin == "initial"]
    assert initial and all(p.valid for p in initial)
    assert any(p.origin == "llm" for p in programs)
