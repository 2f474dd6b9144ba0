"""Small builders shared by the database/store/sampling tests."""

from __future__ import annotations

import random

from evolve.config import DatabaseConfig, SelectorSpec
from evolve.database.ledger import Attempt, Outcome
from evolve.database.records import LLMCallRecord, ProgramRecord
from evolve.testing.store_writers import call, program

WORDS = ["alpha", "beta", "gamma", "delta", "eps", "zeta", "eta", "theta", "iota", "kappa"]


def make_program(run_id: str = "run", **fields: object) -> ProgramRecord:
    return program(run_id, **fields)


make_call = call


def random_code(rng: random.Random) -> str:
    """Code of varying length and vocabulary, so complexity and diversity vary."""
    lines = [
        f"    {rng.choice(WORDS)}_{rng.randrange(50)} = {rng.choice(WORDS)} + {rng.randrange(1000)}"
        for _ in range(rng.randrange(1, 40))
    ]
    return "def f(alpha, beta, gamma):\n" + "\n".join(lines) + "\n    return alpha\n"


def db_config(**overrides: object) -> DatabaseConfig:
    cfg = DatabaseConfig()
    for key, value in overrides.items():
        setattr(cfg, key, value)
    return cfg


def ledger_entry(program: ProgramRecord, calls: list[LLMCallRecord] | None = None) -> Attempt:
    """The ledger entry the loop would commit for ``program`` (by its origin)."""
    outcome = {"initial": Outcome.SEEDED, "llm": Outcome.EVALUATED,
               "migration": Outcome.COPIED}[program.origin]  # fmt: skip
    return Attempt(program.run_id, program.iteration, outcome, programs=[program],
                   calls=list(calls or []))  # fmt: skip


def selection(**weights: float) -> list[SelectorSpec]:
    """``database.parent_selection`` from selector weights, e.g. ``selection(explore=1)``."""
    return [SelectorSpec(name, weight) for name, weight in weights.items()]
