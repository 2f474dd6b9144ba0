"""Run a candidate beside a trusted harness module in the sandbox.

The harness is the sandbox program; the candidate goes next to it as
``candidate_program.py``, with ``harness_support.py`` (``evaluators/in_sandbox.py``: the
sandbox's file view hides the project tree, so a harness imports nothing from it) and
any files the evaluator adds (e.g. modules a published candidate imports). The harness
seeds the random generators before the candidate runs, calls it and reduces its answer
to plain data; everything it returns is still checked on the
trusted side, since the candidate shares its process.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from evaluators import in_sandbox
from evolve.evaluation.sandbox import CandidateCall, SandboxLimits, SandboxResult
from evolve.evaluation.types import EvaluationContext

CANDIDATE_FILE = in_sandbox.CANDIDATE_FILE
SUPPORT_FILE = "harness_support.py"
SUPPORT_SOURCE = Path(in_sandbox.__file__).read_bytes()
INFRASTRUCTURE_FAULTS = ("sandbox error:", "sandbox setup failed:", "the sandbox process")


class CandidateFault(Exception):
    """The candidate is invalid; the message is the one-line reason."""

    def __init__(self, reason: str, **artifacts: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.artifacts = artifacts


def run_harnessed(
    context: EvaluationContext,
    harness: Path,
    candidate_path: Path,
    calls: Sequence[CandidateCall],
    limits: SandboxLimits,
    files: dict[str, bytes] | None = None,
    what: str = "",
) -> SandboxResult:
    """One sandbox child: ``harness`` runs ``calls``; raises CandidateFault on any failure."""
    shipped = {
        **(files or {}),
        SUPPORT_FILE: SUPPORT_SOURCE,
        CANDIDATE_FILE: Path(candidate_path).read_bytes(),
    }
    result = context.sandbox.run(harness, list(calls), limits, files=shipped)
    if result.status == "crashed" and result.reason.startswith(INFRASTRUCTURE_FAULTS):
        result = context.sandbox.run(harness, list(calls), limits, files=shipped)
    prefix = f"{what}: " if what else ""
    stderr = result.stderr[-2000:]
    if not result.ok:
        raise CandidateFault(f"{prefix}candidate {result.status}: {result.reason}", stderr=stderr)
    for outcome in result.calls:
        if not outcome.ok:
            first = outcome.error.splitlines()[0] if outcome.error else "error"
            raise CandidateFault(f"{prefix}{first}", error=outcome.error, stderr=stderr)
    return result
