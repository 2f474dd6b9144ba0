"""A ShinkaEvolve ``evaluate.py`` run unchanged, in compatibility mode.

``main(program_path, results_dir)`` (or the file run as a script with ``--program_path``
and ``--results_dir``) writes ``correct.json`` (``{"correct": bool, "error": str}``) and
``metrics.json`` into ``results_dir``; it runs inside the sandbox with the candidate
(``driver.py``), and the files are read the way ShinkaEvolve reads them:

- valid when ``correct.json`` says ``"correct": true`` (a missing file means incorrect);
  the reason of an incorrect candidate is its ``error``;
- score: ``combined_score`` (0 when absent, as in ShinkaEvolve);
- ``public`` numbers, and numbers at the top level, become metrics; ``public`` texts,
  ``text_feedback`` and other top-level values become artifacts (feedback for the LLM);
- ``private`` numbers become holdout values (stored and reported, never shown to the
  LLM); private values that are not numbers are not kept.
"""

from __future__ import annotations

import json
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
from evolve.evaluation.types import EvaluationContext, EvaluationResult

RESULTS = "results"  # the results folder in the work dir


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


def _split(values: dict[str, Any]) -> tuple[dict[str, float], dict[str, str]]:
    """Numbers (bools are not) and everything else as text."""
    numbers: dict[str, float] = {}
    texts: dict[str, str] = {}
    for key, value in list(values.items())[:200]:
        if type(value) in (int, float):
            numbers[str(key)] = float(value)
        else:
            texts[str(key)] = text(_as_text(value))
    return numbers, texts


class ShinkaEvaluator(FolderEvaluator):
    """Runs a ShinkaEvolve evaluator beside the candidate in the sandbox."""

    program_name = "main.py"  # what ShinkaEvolve calls the program it evaluates

    def __init__(self, problem_dir: Path, evaluator_file: str = "evaluate.py",
                 memory_mb: int = 4096, max_processes: int | None = None,
                 files: list[str] | None = None) -> None:
        super().__init__(problem_dir, evaluator_file, memory_mb, max_processes, files)

    def evaluate(self, candidate_path: Path, context: EvaluationContext) -> EvaluationResult:
        return self.run_driver(
            candidate_path, context, "shinka",
            (f"task/{self.evaluator_file}", f"candidate/{self.program_name}", RESULTS), runs=1)

    def _result(self, answer: dict[str, Any]) -> EvaluationResult:
        where = self.evaluator_file
        if "error" in answer:
            return marked_invalid(f"{where} raised {first_line(text(answer['error']))}",
                                  traceback=text(answer.get("traceback", "")))
        if "exit" in answer:
            return marked_invalid(f"{where} exited with {text(answer['exit'], 200)}")
        metrics_file, correct_file = answer["metrics"], answer["correct"]
        metrics: dict[str, Any] = {}
        notes: dict[str, str] = {}
        if metrics_file.get("found") and "problem" in metrics_file:
            problem = text(metrics_file["problem"])
            notes["metrics_json"] = f"metrics.json could not be read: {problem}"
        elif isinstance(metrics_file.get("value"), dict):
            metrics = metrics_file["value"]
        elif metrics_file.get("found"):
            notes["metrics_json"] = "metrics.json does not hold a JSON object"
        else:
            notes["metrics_json"] = f"{where} wrote no metrics.json"
        score = metrics.get("combined_score", 0.0)
        if type(score) not in (int, float):
            return marked_invalid(f"metrics.json: combined_score is {_as_text(score)[:80]}, "
                                  "not a number")
        numbers, texts = _split({k: v for k, v in metrics.items()
                                 if k not in ("public", "private", "text_feedback")})
        public = metrics.get("public")
        if isinstance(public, dict):
            public_numbers, public_texts = _split(public)
            numbers.update(public_numbers)
            texts.update(public_texts)
        if "text_feedback" in metrics:
            texts["text_feedback"] = text(_as_text(metrics["text_feedback"]))
        private = metrics.get("private")
        holdout = _split(private)[0] if isinstance(private, dict) else {}
        artifacts = bounded_texts({**texts, **notes})
        correct = correct_file.get("value") if correct_file.get("found") else None
        if not isinstance(correct, dict) or correct.get("correct") is not True:
            if not isinstance(correct, dict):
                reason = f"{where} wrote no readable correct.json"
            else:
                error = correct.get("error")
                reason = text(_as_text(error), 1000) if error else "correct.json says incorrect"
            result = marked_invalid(reason, **artifacts)
            result.metrics = bounded_numbers(numbers)
            return result
        return EvaluationResult(valid=True, score=float(score), metrics=bounded_numbers(numbers),
                                holdout=bounded_numbers(holdout), artifacts=artifacts,
                                compatibility_mode=True)
