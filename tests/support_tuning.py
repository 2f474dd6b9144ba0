"""A problem with a known optimum for the tuning tests: three literals, one best setting."""

from __future__ import annotations

import math
import textwrap
import time
from pathlib import Path
from typing import Any

import optuna

from evolve.evaluation.sandbox import CandidateCall, SandboxLimits
from evolve.evaluation.types import EvaluationContext, EvaluationResult

BEST = {"width": 7.5, "depth": 12, "mode": "fast"}
BEST_SCORE = 0.5

PROGRAM = '''\
# EVOLVE-BLOCK-START
def setting():
    width = 3.0
    depth = 40
    mode = "slow"  # tune: ["slow", "fast", "medium"]
    return [width, depth, mode]
# EVOLVE-BLOCK-END
'''


def instance_scores(width: float, depth: float, mode: str) -> dict[str, float]:
    """One score per literal; the combined score (their sum) is at most BEST_SCORE."""
    return {
        "width": -math.log(width / BEST["width"]) ** 2,
        "depth": -math.log(depth / BEST["depth"]) ** 2,
        "mode": 0.5 if mode == BEST["mode"] else 0.0,
    }


class KnownOptimum:
    """Scores ``setting()``; its holdout prefers the opposite of the train optimum, so a
    sampler that saw holdout numbers would be pulled away from BEST."""

    def __init__(self, problem_dir: Path, delay_s: float = 0.0) -> None:
        self.problem_dir = Path(problem_dir)
        self.delay_s = delay_s  # a slower evaluation, so a test can kill a run mid-study

    def evaluate(self, candidate_path: Path, context: EvaluationContext) -> EvaluationResult:
        time.sleep(self.delay_s)
        limits = SandboxLimits(timeout_s=context.timeout_s, memory_mb=512)
        result = context.sandbox.run(candidate_path, [CandidateCall("setting")], limits)
        if not result.ok or not result.calls[0].ok:
            return EvaluationResult.invalid("setting() failed")
        got = result.calls[0].value
        try:
            width, depth, mode = float(got[0]), float(got[1]), str(got[2])
            if width <= 0 or depth <= 0:
                return EvaluationResult.invalid("width and depth must be positive")
            scores = instance_scores(width, depth, mode)
        except (TypeError, ValueError, IndexError):
            return EvaluationResult.invalid("setting() must return [width, depth, mode]")
        holdout = {name: 1000.0 - value for name, value in scores.items()}
        return EvaluationResult(valid=True, score=sum(scores.values()), metrics={},
                                instances=scores, holdout=holdout)


def known_optimum_problem(tmp_path: Path, extra: str = "", program: str = PROGRAM) -> Path:
    folder = tmp_path / "known_optimum"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "initial_program.py").write_text(program)
    (folder / "problem.yaml").write_text(textwrap.dedent("""\
        name: known_optimum
        description: Return the best setting.
        evaluator: tests.support_tuning:KnownOptimum
        preload: []
        constraints: {timeout_s: 10}
        evaluation: {workers: 2}
        database: {num_islands: 1}
        """) + extra)
    return folder


class SpySampler(optuna.samplers.RandomSampler):
    """A random sampler that records everything the study shows it."""

    seen: list[Any] = []

    def before_trial(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        for past in study.get_trials(deepcopy=False):
            SpySampler.seen.append((past.values, past.user_attrs, past.system_attrs))
        super().before_trial(study, trial)

    def after_trial(self, study: optuna.Study, trial: optuna.trial.FrozenTrial,
                    state: optuna.trial.TrialState, values: Any) -> None:
        SpySampler.seen.append((values, trial.user_attrs, trial.system_attrs))
        super().after_trial(study, trial, state, values)
