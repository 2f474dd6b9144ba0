"""The executor conformance suite (evolve.testing.executor_kit): local and Ray run it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from evolve.config import EvaluationConfig
from evolve.evaluation.executor import Executor, create_executor
from evolve.testing.executor_kit import ExecutorConformance

TESTS = Path(__file__).resolve().parent


class TestLocalExecutor(ExecutorConformance):
    def make_executor(self) -> Executor:
        return create_executor(EvaluationConfig(executor="local", workers=2))


class TestRayExecutor(ExecutorConformance):
    @pytest.fixture(autouse=True, scope="class")
    @classmethod
    def _cluster(cls) -> Iterator[None]:
        ray = pytest.importorskip("ray")
        os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
        path = os.pathsep.join([str(TESTS), str(TESTS.parent), os.environ.get("PYTHONPATH", "")])
        ray.init(
            num_cpus=2,
            include_dashboard=False,
            log_to_driver=False,
            logging_level="ERROR",
            runtime_env={"env_vars": {"PYTHONPATH": path, "RAY_USAGE_STATS_ENABLED": "0"}},
        )
        try:
            yield
        finally:
            ray.shutdown()

    def make_executor(self) -> Executor:
        return create_executor(EvaluationConfig(executor="ray", workers=2))
