"""Transaction scheduling (ADRS) evaluator: orders checked and timed by the simulator.

The candidate's ``get_random_costs()`` runs only in the sandbox, beside our own
``txn_simulator.py`` and a ``workloads.py`` holding the workloads of that run (the ADRS
imports, so published programs run unchanged). Of its answer only the schedules count:
each must order every transaction of its workload exactly once, and every makespan is
recomputed here from the trusted copy of the workloads. The makespan the candidate
reports is shown next to the recomputed one and never scored.

    score      = mean over workloads of lower_bound / makespan      (in (0, 1])
    adrs_score = 1e6 / (1 + sum of makespans)                        (the ADRS formula)

Holdout workloads (generated from seeds, same three shapes) are run in separate
children after the train run and reported in ``holdout`` only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evaluators.harnessed import CandidateFault, run_harnessed
from evolve.errors import UserError
from evolve.evaluation.sandbox import CandidateCall, SandboxLimits
from evolve.evaluation.trusted_seed import SECRET, seed_from
from evolve.evaluation.types import EvaluationContext, EvaluationResult
from simulators.txn_scheduling import (
    SHAPES,
    InvalidSchedule,
    Op,
    check_schedules,
    generate_workload,
    makespan_lower_bound,
    parse_transactions,
    schedule_makespan,
)
from simulators.txn_scheduling import workload as workload_module

HARNESS = Path(__file__).with_name("harness.py")
SIMULATOR_SOURCE = Path(workload_module.__file__).read_bytes()
NAMES = ("WORKLOAD_1", "WORKLOAD_2", "WORKLOAD_3")


@dataclass(frozen=True)
class TxnWorkload:
    name: str
    text: str  # the JSON string the candidate's Workload(...) parses
    txns: list[list[Op]]
    lower_bound: int
    identity: int  # makespan of the input order, for reference

    @classmethod
    def build(cls, name: str, workload: dict[str, str]) -> TxnWorkload:
        txns = [list(ops) for ops in parse_transactions(workload)]
        return cls(
            name,
            json.dumps(workload),
            txns,
            makespan_lower_bound(txns),
            schedule_makespan(txns, range(len(txns))),
        )


def _module_source(workloads: list[TxnWorkload]) -> bytes:
    lines = ['"""The workloads of this evaluation (JSON strings, as in ADRS)."""', ""]
    lines += [f"{w.name} = {w.text!r}" for w in workloads]
    return ("\n".join(lines) + "\n").encode()


class TxnSchedulingEvaluator:
    """Scores ``get_random_costs() -> (makespan, [order per workload], seconds)``."""

    def __init__(
        self,
        problem_dir: Path,
        workloads: str = "data/workloads.json",
        holdout_seeds: list[int | str] | None = None,
        holdout_transactions: int = 100,
        memory_mb: int = 2048,
    ) -> None:
        path = Path(workloads) if Path(workloads).is_absolute() else Path(problem_dir) / workloads
        if not path.is_file():
            raise UserError(f"workload file not found: {path}", "evaluator_args.workloads")
        try:
            data = json.loads(path.read_text())
            self.train = [TxnWorkload.build(name, data[name]) for name in NAMES]
        except (ValueError, KeyError, TypeError) as exc:
            raise UserError(
                f"{path}: expected {', '.join(NAMES)} mapping to transactions ({exc})",
                "evaluator_args.workloads",
            ) from None
        where = "evaluator_args.holdout_seeds"
        given = [SECRET] if holdout_seeds is None else holdout_seeds
        if not isinstance(given, list):
            raise UserError(f"expected a list of seeds, got {given!r}", where)
        seeds = {("secret" if s == SECRET else f"seed{s}"):
                 seed_from(s, f"txn_scheduling/holdout/{i}", where) for i, s in enumerate(given)}
        if not isinstance(holdout_transactions, int) or holdout_transactions < 2:
            raise UserError("must be an integer >= 2", "evaluator_args.holdout_transactions")
        self.holdout = {
            label: [
                TxnWorkload.build(name, generate_workload(shape, seed, holdout_transactions))
                for name, shape in zip(NAMES, SHAPES)
            ]
            for label, seed in seeds.items()
        }
        if isinstance(memory_mb, bool) or not isinstance(memory_mb, int) or memory_mb < 64:
            raise UserError(f"expected an integer >= 64, got {memory_mb!r}",
                            "evaluator_args.memory_mb")
        self.memory_mb = memory_mb

    def _makespans(
        self, workloads: list[TxnWorkload], context: EvaluationContext, what: str, candidate: Path
    ) -> tuple[list[int], Any, float]:
        files = {"txn_simulator.py": SIMULATOR_SOURCE, "workloads.py": _module_source(workloads)}
        limits = SandboxLimits(timeout_s=context.timeout_s, memory_mb=self.memory_mb)
        call = CandidateCall("schedules", (int(context.seed),))
        result = run_harnessed(context, HARNESS, candidate, [call], limits, files, what)
        value = result.calls[0].value
        if not isinstance(value, dict):
            raise CandidateFault(f"{what}: the harness returned no schedules")
        try:
            orders = check_schedules(value.get("schedules"), [w.name for w in workloads],
                                     [len(w.txns) for w in workloads])
        except InvalidSchedule as exc:
            raise CandidateFault(f"{what}: {exc}") from None
        makespans = [schedule_makespan(w.txns, order) for w, order in zip(workloads, orders)]
        return makespans, value.get("reported_makespan"), sum(result.calls[0].times_s)

    @staticmethod
    def _scores(workloads: list[TxnWorkload], makespans: list[int]) -> dict[str, float]:
        ratios = [w.lower_bound / m for w, m in zip(workloads, makespans)]
        total = sum(makespans)
        return {
            "score": sum(ratios) / len(ratios),
            "adrs_score": 1e6 / (1 + total),
            "makespan": float(total),
        }

    def evaluate(self, candidate_path: Path, context: EvaluationContext) -> EvaluationResult:
        try:
            makespans, reported, seconds = self._makespans(
                self.train, context, "train workloads", candidate_path
            )
        except CandidateFault as fault:
            return EvaluationResult.invalid(fault.reason, **fault.artifacts)
        totals = self._scores(self.train, makespans)
        metrics = {k: v for k, v in totals.items() if k != "score"}
        metrics["candidate_time_s"] = seconds
        for w, m in zip(self.train, makespans):
            metrics[f"makespan_{w.name}"] = float(m)
            metrics[f"lower_bound_{w.name}"] = float(w.lower_bound)
        if isinstance(reported, (int, float)):
            metrics["reported_makespan"] = float(reported)
        return EvaluationResult(
            valid=True,
            score=totals["score"],
            metrics=metrics,
            instances={w.name: w.lower_bound / m for w, m in zip(self.train, makespans)},
            holdout=self._holdout(candidate_path, context),
            artifacts={"workloads": self._table(makespans, reported)},
        )

    def _table(self, makespans: list[int], reported: Any) -> str:
        lines = ["workload | makespan | lower bound | input order | longest transaction"]
        for w, m in zip(self.train, makespans):
            longest = max(ops[0][3] for ops in w.txns)
            lines.append(f"{w.name} | {m} | {w.lower_bound} | {w.identity} | {longest}")
        total = sum(makespans)
        if isinstance(reported, (int, float)) and reported != total:
            lines.append(
                f"get_random_costs() reported a makespan of {reported!r}; the schedules take "
                f"{total} (only the recomputed makespan counts)"
            )
        return "\n".join(lines)

    def _holdout(self, candidate_path: Path, context: EvaluationContext) -> dict[str, float]:
        """Each seed in its own child, after the train run; never shown to the LLM."""
        if not self.holdout:
            return {}
        per_seed = []
        for name, group in self.holdout.items():
            try:
                found, _, _ = self._makespans(group, context, f"holdout {name}", candidate_path)
            except CandidateFault:
                return {"valid": 0.0, "score": 0.0}
            per_seed.append(self._scores(group, found))
        holdout = {"valid": 1.0}
        for key in ("score", "adrs_score", "makespan"):
            holdout[key] = sum(s[key] for s in per_seed) / len(per_seed)
        return holdout
