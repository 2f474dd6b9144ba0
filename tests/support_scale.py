"""Helpers for the scale-out tests (schema upgrades, shared runs, Ray)."""

from __future__ import annotations

from sqlalchemy import create_engine, text

from evolve.database.engine import normalize_url


def fresh_postgres_database(server_url: str, name: str) -> str:
    """A new empty database ``name`` on the test server (dropped first if it exists)."""
    engine = create_engine(normalize_url(server_url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    return server_url.rsplit("/", 1)[0] + "/" + name


# ---------------------------------------------------------------- evaluators for the Ray tests
# Trusted-side faults the executor must survive; each leaves traces in its problem_dir.

import os
import time
from pathlib import Path

from evolve.evaluation.types import EvaluationContext, EvaluationResult


class CrashingEvaluator:
    """Kills its own worker process mid-evaluation, ``crashes`` times in all."""

    def __init__(self, problem_dir: Path, crashes: int = 1) -> None:
        self.problem_dir = Path(problem_dir)
        self.crashes = crashes

    def evaluate(self, candidate_path: Path, context: EvaluationContext) -> EvaluationResult:
        log = self.problem_dir / "attempts.log"
        with open(log, "a") as fh:
            fh.write(f"{os.getpid()}\n")
        if len(log.read_text().split()) <= self.crashes:
            os._exit(17)
        return EvaluationResult(valid=True, score=2.0)


class HangingEvaluator:
    """Records its pid, then hangs in trusted code (ignoring the sandbox's timeouts)."""

    def __init__(self, problem_dir: Path) -> None:
        self.problem_dir = Path(problem_dir)

    def evaluate(self, candidate_path: Path, context: EvaluationContext) -> EvaluationResult:
        (self.problem_dir / "hang.pid").write_text(str(os.getpid()))
        time.sleep(3600)
        return EvaluationResult(valid=True, score=1.0)
