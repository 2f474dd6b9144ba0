"""Per-iteration framework overhead as the population grows.

One iteration here is everything the controller does besides the LLM and the
evaluator: pick an island, sample parent/inspirations/failures, build the child
record, index it (``Population.add``, with migration when due) and write its ledger
entry (``Store.commit`` on SQLite in a temp dir: the program, one LLM call and the
counters; a migration round is one more entry).

The table shows milliseconds per iteration for the in-memory part and the store part
at 100, 1k and 10k stored programs (and 100k with ``--full``), and each as a ratio to
the 100-program figure: flat ratios mean the cost does not grow with the population.
"resume rebuild s" is the time to read the run back and rebuild the in-memory state.

    .venv/bin/python bench/overhead.py            # about 20 s
    .venv/bin/python bench/overhead.py --full     # adds 100k programs
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from evolve.config import DatabaseConfig
from evolve.database import codec
from evolve.database.ledger import Attempt, Outcome
from evolve.database.models import evaluations_table, programs_table
from evolve.database.records import LLMCallRecord, ProgramRecord, new_id
from evolve.database.store import Store
from evolve.search.population import Population

WORDS = ["load", "gpu", "expert", "slot", "rank", "cost", "node", "queue", "chunk", "route"]


def code_pool(rng: random.Random, size: int = 256) -> list[str]:
    """Program texts of realistic length (1-6 kB) and varied vocabulary."""
    pool = []
    for _ in range(size):
        lines = [
            f"    {rng.choice(WORDS)}_{rng.randrange(99)} = "
            f"{rng.choice(WORDS)}_{rng.randrange(99)} * {rng.randrange(1000)}"
            for _ in range(rng.randrange(30, 180))
        ]
        pool.append("def place(load, gpus):\n" + "\n".join(lines) + "\n    return load\n")
    return pool


def make_record(
    run_id: str, rng: random.Random, pool: list[str], island: int, index: int, parent: str | None
) -> ProgramRecord:
    valid = rng.random() > 0.2
    return ProgramRecord(
        id=new_id(),
        run_id=run_id,
        code=f"{rng.choice(pool)}# variant {index}\n",
        parent_id=parent,
        island=island,
        iteration=index,
        valid=valid,
        score=rng.random() if valid else None,
        metrics={"latency_ms": rng.random() * 10, "imbalance": rng.random()},
        instances={f"w{i}": rng.random() for i in range(4)},
        artifacts={"feedback": "balanced within 3% on w0; w2 overloaded"},
        reason="" if valid else "timeout after 60 s",
        origin="llm",
        model="bench-model",
        changed_lines=rng.randrange(1, 40),
        eval_s=1.0,
    )


def populate(store: Store, db: Population, run_id: str, count: int, rng: random.Random,
             pool: list[str]) -> None:  # fmt: skip
    """Fill both sides with ``count`` programs (bulk insert: this part is not measured)."""
    programs = []
    for index in range(count):
        program = make_record(run_id, rng, pool, index % db.cfg.num_islands, index, None)
        db.add(program)
        programs.append(program)
    with store.engine.begin() as conn:
        for start in range(0, count, 5000):
            chunk = programs[start : start + 5000]
            conn.execute(programs_table.insert(), [codec.program_row(p) for p in chunk])
            conn.execute(evaluations_table.insert(), [codec.evaluation_row(p) for p in chunk])
    raw = store.engine.raw_connection()  # fold the bulk load into the main file first
    try:
        raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        raw.close()


def measure(population: int, iterations: int, workdir: Path) -> tuple[float, float, float, float]:
    rng = random.Random(population)
    pool = code_pool(rng)
    workdir.mkdir(parents=True, exist_ok=True)
    store = Store(workdir / f"overhead-{population}.db")
    run_id = store.create_run("bench", "overhead", {}, seed=0)
    db = Population(DatabaseConfig(), seed=0)
    started = time.perf_counter()
    populate(store, db, run_id, population, rng, pool)
    populate_s = time.perf_counter() - started
    memory_ms, store_ms = [], []
    for index in range(population, population + iterations):
        t0 = time.perf_counter()
        island = db.next_island()
        parent, _inspirations, _failures = db.sample(island)
        child = make_record(run_id, rng, pool, island, index, parent.id)
        db.add(child)
        copies = db.migrate(new_id) if db.should_migrate() else []
        t1 = time.perf_counter()
        call = LLMCallRecord(run_id=run_id, model="bench-model", prompt_tokens=3000,
                             completion_tokens=600, cost_usd=0.01, latency_s=2.0)  # fmt: skip
        store.commit(Attempt(run_id, index, Outcome.EVALUATED, [child], [call]))
        if copies:
            store.commit(Attempt(run_id, index, Outcome.COPIED, copies))
        t2 = time.perf_counter()
        memory_ms.append((t1 - t0) * 1000)
        store_ms.append((t2 - t1) * 1000)
    started = time.perf_counter()
    Population(DatabaseConfig(), seed=0).rebuild(store.programs(run_id))  # what resume does
    rebuild_s = time.perf_counter() - started
    store.close()
    return statistics.fmean(memory_ms), statistics.fmean(store_ms), populate_s, rebuild_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="also measure 100k stored programs")
    parser.add_argument("--iterations", type=int, default=400, help="timed iterations per size")
    args = parser.parse_args()
    sizes = [100, 1_000, 10_000] + ([100_000] if args.full else [])
    print(f"{'stored':>8} {'in-memory ms/it':>16} {'x vs 100':>9} {'store ms/it':>12} "
          f"{'x vs 100':>9} {'populate s':>11} {'resume rebuild s':>17}")  # fmt: skip
    base: tuple[float, float] | None = None
    with tempfile.TemporaryDirectory(prefix="evolve-overhead-") as tmp:
        measure(100, 100, Path(tmp) / "warmup")  # imports, statement caches, page cache
        for size in sizes:
            memory, store, populate_s, rebuild_s = measure(size, args.iterations, Path(tmp))
            base = base or (memory, store)
            print(f"{size:>8} {memory:>16.3f} {memory / base[0]:>9.2f} {store:>12.3f} "
                  f"{store / base[1]:>9.2f} {populate_s:>11.1f} {rebuild_s:>17.2f}",
                  flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
