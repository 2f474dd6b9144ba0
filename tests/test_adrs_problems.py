"""The ADRS problems through the CLI: listed by `evolve problems`, and a short offline run each."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support_adrs import evolve_cli, offline_run

MINE = ("prism", "telemetry_repair", "txn_scheduling")


def test_problems_lists_the_nested_adrs_folders():
    proc = evolve_cli("problems")
    assert proc.returncode == 0, proc.stderr[-2000:]
    for name in MINE:
        assert f"problems/adrs/{name}  ({name})" in proc.stdout


@pytest.mark.parametrize("name", MINE)
def test_offline_run(tmp_path: Path, name: str) -> None:
    programs = offline_run(tmp_path, name, 2)
    initial = [p for p in programs if p.origin == "initial"]
    assert initial and all(p.valid for p in initial)
