"""The Ray executor on a local Ray cluster started here (skipped without Ray)."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from evolve.config import EvaluationConfig
from evolve.evaluation.executor import EvaluationJob, create_executor

ray = pytest.importorskip("ray")

from evolve.evaluation.ray_executor import RayExecutor

TESTS = Path(__file__).resolve().parent
SORTS = "def solve(xs):\n    return sorted(xs)\n"
HALF = "def solve(xs):\n    return sorted(xs)[:10] + xs[10:]\n"
SPINS = "def solve(xs):\n    while True:\n        pass\n"


@pytest.fixture(scope="module")
def cluster() -> Iterator[None]:
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    path = os.pathsep.join([str(TESTS), str(TESTS.parent), os.environ.get("PYTHONPATH", "")])
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR",
             runtime_env={"env_vars": {"PYTHONPATH": path, "RAY_USAGE_STATS_ENABLED": "0"}})
    try:
        yield
    finally:
        ray.shutdown()


def job(tmp_path: Path, code: str, evaluator: str = "support_evaluation:ToyEvaluator",
        timeout_s: float = 10.0, **args: object) -> EvaluationJob:
    return EvaluationJob(program_id="p", code=code, problem_dir=tmp_path, evaluator=evaluator,
                         evaluator_args=dict(args), timeout_s=timeout_s, seed=1, preload=["numpy"])


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def test_registered_executor_scores_candidates_in_the_sandbox(cluster: None, tmp_path: Path) -> None:
    executor = create_executor(EvaluationConfig(executor="ray", workers=2, cpus_per_eval=1.0))
    assert isinstance(executor, RayExecutor)

    async def both():  # type: ignore[no-untyped-def]
        return await asyncio.gather(executor.evaluate(job(tmp_path, SORTS)),
                                    executor.evaluate(job(tmp_path, HALF)),
                                    executor.evaluate(job(tmp_path, "def solve(xs):\n    raise ValueError('no')\n")))
    try:
        good, half, bad = run(both())
    finally:
        executor.shutdown()
    assert ray.is_initialized()  # the executor did not own the test's cluster
    assert good.valid and good.score == 1.0
    assert half.valid and 0.0 < half.score < 1.0
    assert not bad.valid and "solve raised: ValueError" in bad.reason


def test_sandbox_timeout_stops_a_spinning_candidate_and_the_worker_stays_usable(
        cluster: None, tmp_path: Path) -> None:
    executor = RayExecutor(max_in_flight=1)
    try:
        spun = run(executor.evaluate(job(tmp_path, SPINS, timeout_s=1.0)))
        after = run(executor.evaluate(job(tmp_path, SORTS)))
    finally:
        executor.shutdown()
    assert not spun.valid and spun.reason.startswith("timeout")
    assert after.valid and after.score == 1.0


def test_a_hanging_evaluator_is_force_cancelled_at_the_hard_limit(cluster: None, tmp_path: Path) -> None:
    executor = RayExecutor(max_in_flight=1, grace_s=1.0)
    try:
        # Warm a worker first (evaluator module imported): on a loaded machine a cold one
        # may spend the whole limit on imports before the evaluator records its pid.
        warm = run(executor.evaluate(job(tmp_path, SORTS, "support_evaluation:CrashingEvaluator", crashes=0)))
        assert warm.valid
        result = run(executor.evaluate(job(tmp_path, SORTS, "support_evaluation:HangingEvaluator", timeout_s=2.0)))
    finally:
        executor.shutdown()
    assert not result.valid and "exceeded its time limit (7 s)" in result.reason
    assert (tmp_path / "hang.pid").exists(), "the evaluator never started within the hard limit"
    pid = int((tmp_path / "hang.pid").read_text())
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
        time.sleep(0.2)
    assert not Path(f"/proc/{pid}").exists(), "the hung Ray worker process is still running"


def test_a_worker_dying_once_is_retried(cluster: None, tmp_path: Path) -> None:
    executor = RayExecutor(max_in_flight=1)
    try:
        result = run(executor.evaluate(job(tmp_path, SORTS, "support_evaluation:CrashingEvaluator", crashes=1)))
    finally:
        executor.shutdown()
    attempts = (tmp_path / "attempts.log").read_text().split()
    assert len(attempts) == 2 and attempts[0] != attempts[1]  # a second worker process
    assert result.valid and result.score == 2.0


def test_a_worker_dying_every_time_is_recorded_invalid(cluster: None, tmp_path: Path) -> None:
    executor = RayExecutor(max_in_flight=1)
    try:
        result = run(executor.evaluate(job(tmp_path, SORTS, "support_evaluation:CrashingEvaluator", crashes=5)))
    finally:
        executor.shutdown()
    assert not result.valid and "evaluation worker died (tried 2 times)" in result.reason
    assert len((tmp_path / "attempts.log").read_text().split()) == 2


def test_an_unsatisfiable_gpu_request_ends_at_the_start_timeout(cluster: None, tmp_path: Path) -> None:
    """The test cluster has no GPUs: the task never starts, and the run does not hang."""
    executor = RayExecutor(max_in_flight=1, gpus_per_eval=1.0, start_timeout_s=2.5)
    try:
        result = run(executor.evaluate(job(tmp_path, SORTS, timeout_s=0.5)))
    finally:
        executor.shutdown()
    assert not result.valid
    assert result.reason == ("evaluation did not start within 2.5 s: no worker with 1 CPU(s) "
                             "and 1 GPU(s) came free (evaluation.cpus_per_eval / gpus_per_eval)")


def hold_cpus(seconds: float) -> None:
    time.sleep(seconds)


def test_time_queued_for_a_busy_cluster_does_not_count_against_the_limit(
        cluster: None, tmp_path: Path) -> None:
    """Both of the cluster's CPUs are held by a long task while an evaluation is queued
    for longer than its hard limit; once it starts, it has its full time and passes."""
    executor = RayExecutor(max_in_flight=1, cpus_per_eval=1.0, grace_s=1.0)  # hard limit 4 s
    hog = ray.remote(num_cpus=2)(hold_cpus).remote(6.0)
    try:
        result = run(executor.evaluate(job(tmp_path, SORTS, timeout_s=1.0)))
    finally:
        executor.shutdown()
        ray.cancel(hog, force=True)
    assert result.valid and result.score == 1.0, result.reason
