"""Result and protocol types shared by every evaluator."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from evolve.evaluation.sandbox import Sandbox


# Said wherever a run whose scores came from the candidate's own process is shown; the
# controller records the run as such with one event of this kind.
COMPATIBILITY_NOTE = "compatibility mode: the candidate can forge its score"
COMPATIBILITY_EVENT = "compatibility_mode"


@dataclass
class EvaluationResult:
    """What an evaluator says about one candidate.

    ``score`` is the combined score the search maximises; ``instances`` holds
    per-workload scores (Pareto selection); ``holdout`` is scored apart and never rendered
    into prompts; ``artifacts`` is text feedback for the LLM; ``reason`` explains an
    invalid candidate in one specific line. ``run_notes`` are facts about the evaluation
    set-up rather than the candidate (e.g. that timing is not scored without a GPU); a
    run states each distinct note once, when it first appears, and in its summary.
    ``compatibility_mode`` says the score was computed inside the candidate's process (a
    foreign evaluator run beside it in the sandbox), so the candidate can forge it; runs
    that received such a result say so wherever they are shown.
    """

    valid: bool
    score: float = 0.0
    metrics: dict[str, float] = field(default_factory=dict)
    instances: dict[str, float] = field(default_factory=dict)
    holdout: dict[str, float] = field(default_factory=dict)
    artifacts: dict[str, str] = field(default_factory=dict)
    reason: str = ""
    run_notes: list[str] = field(default_factory=list)
    compatibility_mode: bool = False

    @classmethod
    def invalid(cls, reason: str, **artifacts: str) -> EvaluationResult:
        return cls(valid=False, score=0.0, reason=reason, artifacts=dict(artifacts))

    def __post_init__(self) -> None:
        if self.valid and not math.isfinite(float(self.score)):
            self.valid = False
            self.reason = self.reason or f"non-finite score {self.score!r}"
            self.score = 0.0
        if "\n" in self.reason:  # the reason is one line; details (tracebacks) become feedback
            first, _, rest = self.reason.partition("\n")
            self.artifacts = {**self.artifacts, "error_details": rest.strip()}
            self.reason = first

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvaluationResult:
        return cls(**data)


@dataclass
class EvaluationContext:
    """What the trusted evaluator gets besides the candidate file."""

    problem_dir: Path
    sandbox: Sandbox
    timeout_s: float = 60.0
    seed: int = 0
    workdir: Path | None = None
    # Address space the trusted evaluator may add while scoring one candidate (<= 0: none).
    trusted_memory_mb: int = 8192


@runtime_checkable
class Evaluator(Protocol):
    """Scores a candidate program. Runs on the trusted side; it must execute candidate
    code only through ``context.sandbox``."""

    def evaluate(self, candidate_path: Path, context: EvaluationContext) -> EvaluationResult: ...


@dataclass
class CascadeStage:
    """A cheaper stage run before ``evaluate``; the candidate stops here when the stage
    says invalid or scores below ``min_score``."""

    name: str
    run: Callable[[Path, EvaluationContext], EvaluationResult]
    min_score: float = float("-inf")


@runtime_checkable
class CascadedEvaluator(Evaluator, Protocol):
    """An evaluator with cheaper stages that run first (optional)."""

    def cascade(self) -> Sequence[CascadeStage]: ...


def cascade_of(evaluator: Evaluator) -> Sequence[CascadeStage]:
    """Optional cascade: an evaluator may define ``cascade() -> list[CascadeStage]``."""
    return list(evaluator.cascade()) if isinstance(evaluator, CascadedEvaluator) else []
