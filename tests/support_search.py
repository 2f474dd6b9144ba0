"""Helpers for the search-feature tests: a fast multi-instance problem and loop drivers."""

from __future__ import annotations

import asyncio
import re
import textwrap
from pathlib import Path
from typing import Any

from evolve.controller import Controller, RunSummary
from evolve.evaluation.sandbox import CandidateCall, SandboxLimits
from evolve.evaluation.types import EvaluationContext, EvaluationResult
from evolve.llm.base import Completion, GenerationParams
from evolve.problem import load_problem
from evolve.runs import OpenRun, create_run

REPO = Path(__file__).resolve().parent.parent
TARGETS = (0.9, 0.1, 0.5, 0.3)


class VectorEvaluator:
    """``values()`` returns four numbers; instance i scores 1 - |value_i - target_i|.

    The combined score is the mean, so a program can win one instance and lose overall,
    which is what per-instance Pareto selection is about. Evaluation takes milliseconds.
    """

    def __init__(self, problem_dir: Path) -> None:
        self.problem_dir = Path(problem_dir)

    def evaluate(self, candidate_path: Path, context: EvaluationContext) -> EvaluationResult:
        limits = SandboxLimits(timeout_s=context.timeout_s, memory_mb=512)
        result = context.sandbox.run(candidate_path, [CandidateCall("values")], limits)
        if not result.ok or not result.calls[0].ok:
            reason = result.reason if not result.ok else result.calls[0].error.splitlines()[-1]
            return EvaluationResult.invalid(f"values() failed: {reason}")
        got = result.calls[0].value
        if not isinstance(got, (list, tuple)) or len(got) != len(TARGETS):
            return EvaluationResult.invalid("values() must return four numbers")
        try:
            scores = {f"w{i}": 1.0 - abs(float(v) - t) for i, (v, t) in enumerate(zip(got, TARGETS))}
        except (TypeError, ValueError):
            return EvaluationResult.invalid("values() must return numbers")
        return EvaluationResult(valid=True, score=sum(scores.values()) / len(scores), metrics={},
                                instances=scores)


VECTOR_PROGRAM = '''\
# EVOLVE-BLOCK-START
def values():
    a = 0.5
    b = 0.5
    c = 0.5
    d = 0.5
    return [a, b, c, d]
# EVOLVE-BLOCK-END
'''


def vector_problem(tmp_path: Path, programs: tuple[str, ...] = (VECTOR_PROGRAM,), extra: str = "") -> Path:
    """A problem folder using :class:`VectorEvaluator`, with the given initial programs."""
    folder = tmp_path / "vector"
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for index, code in enumerate(programs):
        name = f"initial_{index}.py"
        (folder / name).write_text(code)
        names.append(name)
    (folder / "problem.yaml").write_text(textwrap.dedent(f"""\
        name: vector
        description: Return four numbers close to hidden targets.
        initial_programs: [{", ".join(names)}]
        evaluator: tests.support_search:VectorEvaluator
        preload: []
        constraints: {{timeout_s: 10}}
        """) + extra)
    return folder


def run_problem(folder: Path, tmp_path: Path, overrides: list[str], backend: Any = None,
                run: OpenRun | None = None, extra_iterations: int | None = None) -> tuple[OpenRun, RunSummary]:
    problem = load_problem(folder, overrides=overrides)
    run = run or create_run(problem, tmp_path / "runs", "search")
    controller = Controller(problem, run.store, run.run_id, run.run_dir, backend=backend)
    summary = asyncio.run(controller.run(extra_iterations=extra_iterations))
    return run, summary


def fake_models(server: Any, names: tuple[str, ...] = ("small",), **extra: str) -> str:
    items = ", ".join(f"{{name: {n}, base_url: '{server.base_url}', price_in_per_mtok: 1.0,"
                      f" price_out_per_mtok: 2.0}}" for n in names)
    return f"llm.models=[{items}]"


FAKE_LLM = ["llm.retries=0", "llm.backoff_s=0.01", "llm.concurrency=1", "evaluation.workers=1"]


def user_prompt(body: dict[str, Any]) -> str:
    return str(body["messages"][-1]["content"])


def current_program(body: dict[str, Any]) -> str:
    section = user_prompt(body).split("# Current program", 1)[1]
    match = re.search(r"```(?:python)?\n(.*?)```", section, re.DOTALL)
    assert match, "the prompt shows the parent program"
    return match.group(1)


def set_value_edit(body: dict[str, Any], name: str, value: float) -> str:
    """A SEARCH/REPLACE answer that sets ``name = value`` in the prompt's current program."""
    line = re.search(rf"^ *{name} = .*$", current_program(body), re.MULTILINE)
    assert line, f"parent has a line assigning {name}"
    indent = line.group(0)[: len(line.group(0)) - len(line.group(0).lstrip())]
    return (f"Set {name}.\n<<<<<<< SEARCH\n{line.group(0)}\n=======\n"
            f"{indent}{name} = {value!r}\n>>>>>>> REPLACE\n")


class RecordingBackend:
    """Wraps a backend and keeps every prompt context and temperature it was asked with."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = getattr(inner, "name", "recording")
        self.contexts: list[Any] = []
        self.temperatures: list[float] = []
        self.messages: list[list[dict[str, str]]] = []

    async def complete(self, messages: list[dict[str, str]], params: GenerationParams) -> Completion:
        self.contexts.append(params.context)
        self.temperatures.append(params.temperature)
        self.messages.append(messages)
        return await self.inner.complete(messages, params)  # type: ignore[no-any-return]
