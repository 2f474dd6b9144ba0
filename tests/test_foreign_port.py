"""The ported example (problems/ported/function_minimum): the OpenEvolve form and its native
port agree on honest programs; only the native one holds against a forging candidate."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support_foreign import REPO

from evolve.evaluation.registry import create_evaluator
from evolve.evaluation.runner import run_evaluation
from evolve.evaluation.sandbox import Sandbox
from evolve.evaluation.types import EvaluationContext, EvaluationResult
from evolve.problem import Problem, load_problem

EXAMPLE = REPO / "problems" / "ported" / "function_minimum"
FORGE = ('\nimport sys\n_evaluator = sys.modules.get("evaluation_module")\n'
         "if _evaluator is not None:  # the OpenEvolve evaluator shares this process\n"
         "    _evaluator.f = lambda x, y: -1.0\n")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as box:
        yield box


def evaluate(problem: Problem, code: str, sandbox: Sandbox, tmp_path: Path) -> EvaluationResult:
    path = tmp_path / "candidate.py"
    path.write_text(code)
    cfg = problem.config
    evaluator = create_evaluator(cfg.evaluator, problem.directory, dict(cfg.evaluator_args))
    context = EvaluationContext(problem_dir=problem.directory, sandbox=sandbox,
                                timeout_s=cfg.constraints.timeout_s)
    return run_evaluation(evaluator, path, context)


def test_both_forms_describe_the_same_problem() -> None:
    foreign, native = load_problem(EXAMPLE / "openevolve"), load_problem(EXAMPLE / "native")
    assert foreign.layout == "openevolve" and native.layout == ""
    assert foreign.initial_programs == native.initial_programs
    assert " ".join(foreign.description.split()) == " ".join(native.description.split())
    for key in ("budget", "prompt", "constraints"):
        assert getattr(foreign.config, key) == getattr(native.config, key), key
    assert foreign.config.database.num_islands == native.config.database.num_islands


def test_honest_programs_score_the_same_forged_ones_do_not(sandbox: Sandbox,
                                                           tmp_path: Path) -> None:
    foreign, native = load_problem(EXAMPLE / "openevolve"), load_problem(EXAMPLE / "native")
    code = foreign.initial_programs[0][1]
    honest = [evaluate(p, code, sandbox, tmp_path) for p in (foreign, native)]
    assert all(r.valid for r in honest)
    assert honest[0].score == honest[1].score < 0.99
    assert [r.compatibility_mode for r in honest] == [True, False]
    forged_code = code.replace("# EVOLVE-BLOCK-END", FORGE + "# EVOLVE-BLOCK-END")
    forged = [evaluate(p, forged_code, sandbox, tmp_path) for p in (foreign, native)]
    assert forged[0].valid and forged[0].score == 1.0  # compatibility mode: forged
    assert forged[1].valid and forged[1].score == honest[1].score  # native: what it found
