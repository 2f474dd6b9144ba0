"""What a run reports while it runs and when it ends (read by live displays and the CLI)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from evolve.database.records import ProgramRecord, RunCounters


class RunStatus(StrEnum):
    """A run's stored status."""

    RUNNING = "running"
    FINISHED = "finished"  # a budget ran out (or nothing was left to do)
    STOPPED = "stopped"  # stopped on request (Ctrl-C); ``evolve resume`` continues it
    FAILED = "failed"  # ended by an error (e.g. no valid initial program, LLM unusable)


@dataclass
class Progress:
    """A snapshot for live displays."""

    iterations: int
    iteration_budget: int | None
    evaluations: int
    valid: int
    best_score: float | None
    usd: float
    elapsed_s: float
    evals_per_s: float
    message: str = ""


class ProgressSink(Protocol):
    def update(self, progress: Progress) -> None: ...


@dataclass
class RunSummary:
    run_id: str
    run_dir: Path
    best: ProgramRecord | None
    initial_best: float | None
    counters: RunCounters
    stop_reason: str
    status: RunStatus = RunStatus.FINISHED
    notes: list[str] = field(default_factory=list)  # evaluators' run notes, each once
    # Answers that produced no candidate, by reason ("edit failed: no_match": 3, ...), and
    # candidates read forgivingly, by reading (evolve.database.answers).
    failures: dict[str, int] = field(default_factory=dict)
    lenient: dict[str, int] = field(default_factory=dict)
    # Scores came from a foreign evaluator in the candidate's process (compatibility mode).
    compatibility_mode: bool = False
