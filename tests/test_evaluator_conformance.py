"""The evaluator conformance kit (evolve.testing.evaluator_kit) on every shipped evaluator,
each with a shipped problem's baseline as the good candidate and an empty module as the
bad one."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from evolve.evaluation.registry import EVALUATORS
from evolve.problem import load_problem
from evolve.testing.evaluator_kit import check_evaluator

PROBLEMS = Path(__file__).resolve().parent.parent / "problems"
CHEAPEST = {"kernelbench": PROBLEMS / "kernels" / "vector_add"}  # the quickest shipped kernel
# Evaluators of other frameworks' folders (no problem.yaml): the test folders in those formats.
FOREIGN = {"openevolve": PROBLEMS.parent / "tests" / "foreign_folders" / "openevolve_artifacts",
           "shinka": PROBLEMS.parent / "tests" / "foreign_folders" / "shinka_knapsack"}


def shipped_problems() -> dict[str, Path]:
    """Evaluator name -> one shipped problem folder that uses it."""
    found: dict[str, Path] = {}
    for path in sorted(PROBLEMS.rglob("problem.yaml")):
        name = (yaml.safe_load(path.read_text()) or {}).get("evaluator")
        if isinstance(name, str):
            found.setdefault(name, path.parent)
    found.update({k: v for k, v in CHEAPEST.items() if (v / "problem.yaml").is_file()})
    return found


BUILT_IN = sorted(name for name in EVALUATORS.names() if ":" not in name)


@pytest.mark.parametrize("name", BUILT_IN)
def test_every_built_in_evaluator_passes_the_kit(name: str, tmp_path: Path) -> None:
    problem = shipped_problems().get(name) or FOREIGN.get(name)
    assert problem is not None, f"evaluator '{name}' is registered but no shipped problem uses it"
    if name in FOREIGN:  # read in place, as `evolve run FOLDER` reads it
        config = load_problem(problem).config
        data = {"initial_programs": config.initial_programs, "preload": config.preload,
                "evaluator_args": config.evaluator_args}
    else:
        data = yaml.safe_load((problem / "problem.yaml").read_text())
    good = problem / (data.get("initial_programs") or ["initial_program.py"])[0]
    bad = tmp_path / good.name
    bad.write_text("# an empty program: it defines nothing the evaluator calls\n")
    check_evaluator(
        name,
        problem,
        good,
        bad,
        args=data.get("evaluator_args") or {},
        preload=data.get("preload", ["numpy"]),
        timeout_s=60.0,
    )
