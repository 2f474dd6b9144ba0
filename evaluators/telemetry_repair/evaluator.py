"""Network telemetry repair (ADRS) evaluator.

Faults are applied on the trusted side with a private ``random.Random`` (the ADRS
test set: 30 of the 40 Abilene rows, sampled and perturbed from seed 42 exactly as the
ADRS evaluator does). The candidate's ``run_repair(telemetry, topology)`` runs only in
the sandbox, once per row, and sees the faulty public counters only. Every interface
must come back repaired; the repairs are scored against the trusted truth.

    score      = mean over rows of 0.75 counter + 0.05 status + 0.2 calibration,
                 counter accuracy over every counter (near-zero ones too)
    adrs_score = the same with the ADRS counter term (counters with true value > 0)

The 10 rows ADRS leaves out are the holdout: drawn ``holdout_draws`` times from
``holdout_seed`` and scored in a separate child, reported in ``holdout`` only.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from evaluators.harnessed import CandidateFault, run_harnessed
from evolve.errors import UserError
from evolve.evaluation.sandbox import CandidateCall, SandboxLimits
from evolve.evaluation.trusted_seed import SECRET, seed_from
from evolve.evaluation.types import EvaluationContext, EvaluationResult
from simulators.telemetry_repair import (
    Instance,
    InvalidRepair,
    adrs_instances,
    check_repair,
    combined,
    drawn_instances,
    load_telemetry,
    row_terms,
)

HARNESS = Path(__file__).with_name("harness.py")


def _whole(value: object, key: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise UserError(f"expected an integer >= {low}, got {value!r}", f"evaluator_args.{key}")
    return value


class TelemetryRepairEvaluator:
    """Scores ``run_repair(telemetry, topology)``, which returns
    ``{interface_id: {field: (orig, repaired, conf)}}``."""

    def __init__(
        self,
        problem_dir: Path,
        data: str = "data/abilene_links.csv",
        seed: int = 42,
        rows: int = 30,
        holdout_seed: int | str = SECRET,
        holdout_draws: int = 3,
        memory_mb: int = 2048,
    ) -> None:
        path = Path(data) if Path(data).is_absolute() else Path(problem_dir) / data
        if not path.is_file():
            raise UserError(f"telemetry file not found: {path}", "evaluator_args.data")
        try:
            self.telemetry = load_telemetry(path)
        except (ValueError, OSError) as exc:
            raise UserError(f"{path}: {exc}", "evaluator_args.data") from None
        total = len(self.telemetry.timestamps)
        rows = _whole(rows, "rows", 1)
        if rows > total:
            raise UserError(f"the data has {total} rows, asked for {rows}", "evaluator_args.rows")
        network, rates = self.telemetry.network, self.telemetry.rates
        self.train, left = adrs_instances(network, rates, _whole(seed, "seed", 0), rows)
        draws = _whole(holdout_draws, "holdout_draws", 0)
        seed_h = seed_from(holdout_seed, "telemetry_repair/holdout", "evaluator_args.holdout_seed")
        self.holdout = drawn_instances(network, rates, left, seed_h, draws) if left else []
        self.topology = network.topology()
        self.memory_mb = _whole(memory_mb, "memory_mb", 64)

    def answers(
        self, instances: list[Instance], context: EvaluationContext, what: str, candidate: Path
    ) -> tuple[list[Any], float]:
        """The candidate's plain answers, one per instance, and its seconds in total."""
        network = self.telemetry.network
        calls = [
            CandidateCall("repair", (i.telemetry(network), self.topology, int(context.seed)))
            for i in instances
        ]
        limits = SandboxLimits(timeout_s=context.timeout_s, memory_mb=self.memory_mb)
        result = run_harnessed(context, HARNESS, candidate, calls, limits, what=what)
        return [c.value for c in result.calls], sum(sum(c.times_s) for c in result.calls)

    def _run(
        self, instances: list[Instance], context: EvaluationContext, what: str, candidate: Path
    ) -> tuple[list[tuple[float, float, float]], list[tuple[float, float, float]], float]:
        network = self.telemetry.network
        answers, seconds = self.answers(instances, context, what, candidate)
        ours, adrs = [], []
        for instance, answer in zip(instances, answers):
            try:
                repair = check_repair(answer, network)
            except InvalidRepair as exc:
                stamp = self.telemetry.timestamps[instance.row]
                raise CandidateFault(f"{what}, row {instance.row} ({stamp}): {exc}") from None
            ours.append(row_terms(instance.truth, repair, all_counters=True))
            adrs.append(row_terms(instance.truth, repair, all_counters=False))
        return ours, adrs, seconds

    @staticmethod
    def _mean(values: list[float]) -> float:
        total = 0.0
        for value in values:  # summed in order, as ADRS does, for bit-equal figures
            total += value
        return total / len(values)

    def evaluate(self, candidate_path: Path, context: EvaluationContext) -> EvaluationResult:
        try:
            ours, adrs, seconds = self._run(self.train, context, "train rows", candidate_path)
        except CandidateFault as fault:
            return EvaluationResult.invalid(fault.reason, **fault.artifacts)
        scores = [combined(t) for t in ours]
        metrics = {
            "adrs_score": self._mean([combined(t) for t in adrs]),
            "counter_accuracy": self._mean([t[0] for t in ours]),
            "adrs_counter_accuracy": self._mean([t[0] for t in adrs]),
            "status_accuracy": self._mean([t[1] for t in ours]),
            "confidence_calibration": self._mean([t[2] for t in ours]),
            "candidate_time_s": seconds,
        }
        by_fault: dict[str, list[float]] = defaultdict(list)
        for instance, score in zip(self.train, scores):
            by_fault[instance.fault].append(score)
        return EvaluationResult(
            valid=True,
            score=self._mean(scores),
            metrics=metrics,
            instances={fault: float(np.mean(v)) for fault, v in sorted(by_fault.items())},
            holdout=self._holdout(candidate_path, context),
            artifacts={"by_fault": self._table(by_fault, ours)},
        )

    def _table(self, by_fault: dict[str, list[float]],
               ours: list[tuple[float, float, float]]) -> str:
        lines = ["fault | rows | mean score | mean counter accuracy | mean calibration"]
        for fault, values in sorted(by_fault.items()):
            terms = [t for i, t in zip(self.train, ours) if i.fault == fault]
            lines.append(
                f"{fault} | {len(values)} | {np.mean(values):.4f} | "
                f"{np.mean([t[0] for t in terms]):.4f} | {np.mean([t[2] for t in terms]):.4f}"
            )
        return "\n".join(lines)

    def _holdout(self, candidate_path: Path, context: EvaluationContext) -> dict[str, float]:
        """In its own child, after the train rows; never shown to the LLM."""
        if not self.holdout:
            return {}
        try:
            ours, adrs, _ = self._run(self.holdout, context, "holdout rows", candidate_path)
        except CandidateFault:
            return {"valid": 0.0, "score": 0.0}
        return {
            "valid": 1.0,
            "score": self._mean([combined(t) for t in ours]),
            "adrs_score": self._mean([combined(t) for t in adrs]),
            "counter_accuracy": self._mean([t[0] for t in ours]),
        }
