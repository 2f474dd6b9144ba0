"""The ledger: one Attempt per iteration decides every counter (evolve/database/ledger.py),
and runs stored with an older configuration schema keep working."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import update
from support_database import make_call, make_program
from support_search import vector_problem

from evolve.config import config_from_stored, load_config, to_dict
from evolve.controller import Controller
from evolve.database.ledger import RULES, Attempt, Outcome
from evolve.database.models import runs_table
from evolve.problem import load_problem
from evolve.runs import create_run, open_run


def test_every_outcome_has_a_counting_rule() -> None:
    assert set(RULES) == set(Outcome)


@pytest.mark.parametrize(
    ("outcome", "program", "expected"),
    [
        (Outcome.EVALUATED, True, {"iterations": 1, "evaluations": 1, "valid": 1}),
        (Outcome.REJECTED, True, {"iterations": 1, "invalid": 1}),
        (Outcome.EDIT_FAILED, False, {"iterations": 1}),
        (Outcome.DISCARDED, False, {"iterations": 1}),
        (Outcome.LLM_FAILED, False, {"iterations": 1}),
        (Outcome.STOPPED, False, {"iterations": 1}),
        (Outcome.SEEDED, True, {"evaluations": 1, "valid": 1}),
        (Outcome.COPIED, True, {}),
        (Outcome.SIDE_CALL, False, {}),
        (Outcome.TUNED, True, {"evaluations": 1, "valid": 1}),
    ],
)
def test_what_each_outcome_counts(
    outcome: Outcome, program: bool, expected: dict[str, float]
) -> None:
    calls = [make_call("r", tokens=10, cost=0.5), make_call("r", tokens=4, cost=0.25)]
    programs = [make_program("r", valid=outcome is not Outcome.REJECTED)] if program else []
    attempt = Attempt("r", 1, outcome, programs, calls)
    usage = {"llm_calls": 2, "prompt_tokens": 14, "completion_tokens": 7, "usd": 0.75}
    assert attempt.counters() == {**expected, **usage}
    assert Attempt("r", 1, outcome, programs).counters() == expected  # no calls, no usage


def test_an_invalid_evaluated_child_counts_invalid() -> None:
    attempt = Attempt("r", 1, Outcome.EVALUATED, [make_program("r", valid=False, score=None)])
    assert attempt.counters() == {"iterations": 1, "evaluations": 1, "invalid": 1}


def test_a_stored_run_with_the_old_ratio_keys_resumes(tmp_path: Path) -> None:
    folder = vector_problem(tmp_path)
    fast = ["evaluation.workers=1", "llm.concurrency=1", "database.num_islands=1"]
    problem = load_problem(folder, overrides=[*fast, "budget.iterations=2"])
    run = create_run(problem, tmp_path / "runs", "old")
    asyncio.run(Controller(problem, run.store, run.run_id, run.run_dir).run())
    # Rewrite the stored config the way an earlier version stored it.
    old = to_dict(problem.config)
    del old["database"]["parent_selection"]
    old["database"].update(
        exploration_ratio=0.0, exploitation_ratio=0.0, elite_ratio=0.5, pareto_ratio=0.5
    )
    with run.store.engine.begin() as conn:
        conn.execute(update(runs_table).where(runs_table.c.id == run.run_id).values(config=old))
    run.close()
    reopened = open_run(run.run_dir)
    selection = reopened.problem.config.database.parent_selection
    assert [(s.name, s.weight) for s in selection] == [("elite", 0.5), ("pareto", 0.5)]
    asyncio.run(
        Controller(reopened.problem, reopened.store, reopened.run_id, reopened.run_dir).run(
            extra_iterations=2
        )
    )
    assert reopened.store.counters(reopened.run_id).iterations == 4


def test_stored_configs_in_todays_schema_are_read_as_they_are() -> None:
    cfg = load_config(None, overrides=["database.parent_selection=[{name: pareto, weight: 2}]"])
    again = config_from_stored(to_dict(cfg))
    assert again == cfg
