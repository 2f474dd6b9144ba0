"""LocalExecutor and the evaluation runner: dead workers, hard limits, no orphans."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import pytest

from evolve.errors import UserError
from evolve.evaluation.executor import EvaluationJob, LocalExecutor, evaluate_file_once
from evolve.evaluation.runner import run_evaluation
from evolve.evaluation.sandbox import Sandbox
from evolve.evaluation.types import EvaluationContext
from tests.support_evaluation import alive, descendants

HOSTILE = Path(__file__).parent / "hostile"
TOY = "tests.support_evaluation:ToyEvaluator"


def job(fixture: str, problem_dir: Path, evaluator: str = TOY, timeout_s: float = 1.5,
        **args) -> EvaluationJob:
    return EvaluationJob(program_id=fixture, code=(HOSTILE / f"{fixture}.py").read_text(),
                         problem_dir=problem_dir, evaluator=evaluator, evaluator_args=args,
                         timeout_s=timeout_s, seed=0, preload=["numpy"])


def test_concurrent_jobs_and_results(tmp_path):
    executor = LocalExecutor(workers=2)
    try:
        async def main():
            return await asyncio.gather(*(executor.evaluate(job(f, tmp_path))
                                          for f in ("good", "monkeypatch_evaluator", "good")))
        good, bad, again = asyncio.run(main())
        assert good.valid and good.score == 1.0 and again.valid
        assert bad.valid and bad.score < 1.0
        assert good.metrics["eval_s"] > 0
    finally:
        executor.shutdown()


def test_worker_killed_mid_job_is_reported_and_replaced(tmp_path):
    executor = LocalExecutor(workers=1)
    try:
        async def main():
            task = asyncio.create_task(executor.evaluate(job(
                "infinite_loop", tmp_path, "tests.support_evaluation:ProcessInfoEvaluator",
                timeout_s=5)))
            marker = tmp_path / "worker.pid"
            while not marker.exists():
                await asyncio.sleep(0.05)
            os.kill(int(marker.read_text()), signal.SIGKILL)
            return await task
        result = asyncio.run(main())
        assert not result.valid and result.reason == "evaluation worker died (signal SIGKILL)"
        assert asyncio.run(executor.evaluate(job("good", tmp_path))).valid
    finally:
        executor.shutdown()


def test_hung_evaluator_hits_the_hard_limit(tmp_path):
    executor = LocalExecutor(workers=1, grace_s=0.5)
    try:
        result = asyncio.run(executor.evaluate(job(
            "good", tmp_path, "tests.support_evaluation:SleepyEvaluator", timeout_s=0.2)))
        assert not result.valid
        assert result.reason == "evaluation exceeded its time limit (1.1 s)"
        assert asyncio.run(executor.evaluate(job("good", tmp_path))).valid
    finally:
        executor.shutdown()


def test_unknown_evaluator_argument_is_a_user_error(tmp_path):
    executor = LocalExecutor(workers=1)
    try:
        with pytest.raises(UserError) as info:
            asyncio.run(executor.evaluate(job("good", tmp_path, bogus=1)))
        assert info.value.where == "evaluator_args.bogus"
    finally:
        executor.shutdown()


def test_shutdown_leaves_no_processes(tmp_path):
    earlier = descendants(os.getpid())  # e.g. sandboxes other tests' evaluators keep warm
    executor = LocalExecutor(workers=2)
    asyncio.run(executor.evaluate(job("good", tmp_path)))
    started = descendants(os.getpid()) - earlier
    assert len(started) >= 2  # a worker and its sandbox zygote at least
    executor.shutdown()
    deadline = time.monotonic() + 5
    while any(alive(p) for p in started) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [p for p in started if alive(p)] == []
    with pytest.raises(RuntimeError):
        asyncio.run(executor.evaluate(job("good", tmp_path)))


def test_evaluator_exception_becomes_invalid_with_traceback(tmp_path):
    from tests.support_evaluation import BrokenEvaluator

    with Sandbox(preload=()) as sandbox:
        context = EvaluationContext(problem_dir=tmp_path, sandbox=sandbox, timeout_s=1.5)
        result = run_evaluation(BrokenEvaluator(tmp_path), HOSTILE / "good.py", context)
    assert not result.valid
    assert result.reason == "evaluator error: KeyError: 'missing workload'"
    assert "raise KeyError" in result.artifacts["evaluator_traceback"]


def test_cascade_stops_early_and_records_the_stage(tmp_path):
    from tests.support_evaluation import CascadeToyEvaluator

    with Sandbox(preload=("numpy",)) as sandbox:
        context = EvaluationContext(problem_dir=tmp_path, sandbox=sandbox, timeout_s=1.5)
        stopped = run_evaluation(CascadeToyEvaluator(tmp_path), _write(tmp_path, "x = 1\n"),
                                 context)
        passed = run_evaluation(CascadeToyEvaluator(tmp_path), HOSTILE / "good.py", context)
    assert not stopped.valid and stopped.reason == "no solve() defined"
    assert stopped.metrics["cascade_stage"] == 1.0
    assert passed.valid and "cascade_stage" not in passed.metrics


def _write(tmp_path: Path, code: str) -> Path:
    path = tmp_path / "candidate.py"
    path.write_text(code)
    return path


def test_evaluate_file_once(tmp_path):
    result = evaluate_file_once(tmp_path, TOY, {"size": 10}, HOSTILE / "good.py",
                                timeout_s=2, preload=["numpy"], seed=0)
    assert result.valid and result.metrics["correct"] == 10.0
