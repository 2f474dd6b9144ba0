"""Conformance suite for executors: the local one, Ray, and third-party ones run it.

    from evolve.testing.executor_kit import ExecutorConformance

    class TestMyExecutor(ExecutorConformance):
        def make_executor(self):          # a fresh executor for each test
            return MyExecutor(...)

The jobs use :class:`KitEvaluator` (a trusted evaluator shipped here, so every worker
can import it); candidates run in the sandbox as in a real run. A failed check raises
``AssertionError`` saying which rule broke.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

from evolve.errors import UserError
from evolve.evaluation.executor import EvaluationJob, Executor
from evolve.evaluation.sandbox import CandidateCall, SandboxLimits
from evolve.evaluation.types import EvaluationContext, EvaluationResult

EVALUATOR = "evolve.testing.executor_kit:KitEvaluator"
ANSWERS = "def answer(x):\n    return {value} * x\n"


class KitEvaluator:
    """Scores ``answer(2)``: valid when it returns a number (the score is that number)."""

    def __init__(self, problem_dir: Path, fail: bool = False) -> None:
        self.problem_dir = Path(problem_dir)
        if fail:
            raise ValueError("this evaluator was asked to fail when built")

    def evaluate(self, candidate_path: Path, context: EvaluationContext) -> EvaluationResult:
        limits = SandboxLimits(timeout_s=context.timeout_s, memory_mb=512)
        result = context.sandbox.run(candidate_path, [CandidateCall("answer", (2,))], limits)
        if not result.ok:
            return EvaluationResult.invalid(f"{result.status}: {result.reason}")
        outcome = result.calls[0]
        if not outcome.ok:
            return EvaluationResult.invalid(f"answer raised: {outcome.error.splitlines()[-1]}")
        if isinstance(outcome.value, bool) or not isinstance(outcome.value, (int, float)):
            return EvaluationResult.invalid("answer must return a number")
        if outcome.value == 13:
            raise RuntimeError("an evaluator bug (13)")
        return EvaluationResult(valid=True, score=float(outcome.value))


class ExecutorConformance:
    """The rules every executor keeps; the subclass says how to make one."""

    timeout_s = 3.0  # the sandbox limit of each job (a spinning candidate waits this long)

    def make_executor(self) -> Executor:
        raise NotImplementedError("return a fresh executor")

    def job(self, code: str, program_id: str = "kit", **args: Any) -> EvaluationJob:
        return EvaluationJob(
            program_id=program_id,
            code=code,
            problem_dir=Path(tempfile.gettempdir()),
            evaluator=EVALUATOR,
            evaluator_args=dict(args),
            timeout_s=self.timeout_s,
            seed=1,
            preload=[],
        )

    def evaluate(self, *jobs: EvaluationJob) -> list[EvaluationResult]:
        """The jobs at once, from one event loop, on a fresh executor shut down after."""
        executor = self.make_executor()

        async def all_of() -> list[EvaluationResult]:
            return list(await asyncio.gather(*(executor.evaluate(j) for j in jobs)))

        try:
            return asyncio.run(all_of())
        finally:
            executor.shutdown()

    def test_it_is_an_executor(self) -> None:
        executor = self.make_executor()
        try:
            assert isinstance(executor, Executor), "evaluate() and shutdown() are required"
        finally:
            executor.shutdown()

    def test_concurrent_jobs_each_get_their_own_result(self) -> None:
        values = [1, 2, 3, 4, 5]
        results = self.evaluate(*(self.job(ANSWERS.format(value=v), f"p{v}") for v in values))
        assert [r.valid for r in results] == [True] * len(values), [r.reason for r in results]
        assert [r.score for r in results] == [2.0 * v for v in values], (
            "results must come back for the job they belong to"
        )
        assert all("eval_s" in r.metrics for r in results), "the runner records eval_s"

    def test_candidate_faults_are_invalid_results_not_exceptions(self) -> None:
        crash = "import os\nos._exit(3)\n"
        raises = "def answer(x):\n    raise ValueError('no')\n"
        wrong = "def answer(x):\n    return 'two'\n"
        spins = "def answer(x):\n    while True:\n        pass\n"
        results = self.evaluate(self.job(crash), self.job(raises), self.job(wrong), self.job(spins))
        assert not any(r.valid for r in results), "a faulty candidate must be invalid"
        assert all(r.reason for r in results), "an invalid result must say why"
        assert "answer raised" in results[1].reason and "number" in results[2].reason

    def test_an_evaluator_bug_is_an_invalid_result(self) -> None:
        (result,) = self.evaluate(self.job(ANSWERS.format(value=6.5)))  # answer(2) == 13
        assert not result.valid and result.reason.startswith("evaluator error:"), result.reason

    def test_an_evaluator_that_cannot_be_built_is_a_user_error(self) -> None:
        try:
            self.evaluate(self.job(ANSWERS.format(value=1), fail=True))
        except UserError as exc:
            assert "could not be created" in exc.message or "fail" in exc.message, exc.message
        else:
            raise AssertionError("a broken evaluator set-up must stop the run (UserError)")

    def test_after_shutdown_it_refuses_work(self) -> None:
        executor = self.make_executor()
        executor.shutdown()
        try:
            asyncio.run(executor.evaluate(self.job(ANSWERS.format(value=1))))
        except RuntimeError:
            return
        raise AssertionError("evaluate() after shutdown() must raise RuntimeError")
