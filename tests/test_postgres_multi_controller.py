"""Two controllers at once on one run in one PostgreSQL database, each owning two islands.

Real CLI processes, the offline engine, the circle-packing evaluator. Checks: nothing
lost or duplicated, counters agree with the stored rows, migration crossed between the
controllers in both directions of the ring, and ownership is enforced.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select
from support_postgres import postgres_url  # noqa: F401  (fixture)
from support_scale import fresh_postgres_database

from evolve.database.models import controllers_table
from evolve.database.store import Store
from evolve.errors import UserError

REPO = Path(__file__).resolve().parent.parent
BUDGET = 120


def start(out: Path, name: str, url: str, islands: str, *extra: str) -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "evolve.cli", "run", "problems/circle_packing", "--out", str(out),
            "--name", name, "--set", f"database.url={url}", "--set", "database.num_islands=4",
            "--set", f"database.islands_owned={islands}", "--set", "database.migration_interval=3",
            "--set", f"budget.iterations={BUDGET}", "--set", "evaluation.workers=1",
            "--set", "llm.concurrency=2", *extra]
    return subprocess.Popen(argv, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen[str]) -> str:
    stdout, stderr = proc.communicate(timeout=240)
    assert proc.returncode == 0, stderr[-3000:]
    return stdout


def test_two_controllers_share_one_run(postgres_url: str, tmp_path: Path) -> None:  # noqa: F811
    url = fresh_postgres_database(postgres_url, "shared_run")
    out = tmp_path / "runs"
    # A zero-iteration controller makes the run; then both workers start together, so
    # neither spends the shared budget before the other is up (a slow start would
    # otherwise leave one side nothing to send).
    finish(start(out, "setup", url, "[0,1]", "--set", "budget.iterations=0"))
    run_id = json.loads((out / "setup" / "run.json").read_text())["run_id"]
    first = start(out, "a", url, "[0,1]", "--join", run_id)
    second = start(out, "b", url, "[2,3]", "--join", run_id)
    finish(first)
    finish(second)

    with Store.open_existing(url) as store:
        programs = list(store.programs(run_id))
        counters = store.counters(run_id)
        events = store.events(run_id)
        with store.engine.connect() as conn:
            controllers = conn.execute(select(controllers_table).where(
                controllers_table.c.run_id == run_id).order_by(controllers_table.c.started_at)).all()

    # the setup controller and both workers registered and let go of their islands;
    # the workers held theirs at the same time
    assert controllers[0].islands == [0, 1]
    workers = controllers[1:]
    assert sorted(row.islands for row in workers) == [[0, 1], [2, 3]]
    assert all(row.released_at is not None for row in controllers)
    assert max(row.started_at for row in workers) < min(row.released_at for row in workers)

    # nothing duplicated; every child stayed on its parent's island
    ids = [p.id for p in programs]
    assert len(ids) == len(set(ids))
    by_id = {p.id: p for p in programs}
    children = [p for p in programs if p.origin == "llm"]
    assert all(by_id[c.parent_id].island == c.island for c in children)
    assert {c.island for c in children} == {0, 1, 2, 3}
    migrants = [p for p in programs if p.origin == "migration"]
    assert len({(m.island, m.code) for m in migrants}) == len(migrants)

    # nothing lost: the shared counters agree with what is stored
    kinds = Counter(e.kind for e in events)
    assert counters.iterations == len(children) + kinds["edit_failed"] + kinds["llm_failed"]
    assert BUDGET <= counters.iterations <= BUDGET + 6  # at most the in-flight work of both
    evaluated = children + [p for p in programs if p.origin == "initial" and p.parent_id is None]
    assert counters.valid + counters.invalid == len(evaluated)
    assert counters.valid == sum(p.valid for p in evaluated)

    # migration crossed between controllers: 1 -> 2 (A to B) and 3 -> 0 (B to A)
    crossings = {(by_id[m.parent_id].island, m.island) for m in migrants}
    assert (1, 2) in crossings and (3, 0) in crossings
    remote = [e.data for e in events if e.kind == "migration" and e.data["from_other_controllers"] > 0]
    assert {tuple(d["islands"]) for d in remote} == {(0, 1), (2, 3)}


def test_claiming_islands_a_live_controller_owns_is_refused(postgres_url: str) -> None:  # noqa: F811
    from evolve.database.claims import IslandClaim

    url = fresh_postgres_database(postgres_url, "claims")
    with Store(url) as store:
        run_id = store.create_run("claims", "p", {}, 0)
        first = IslandClaim(store, run_id, [0, 1])
        first.claim()
        with pytest.raises(UserError, match=r"islands \[1\] .* owned by a live controller"):
            IslandClaim(store, run_id, [1, 2]).claim()
        IslandClaim(store, run_id, [2, 3]).claim()
        first.release()
        IslandClaim(store, run_id, [1]).claim()  # free again


def test_joining_needs_a_shared_database_and_islands(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "evolve.cli", "run", "problems/circle_packing", "--join", "x" * 32,
         "--out", str(tmp_path), "--set", "database.islands_owned=[1]"],
        cwd=REPO, check=False, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "database.url" in proc.stderr
    proc = subprocess.run(
        [sys.executable, "-m", "evolve.cli", "run", "problems/circle_packing", "--out", str(tmp_path),
         "--set", "database.islands_owned=[3,4]"],
        cwd=REPO, check=False, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "database.islands_owned" in proc.stderr and "[4]" in proc.stderr
