"""Shared by the ADRS problem tests: sandboxes, evaluation helpers, and the scoring
rules of the published ADRS telemetry evaluator (holes included), used only to show
what that evaluator would report for an answer."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from evolve.database.records import ProgramRecord
from evolve.evaluation.sandbox import Sandbox
from evolve.evaluation.types import EvaluationContext, EvaluationResult
from evolve.runs import open_run

REPO = Path(__file__).resolve().parent.parent
PROBLEMS = REPO / "problems" / "adrs"
CANDIDATES = Path(__file__).resolve().parent / "adrs_candidates"


def evolve_cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "evolve.cli", *args], check=False, capture_output=True,
                          text=True, cwd=REPO, timeout=timeout)


def _settings(settings: tuple[str, ...]) -> list[str]:
    return [arg for setting in settings for arg in ("--set", setting)]


def cli_eval(problem: str, candidate: Path, *settings: str) -> EvaluationResult:
    """`evolve eval --json` of problems/adrs/<problem>, each of ``settings`` a ``--set``."""
    proc = evolve_cli("eval", str(PROBLEMS / problem), str(candidate), "--json",
                      *_settings(settings))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return EvaluationResult.from_dict(json.loads(proc.stdout))


def offline_run(tmp_path: Path, problem: str, iterations: int,
                *settings: str) -> list[ProgramRecord]:
    """`evolve run` of problems/adrs/<problem> on the offline engine: its programs, once the
    run has done ``iterations`` and stored at least one program the engine wrote."""
    out = tmp_path / "runs"
    proc = evolve_cli("run", f"problems/adrs/{problem}", "--iterations", str(iterations),
                      "--out", str(out), "--name", problem, *_settings(settings))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "offline mutation engine" in proc.stdout
    run = open_run(out / problem)
    assert run.store.counters(run.run_id).iterations == iterations
    programs = list(run.store.programs(run.run_id))
    assert any(p.origin == "llm" for p in programs)
    return programs


@contextmanager
def sandbox_context(problem: Path, preload: list[str],
                    timeout_s: float) -> Iterator[EvaluationContext]:
    with Sandbox(preload=preload) as box:
        yield EvaluationContext(problem_dir=problem, sandbox=box, timeout_s=timeout_s)


def figures(result: EvaluationResult) -> dict[str, float]:
    """Every metric but the candidate's time, which the sandbox measures afresh."""
    return {k: v for k, v in result.metrics.items() if k != "candidate_time_s"}


# ---------------------------------------------------------------- published telemetry rules


def _value(fields: dict[str, Any], field: str, default: Any, length: int) -> Any:
    value = fields.get(field)
    if value is None:
        return default
    if isinstance(value, tuple) and len(value) >= length:
        return value[1]
    return value


def published_row_score(truth: Any, answer: dict[str, Any], interfaces: list[str]) -> float:
    """ADRS ``evaluate_interface_scenario`` on one row: interfaces missing from the
    answer are skipped; with nothing to score, status and calibration count as 1.0."""
    try:
        error, counted = 0.0, 0
        right, statuses = 0, 0
        calibration, measured = 0.0, 0
        for i, name in enumerate(interfaces):
            if name not in answer:
                continue
            fields = answer[name]
            for f, field in enumerate(("rx_rate", "tx_rate")):
                true = float(truth[i, f])
                rep = _value(fields, field, 0.0, 2)
                if true > 0:
                    error += min(abs(rep - true) / true, 1.0)
                    counted += 1
            statuses += 1
            right += _value(fields, "interface_status", "unknown", 2) == "up"
            for f, field in enumerate(("rx_rate", "tx_rate")):
                value = fields.get(field)
                if isinstance(value, tuple) and len(value) >= 3:
                    _, rep, conf = value
                    true = float(truth[i, f])
                    acc = 1.0 - abs(true - rep) / max(abs(true), abs(rep), 1.0)
                    if acc > 0.8:
                        score = 1.0 if conf > 0.7 else 0.5 + (conf - 0.3) * 1.25
                    else:
                        score = 0.8 if conf < 0.3 else max(0.0, 0.8 - conf * (1.0 - acc) * 2.0)
                    calibration += max(0.0, min(1.0, score))
                    measured += 1
        counter = max(0.0, 1.0 - error / counted) if counted else 0.0
        status = right / statuses if statuses else 1.0
        calib = calibration / measured if measured else 1.0
        return counter * 0.75 + status * 0.05 + calib * 0.2
    except (TypeError, ValueError):
        return 0.0


def published_score(instances: list[Any], answers: list[Any], interfaces: list[str]) -> float:
    total = 0.0
    for instance, answer in zip(instances, answers):
        total += published_row_score(instance.truth, answer, interfaces)
    return total / len(instances)
