"""Helpers for the evaluation tests: a toy evaluator and a trusted converter."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from evolve.evaluation.sandbox import CandidateCall, SandboxLimits
from evolve.evaluation.types import CascadeStage, EvaluationContext, EvaluationResult


def paths_of(obj: Any) -> dict[str, Any]:
    """Trusted converter: a candidate's result object -> plain dict of its paths."""
    return {"paths": [list(p) for p in obj.paths]}


class ToyEvaluator:
    """Scores ``solve(xs) -> list`` by how many of ``xs`` it sorts correctly.

    Its holdout file lives in ``holdout_dir`` (mode 0600), which the candidate is never
    told about; ``score_offset`` proves monkeypatching in the candidate has no effect.
    """

    def __init__(self, problem_dir: Path, holdout_dir: str = "", size: int = 20,
                 memory_mb: int = 1024, preload: tuple[str, ...] = ("numpy",)) -> None:
        self.problem_dir = Path(problem_dir)
        self.size = size
        self.memory_mb = memory_mb
        self.holdout_path = Path(holdout_dir) / "holdout.txt" if holdout_dir else None
        self.score_offset = 0.0

    def evaluate(self, candidate_path: Path, context: EvaluationContext) -> EvaluationResult:
        xs = [(i * 7919) % self.size for i in range(self.size)]
        limits = SandboxLimits(timeout_s=context.timeout_s, memory_mb=self.memory_mb)
        result = context.sandbox.run(candidate_path, [CandidateCall("solve", (xs,))], limits)
        if not result.ok:
            return EvaluationResult.invalid(f"{result.status}: {result.reason}",
                                            stderr=result.stderr[-2000:])
        outcome = result.calls[0]
        if not outcome.ok:
            return EvaluationResult.invalid(f"solve raised: {outcome.error.splitlines()[0]}")
        got = outcome.value
        if type(got) is not list or len(got) != len(xs):
            return EvaluationResult.invalid("solve must return a list of the same length")
        correct = sum(1 for a, b in zip(got, sorted(xs)) if type(a) is int and a == b)
        holdout = {}
        if self.holdout_path is not None:
            holdout["secret"] = float(len(self.holdout_path.read_text()))
        return EvaluationResult(valid=True, score=correct / len(xs) + self.score_offset,
                                metrics={"correct": float(correct)}, holdout=holdout,
                                artifacts={"stdout": result.stdout[-500:]})


class CascadeToyEvaluator(ToyEvaluator):
    """Adds a cheap first stage that rejects candidates whose source lacks ``solve``."""

    def cascade(self) -> list[CascadeStage]:
        def has_solve(path: Path, context: EvaluationContext) -> EvaluationResult:
            ok = "def solve" in path.read_text()
            return EvaluationResult(valid=ok, score=1.0 if ok else 0.0,
                                    reason="" if ok else "no solve() defined")
        return [CascadeStage("syntax", has_solve, min_score=0.5)]


class BrokenEvaluator:
    """An evaluator with a bug: raises on every call."""

    def __init__(self, problem_dir: Path) -> None:
        self.problem_dir = problem_dir

    def evaluate(self, candidate_path: Path, context: EvaluationContext) -> EvaluationResult:
        raise KeyError("missing workload")


class ProcessInfoEvaluator(ToyEvaluator):
    """Reports the evaluator's own pid so tests can kill the worker mid-job."""

    def evaluate(self, candidate_path: Path, context: EvaluationContext) -> EvaluationResult:
        marker = self.problem_dir / "worker.pid"
        marker.write_text(str(os.getpid()))
        return super().evaluate(candidate_path, context)


class SleepyEvaluator:
    """A trusted evaluator that hangs (a bug the executor's hard limit must catch)."""

    def __init__(self, problem_dir: Path) -> None:
        self.problem_dir = problem_dir

    def evaluate(self, candidate_path: Path, context: EvaluationContext) -> EvaluationResult:
        import time

        time.sleep(3600)
        return EvaluationResult(valid=True, score=1.0)


def descendants(pid: int) -> set[int]:
    """All live descendants of ``pid`` (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z":
                children.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


# ---------------------------------------------------------------- evaluators for the Ray tests
# Trusted-side faults the executor must survive; each leaves traces in its problem_dir.


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
