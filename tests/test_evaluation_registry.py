"""Evaluator registry, create_evaluator argument checks, and the conformance kit."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from evolve.errors import UserError
from evolve.evaluation.registry import EVALUATORS, create_evaluator
from evolve.testing.evaluator_kit import EvaluatorConformance, check_evaluator
from tests.support_evaluation import ToyEvaluator

HOSTILE = Path(__file__).parent / "hostile"
TOY = "tests.support_evaluation:ToyEvaluator"


def test_builtin_names_are_registered():
    assert {"eplb", "cloud_transfer", "kernelbench", "circle_packing"} <= set(EVALUATORS.names())


def test_module_attr_path_builds_with_problem_dir_and_args(tmp_path):
    evaluator = create_evaluator(TOY, tmp_path, {"size": 5})
    assert isinstance(evaluator, ToyEvaluator)
    assert evaluator.problem_dir == tmp_path and evaluator.size == 5


def test_unknown_argument_names_the_key_and_the_accepted_ones(tmp_path):
    with pytest.raises(UserError) as info:
        create_evaluator(TOY, tmp_path, {"sise": 5})
    assert info.value.where == "evaluator_args.sise"
    assert "unknown argument 'sise'" in info.value.message and "size" in info.value.message


def test_unknown_evaluator_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="unknown evaluator"):
        create_evaluator("no_such_evaluator", tmp_path, {})


def test_toy_evaluator_passes_the_conformance_kit(tmp_path):
    check_evaluator(TOY, tmp_path, HOSTILE / "good.py", HOSTILE / "segfault.py",
                    timeout_s=2)


def test_kit_catches_an_evaluator_that_imports_the_candidate(tmp_path):
    import importlib.util

    class InProcessEvaluator(ToyEvaluator):  # breaks the rule on purpose
        def evaluate(self, candidate_path, context):
            spec = importlib.util.spec_from_file_location("cand", candidate_path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return super().evaluate(candidate_path, context)

    kit = EvaluatorConformance(InProcessEvaluator, tmp_path, HOSTILE / "good.py",
                               HOSTILE / "segfault.py", timeout_s=2)
    with pytest.raises(AssertionError, match="inside the evaluator process"):
        kit.check_not_imported_in_process()


def test_holdout_file_is_scored_on_the_trusted_side_only(tmp_path):
    holdout_dir = tmp_path / "private"
    holdout_dir.mkdir(mode=0o700)
    (holdout_dir / "holdout.txt").write_text("12345")
    os.chmod(holdout_dir / "holdout.txt", 0o600)
    kit = EvaluatorConformance(TOY, tmp_path, HOSTILE / "good.py", HOSTILE / "segfault.py",
                               args={"holdout_dir": str(holdout_dir)}, timeout_s=2)
    assert kit.check_good().holdout == {"secret": 5.0}
