"""An OpenEvolve ``evaluator.py`` run unchanged, in compatibility mode.

``evaluate(program_path)`` returns a dict of metrics or an object with ``metrics`` and
``artifacts`` (OpenEvolve's ``EvaluationResult``); optional ``evaluate_stage1/2/3`` form
a cascade. The evaluator runs inside the sandbox with the candidate (``driver.py``), and
its answer is read the way OpenEvolve reads it:

- score: ``combined_score`` when present, else the mean of the numeric metrics that are
  not MAP-Elites feature dimensions (OpenEvolve's ``get_fitness_score``);
- cascade: stage *k+1* runs only when the metrics merged so far reach
  ``cascade_thresholds[k]`` (``combined_score``, else the mean of the metrics but
  ``error``); after several stages the metrics are merged (``error`` left out);
- numeric metrics (bools count as 0/1) become metrics, text values and artifacts become
  artifacts (feedback for the LLM); a text ``error`` metric (how OpenEvolve evaluators
  report a failed candidate) makes the candidate invalid with that text as its reason.

Unlike OpenEvolve, an exception or a timeout makes the candidate invalid with the error
as its reason (OpenEvolve records ``error: 0.0``).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from evaluators.foreign.common import (
    FolderEvaluator,
    bounded_numbers,
    bounded_texts,
    first_line,
    marked_invalid,
    text,
)
from evaluators.foreign.driver import passes
from evolve.errors import UserError
from evolve.evaluation.types import EvaluationContext, EvaluationResult

STAGES = ("evaluate_stage1", "evaluate_stage2", "evaluate_stage3")
OPENEVOLVE_THRESHOLDS = [0.5, 0.75, 0.9]  # OpenEvolve's default cascade_thresholds


def fitness(numbers: dict[str, float], feature_dimensions: list[str]) -> float:
    """OpenEvolve's score of a metrics mapping."""
    if "combined_score" in numbers:
        return numbers["combined_score"]
    kept = [v for k, v in numbers.items() if k not in feature_dimensions and not math.isnan(v)]
    if not kept:
        kept = [v for v in numbers.values() if not math.isnan(v)]
    return sum(kept) / len(kept) if kept else 0.0


class OpenEvolveEvaluator(FolderEvaluator):
    """Runs an OpenEvolve evaluator beside the candidate in the sandbox."""

    program_name = "program.py"

    def __init__(self, problem_dir: Path, evaluator_file: str = "evaluator.py",
                 cascade: bool = True, cascade_thresholds: list[float] | None = None,
                 feature_dimensions: list[str] | None = None, memory_mb: int = 4096,
                 max_processes: int | None = None, files: list[str] | None = None) -> None:
        super().__init__(problem_dir, evaluator_file, memory_mb, max_processes, files)
        thresholds = OPENEVOLVE_THRESHOLDS if cascade_thresholds is None else cascade_thresholds
        if not isinstance(thresholds, list) or not all(
                type(t) in (int, float) for t in thresholds):
            raise UserError("must be a list of numbers", "evaluator_args.cascade_thresholds")
        self.thresholds = [float(t) for t in thresholds]
        self.feature_dimensions = list(feature_dimensions or [])
        if cascade and STAGES[0] in self.names:
            self.functions = [s for s in STAGES if s in self.names]
        elif "evaluate" in self.names:
            self.functions = ["evaluate"]
        else:
            raise UserError("defines no evaluate(program_path)"
                            + (" (and cascade is off)" if STAGES[0] in self.names else ""),
                            str(self.problem_dir / self.evaluator_file))

    def evaluate(self, candidate_path: Path, context: EvaluationContext) -> EvaluationResult:
        return self.run_driver(
            candidate_path, context, "openevolve",
            (f"task/{self.evaluator_file}", f"candidate/{self.program_name}",
             self.functions, self.thresholds),
            runs=len(self.functions))

    def _result(self, answer: dict[str, Any]) -> EvaluationResult:
        stages = answer.get("stages")
        if not isinstance(stages, list) or not stages:
            raise ValueError("no stage results")
        numbers: dict[str, float] = {}
        texts: dict[str, str] = {}
        artifacts: dict[str, str] = {}
        ran: list[str] = []
        for index, stage in enumerate(stages[: len(self.functions)]):
            if not isinstance(stage, dict) or stage.get("function") != self.functions[index]:
                raise ValueError("stage results out of order")
            name = self.functions[index]
            if index and (index > len(self.thresholds)
                          or not passes(numbers, self.thresholds[index - 1])):
                break  # a stage the thresholds did not let run: its answer is ignored
            if stage.get("missing"):
                if index == 0:
                    return marked_invalid(f"{name}() is not defined when evaluator.py runs")
                break
            if "error" in stage:
                return marked_invalid(
                    f"{name}() raised {first_line(text(stage['error']))}",
                    traceback=text(stage.get("traceback", "")))
            if "unusable" in stage:
                return marked_invalid(f"{name}() returned {text(stage['unusable'], 80)}, not "
                                      "a dict of metrics or an EvaluationResult")
            stage_numbers = raw_numbers(stage["numbers"])
            if index == 0:
                numbers = dict(stage_numbers)
            else:
                numbers.pop("error", None)
                numbers.update({k: v for k, v in stage_numbers.items() if k != "error"})
            texts.update(bounded_texts(stage["texts"]))
            artifacts.update(bounded_texts(stage["artifacts"]))
            ran.append(name)
        last = ran[-1] if ran else self.functions[0]
        if "error" in texts:  # how OpenEvolve evaluators report a failed candidate
            failed = marked_invalid(f"{last}() reported an error: {first_line(texts['error'])}",
                                    **{**texts, **artifacts})
            failed.metrics = bounded_numbers(numbers)
            return failed
        if not numbers:
            return marked_invalid(f"{last}() returned no numeric metrics", **texts)
        score = fitness(numbers, self.feature_dimensions)
        result = EvaluationResult(
            valid=True, score=score, metrics=bounded_numbers(numbers),
            artifacts=bounded_texts({**texts, **artifacts}), compatibility_mode=True)
        if len(self.functions) > 1:
            result.metrics["cascade_stages_run"] = float(len(ran))
        return result


def raw_numbers(values: Any) -> dict[str, float]:
    """Numbers by name, non-finite ones kept (the score decides what they mean)."""
    if not isinstance(values, dict):
        raise ValueError("expected a mapping of numbers")
    kept: dict[str, float] = {}
    for key, value in list(values.items())[:200]:
        if type(value) not in (int, float):
            raise ValueError(f"metric {str(key)[:80]!r} is not a number")
        kept[text(key, 200)] = float(value)
    return kept
