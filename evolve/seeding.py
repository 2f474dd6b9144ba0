"""Seeding a run: evaluate the baselines, give every island a valid program to start from."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from evolve.database.ledger import Attempt, Outcome
from evolve.database.records import ProgramRecord, new_id
from evolve.errors import UserError
from evolve.evaluation.types import EvaluationResult
from evolve.problem import Problem
from evolve.programs import evaluated_program

# (program id, code, seed, files: a folder program's files or {})
Evaluate = Callable[[str, str, int, dict[str, str]], Awaitable[EvaluationResult]]
Commit = Callable[[Attempt], None]


async def seed_islands(
    problem: Problem,
    run_id: str,
    islands: list[int],
    stored: list[ProgramRecord],
    evaluate: Evaluate,
    commit: Commit,
) -> None:
    """Evaluate the initial programs; several baselines seed different islands.

    A run killed while seeding kept what it committed: baselines already ``stored`` are
    not evaluated again and only islands still without a valid program get a copy.
    """
    done = {p.code: p for p in stored if p.origin == "initial" and p.parent_id is None}
    evaluated: list[ProgramRecord] = []
    for index, (name, code) in enumerate(problem.initial_programs):
        files = problem.folders.get(name, {})
        if code in done:
            evaluated.append(done[code])
            continue
        program_id = new_id()
        result = await evaluate(program_id, code, index, files)
        island = islands[index % len(islands)]
        record = evaluated_program(
            run_id, program_id, code, result, island=island, origin="initial", files=files
        )
        commit(Attempt(run_id, 0, Outcome.SEEDED, programs=[record]))
        evaluated.append(record)
    if not any(p.valid for p in evaluated):
        reasons = "; ".join(
            f"{n}: {p.reason}" for (n, _), p in zip(problem.initial_programs, evaluated)
        )
        raise UserError(f"no initial program is valid ({reasons})", str(problem.directory))
    # Islands without a valid baseline start from a copy of the best one (no
    # re-evaluation); an island holding only an invalid one would never sample a valid parent.
    seeded = {p.island for p in [*evaluated, *stored] if p.valid}
    source = max(evaluated, key=lambda p: (p.valid, p.score or 0.0))
    for island in islands:
        if island not in seeded:
            copy = ProgramRecord(
                **{
                    **source.__dict__,
                    "id": new_id(),
                    "island": island,
                    "parent_id": source.id,
                    "origin": "initial",
                    "created_at": time.time(),
                }
            )
            commit(Attempt(run_id, 0, Outcome.COPIED, programs=[copy]))
