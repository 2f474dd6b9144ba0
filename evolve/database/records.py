"""Plain records that cross the database seam.

The controller, the report and the sampling indexes exchange these dataclasses; only
``evolve.database.store`` knows how they map onto tables.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field, fields
from typing import Any

ORIGINS = ("initial", "llm", "migration", "tune")


def new_id() -> str:
    """A fresh program/run id (uuid4 as 32 hex characters)."""
    return uuid.uuid4().hex


@dataclass
class ProgramRecord:
    """One candidate program together with its evaluation.

    ``island`` is where the program lives in the search; ``features`` holds the
    MAP-Elites coordinates (raw values, binned by the in-memory database);
    ``origin`` is "initial" (a baseline from the problem), "llm" (a child written by a
    model), "migration" (a copy of another island's elite, ``parent_id`` = source) or
    "tune" (an autotuning trial: the parent's code with other constants, see
    ``metadata["tune"]``).
    """

    id: str
    run_id: str
    code: str
    parent_id: str | None = None
    island: int = 0
    generation: int = 0
    iteration: int = 0
    valid: bool = False
    score: float | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    instances: dict[str, Any] = field(default_factory=dict)
    holdout: dict[str, Any] = field(default_factory=dict)
    artifacts: dict[str, Any] = field(default_factory=dict)
    reason: str = ""
    features: dict[str, float] = field(default_factory=dict)
    origin: str = "llm"
    model: str = ""
    changed_lines: int = 0
    eval_s: float = 0.0
    created_at: float = field(default_factory=time.time)
    # A folder program's files (relative posix path -> text); ``code`` is then their
    # combined text (evolve.codebase.combined_text). Empty for a single-file program.
    files: dict[str, str] = field(default_factory=dict)
    # What produced the program beyond its lineage; a tuning trial: {"tune": {...}}
    # (its study, parameter values and told objective values, see evolve.tuning).
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.origin not in ORIGINS:
            raise ValueError(f"origin must be one of {ORIGINS}, got {self.origin!r}")


@dataclass
class RunRecord:
    id: str
    name: str
    problem: str
    config: dict[str, Any]
    seed: int
    status: str = "running"  # "running" | "finished" | "stopped" | "failed" (free text)
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)


@dataclass
class Transcript:
    """What one call sent and got back, as kept in the store (secrets removed, each text
    capped): the prompt messages, the raw answer (reasoning blocks included) and any
    separate reasoning the server returned."""

    messages: list[dict[str, str]] = field(default_factory=list)
    answer: str = ""
    reasoning: str = ""


@dataclass
class LLMCallRecord:
    """One request to a model, successful or not (failed calls cost time and money too).

    ``outcome`` says what the answer led to (``evolve.database.answers``); ``id`` is
    assigned by the store; ``transcript`` is written with the call when given and read
    back only on request (``Store.transcript``)."""

    run_id: str
    program_id: str | None = None
    iteration: int = 0
    model: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    latency_s: float = 0.0
    ok: bool = True
    error: str = ""
    created_at: float = field(default_factory=time.time)
    outcome: str = ""
    finish_reason: str = ""
    transcript: Transcript | None = None
    id: int | None = None


@dataclass
class RunCounters:
    """Running totals of one run, updated in the same transaction as what they count."""

    iterations: int = 0
    evaluations: int = 0
    valid: int = 0
    invalid: int = 0
    llm_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    usd: float = 0.0


COUNTER_NAMES: tuple[str, ...] = tuple(f.name for f in fields(RunCounters))


@dataclass
class EventRecord:
    """A run-level happening worth showing later (migration, hint released, resume, stop)."""

    run_id: str
    kind: str
    data: dict[str, Any] = field(default_factory=dict)
    created_at: float = field(default_factory=time.time)
    id: int | None = None  # assigned by the store
