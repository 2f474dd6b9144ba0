"""Conformance kit for evaluators (call it from your own tests).

    from evolve.testing.evaluator_kit import check_evaluator

    def test_my_evaluator_conforms(tmp_path):
        check_evaluator("mypkg.evaluator:MyEvaluator", problem_dir, good, bad,
                        args={"workloads": "data/w.json"})

It runs the evaluator the way the executor does (trusted evaluator in this process,
candidate through a real :class:`Sandbox`) and asserts the contract every evaluator
must keep. Each failed check raises ``AssertionError`` saying which rule broke.
"""

from __future__ import annotations

import builtins
import math
import sys
import tempfile
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evolve.evaluation.registry import create_evaluator
from evolve.evaluation.runner import run_evaluation
from evolve.evaluation.sandbox import Sandbox
from evolve.evaluation.types import EvaluationContext, EvaluationResult, Evaluator


@dataclass
class EvaluatorConformance:
    """``factory``: a registry name, ``"module:attr"``, or a callable taking
    ``problem_dir=`` plus ``args``."""

    factory: str | Callable[..., Evaluator]
    problem_dir: Path
    good_candidate: Path
    bad_candidate: Path
    args: dict[str, Any] = field(default_factory=dict)
    timeout_s: float = 30.0
    preload: Sequence[str] = ("numpy",)
    seed: int = 0

    def build(self) -> Evaluator:
        if callable(self.factory):
            return self.factory(problem_dir=Path(self.problem_dir), **self.args)
        return create_evaluator(self.factory, Path(self.problem_dir), dict(self.args))

    def evaluate(self, candidate: Path) -> EvaluationResult:
        with Sandbox(preload=tuple(self.preload)) as sandbox:
            context = EvaluationContext(problem_dir=Path(self.problem_dir), sandbox=sandbox,
                                        timeout_s=self.timeout_s, seed=self.seed)
            try:
                return run_evaluation(self.build(), Path(candidate), context)
            except Exception as exc:
                raise AssertionError(f"evaluation raised instead of returning a result: "
                                     f"{type(exc).__name__}: {exc}") from exc

    def check_result_shape(self, result: EvaluationResult, what: str) -> None:
        assert isinstance(result, EvaluationResult), f"{what}: not an EvaluationResult"
        assert math.isfinite(result.score), f"{what}: score {result.score!r} is not finite"
        for name, table in (("metrics", result.metrics), ("instances", result.instances),
                            ("holdout", result.holdout)):
            for key, value in table.items():
                assert isinstance(key, str), f"{what}: {name} key {key!r} is not a str"
                assert isinstance(value, (int, float)) and not isinstance(value, bool), \
                    f"{what}: {name}[{key!r}] is {type(value).__name__}, not a number"
        for key, text in result.artifacts.items():
            assert isinstance(key, str) and isinstance(text, str), \
                f"{what}: artifacts[{key!r}] must map str to str"
        assert EvaluationResult.from_dict(result.to_dict()) == result, \
            f"{what}: result does not round-trip through to_dict/from_dict"
        if not result.valid:
            assert result.reason.strip(), f"{what}: invalid result without a reason"
        assert not result.reason.startswith("evaluator error:"), \
            f"{what}: the evaluator raised: {result.reason}"

    def check_good(self) -> EvaluationResult:
        result = self.evaluate(self.good_candidate)
        self.check_result_shape(result, "good candidate")
        assert result.valid, f"good candidate judged invalid: {result.reason}"
        return result

    def check_bad(self) -> EvaluationResult:
        result = self.evaluate(self.bad_candidate)
        self.check_result_shape(result, "bad candidate")
        assert not result.valid, "bad candidate judged valid"
        return result

    def check_crash(self) -> EvaluationResult:
        """A candidate that kills its own process at import must give an invalid result."""
        code = "import os\nos._exit(13)\n"
        result = self._evaluate_source(self.good_candidate.read_text() + "\n" + code)
        self.check_result_shape(result, "crashing candidate")
        assert not result.valid, "a candidate that crashes at import was judged valid"
        return result

    def check_not_imported_in_process(self) -> EvaluationResult:
        """The candidate must never be imported or exec'd in the evaluator's process."""
        marker = f"_evolve_kit_{uuid.uuid4().hex}"
        code = f"import builtins\nsetattr(builtins, {marker!r}, True)\n"
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / self.good_candidate.name
            path.write_text(code + self.good_candidate.read_text())
            result = self.evaluate(path)
            leaked = [name for name, module in list(sys.modules.items())
                      if getattr(module, "__file__", None) == str(path)]
        assert not hasattr(builtins, marker), \
            "the candidate ran inside the evaluator process (builtins were modified)"
        assert not leaked, f"the candidate was imported in-process as {leaked}"
        return result

    def _evaluate_source(self, source: str) -> EvaluationResult:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / self.good_candidate.name
            path.write_text(source)
            return self.evaluate(path)

    def check_all(self) -> None:
        self.check_good()
        self.check_bad()
        self.check_crash()
        self.check_not_imported_in_process()


def check_evaluator(factory: str | Callable[..., Evaluator], problem_dir: Path,
                    good_candidate: Path, bad_candidate: Path,
                    args: dict[str, Any] | None = None, **options: Any) -> None:
    """Run every conformance check; raises ``AssertionError`` on the first broken rule."""
    EvaluatorConformance(factory, Path(problem_dir), Path(good_candidate),
                         Path(bad_candidate), dict(args or {}), **options).check_all()
