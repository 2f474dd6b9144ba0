"""EPLB evaluator: runs a candidate balancer in the sandbox, scores it with the simulator.

Per workload the candidate plans on window i (a fresh sandbox process per window, so no
state carries between windows) and the plan is scored on window i+1. One more process
times the candidate on train windows in turn (distinct inputs, so caching results does
not help) and finally re-plans window 0 in that same process: an answer different from
the fresh-process one means the output depends on something besides the window (state
kept between calls, unseeded randomness). Combined score, documented in docs/problems/eplb.md:

    speed_term = floor(min(1, speed_target_ms / time_ms) / speed_step) * speed_step
    score = balance * (1 - speed_weight + speed_weight * speed_term)

The speed term moves in ``speed_step`` steps (5 % by default) so that timing noise
between two runs of the same program cannot pass for progress. Here balance is the GPU-level balancedness (mode "gpu") or the slot-level one the ADRS
evaluator reports (mode "adrs"), averaged over train workloads.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from evaluators.eplb import feedback
from evaluators.eplb.decode import InvalidOutput, Placement, decode_result, same_output
from evolve.errors import UserError
from evolve.evaluation.sandbox import CandidateCall, SandboxLimits, SandboxResult
from evolve.evaluation.types import EvaluationContext, EvaluationResult
from simulators.eplb import (
    DEFAULT_BYTES_PER_EXPERT,
    Topology,
    WorkloadScore,
    load_windows,
    score_workload,
)

HARNESS = Path(__file__).with_name("harness.py")
CANDIDATE_FILE = "candidate_program.py"
MODES = ("gpu", "adrs")
INFRASTRUCTURE_FAULTS = ("sandbox error:", "sandbox setup failed:", "the sandbox process")


@dataclass
class Workload:
    name: str
    windows: np.ndarray  # [windows, layers, experts]


class CandidateFault(Exception):
    """The candidate is invalid; the message is the one-line reason."""

    def __init__(self, reason: str, **artifacts: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.artifacts = artifacts


def _paths(value: Any, key: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return list(value)
    raise UserError(
        f"expected a file name or a list of file names, got {value!r}", f"evaluator_args.{key}"
    )


class EPLBEvaluator:
    """Scores ``rebalance_experts(weight, num_replicas, num_groups, num_nodes, num_gpus)``."""

    def __init__(
        self,
        problem_dir: Path,
        workloads: str | list[str] = "data/synthetic_seed0_windows.npz",
        holdout: str | list[str] | None = None,
        num_replicas: int = 288,
        num_groups: int = 8,
        num_nodes: int = 4,
        num_gpus: int = 32,
        mode: str = "gpu",
        speed_weight: float = 0.1,
        speed_target_ms: float = 2.0,
        speed_step: float = 0.05,
        timing_calls: int = 8,
        timeout_s: float = 30.0,
        memory_mb: int = 4096,
        bytes_per_expert: int = DEFAULT_BYTES_PER_EXPERT,
    ) -> None:
        self.problem_dir = Path(problem_dir)
        self.topology = Topology(num_replicas, num_groups, num_nodes, num_gpus)
        problem = self.topology.problem()
        if problem:
            key = problem.split()[0] if problem.split()[0].startswith("num_") else "num_replicas"
            raise UserError(problem, f"evaluator_args.{key}")
        if mode not in MODES:
            raise UserError(
                f"expected one of {', '.join(MODES)}, got {mode!r}", "evaluator_args.mode"
            )
        checks = {
            "speed_weight": 0.0 <= speed_weight <= 1.0,
            "speed_target_ms": speed_target_ms > 0,
            "speed_step": 0.0 <= speed_step <= 1.0,
            "timing_calls": isinstance(timing_calls, int) and timing_calls >= 1,
            "timeout_s": timeout_s > 0,
            "memory_mb": isinstance(memory_mb, int) and memory_mb > 0,
            "bytes_per_expert": isinstance(bytes_per_expert, int) and bytes_per_expert > 0,
        }
        for key, ok in checks.items():
            if not ok:
                raise UserError(f"out of range: {locals()[key]!r}", f"evaluator_args.{key}")
        self.mode = mode
        self.speed_weight = float(speed_weight)
        self.speed_target_ms = float(speed_target_ms)
        self.speed_step = float(speed_step)
        self.timing_calls = timing_calls
        self.timeout_s = float(timeout_s)
        self.memory_mb = memory_mb
        self.bytes_per_expert = bytes_per_expert
        self.train = [self._load(p, "workloads") for p in _paths(workloads, "workloads")]
        self.holdout = [self._load(p, "holdout") for p in _paths(holdout or [], "holdout")]
        if not self.train:
            raise UserError("needs at least one workload file", "evaluator_args.workloads")

    def _load(self, path: str, key: str) -> Workload:
        full = Path(path) if Path(path).is_absolute() else self.problem_dir / path
        if not full.is_file() and Path(path).is_file():
            full = Path(path).resolve()  # a --set override given relative to the working dir
        where = f"evaluator_args.{key}"
        if not full.is_file():
            raise UserError(f"workload file not found: {full}", where)
        try:
            windows = load_windows(full)
        except (ValueError, OSError) as exc:
            raise UserError(f"{full}: {exc}", where) from None
        experts = windows.shape[2]
        if experts % self.topology.num_groups:
            raise UserError(
                f"{experts} experts do not split into {self.topology.num_groups} groups",
                "evaluator_args.num_groups",
            )
        if self.topology.num_replicas < experts:
            raise UserError(
                f"{self.topology.num_replicas} slots cannot hold {experts} experts",
                "evaluator_args.num_replicas",
            )
        return Workload(full.stem, windows)

    # ------------------------------------------------------------------ sandbox calls

    def _args(self, window: np.ndarray) -> tuple[Any, ...]:
        import torch  # the trusted side builds the input tensor; imported only when scoring

        t = self.topology
        weight = torch.from_numpy(np.ascontiguousarray(window, dtype=np.int64))
        return (weight, t.num_replicas, t.num_groups, t.num_nodes, t.num_gpus)

    def _run(
        self, candidate: bytes, context: EvaluationContext, calls: list[CandidateCall], what: str
    ) -> SandboxResult:
        limits = SandboxLimits(
            timeout_s=min(self.timeout_s, context.timeout_s), memory_mb=self.memory_mb, threads=1
        )
        result = context.sandbox.run(HARNESS, calls, limits, files={CANDIDATE_FILE: candidate})
        if result.status == "crashed" and result.reason.startswith(INFRASTRUCTURE_FAULTS):
            # The sandbox itself failed (e.g. fork refused): not the candidate's doing.
            result = context.sandbox.run(HARNESS, calls, limits, files={CANDIDATE_FILE: candidate})
        stderr = result.stderr[-2000:]
        if not result.ok:
            raise CandidateFault(f"{what}: {result.reason}", stderr=stderr)
        for outcome in result.calls:
            if not outcome.ok:
                error = outcome.error.splitlines()[0] if outcome.error else "error"
                raise CandidateFault(
                    f"{what}: rebalance_experts raised {error}", error=outcome.error, stderr=stderr
                )
        return result

    def _plan(
        self, candidate: bytes, context: EvaluationContext, workload: Workload, index: int
    ) -> tuple[Placement, Any]:
        what = f"window {index} of {workload.name}"
        call = CandidateCall("checked_rebalance", self._args(workload.windows[index]))
        value = self._run(candidate, context, [call], what).calls[0].value
        if not isinstance(value, dict) or "result" not in value:
            raise CandidateFault(f"{what}: the sandbox wrapper returned no result")
        if value.get("input_mutated") is not False:
            raise CandidateFault(
                f"{what}: rebalance_experts modified its input tensor `weight` "
                "in place; copy it before changing it"
            )
        layers, experts = workload.windows.shape[1:]
        try:
            placement = decode_result(value["result"], layers, experts, self.topology.num_replicas)
        except InvalidOutput as exc:
            raise CandidateFault(f"{what}: {exc}") from None
        return placement, value["result"]

    def _time(
        self, candidate: bytes, context: EvaluationContext, workload: Workload, first_output: Any
    ) -> float:
        """Median seconds per call over distinct windows, then the same-answer re-check.

        The first call warms up (lazy initialisation); consecutive calls get different
        windows, so caching results does not help. The last call re-plans window 0 after
        all the others in the same process and must match the fresh-process answer.
        """
        planned = len(workload.windows) - 1
        order = [i % planned for i in range(1 + self.timing_calls)]
        calls = [
            CandidateCall("timed_rebalance", (*self._args(workload.windows[i]), False))
            for i in order
        ]
        calls.append(CandidateCall("timed_rebalance", (*self._args(workload.windows[0]), True)))
        result = self._run(candidate, context, calls, f"timing run on {workload.name}")
        if not same_output(result.calls[-1].value, first_output):
            raise CandidateFault(
                f"window 0 of {workload.name}: planning it again after other windows gave a "
                "different placement than in a fresh process; the output must depend only on "
                "the given window (no state kept between calls, no unseeded randomness)"
            )
        times = [t for outcome in result.calls[1:-1] for t in outcome.times_s]
        return statistics.median(times)

    # ------------------------------------------------------------------ scoring

    def _score_workload(
        self, candidate: bytes, context: EvaluationContext, workload: Workload
    ) -> tuple[WorkloadScore, Any]:
        plans = [
            self._plan(candidate, context, workload, i) for i in range(len(workload.windows) - 1)
        ]
        placements = [(p.phy2log, p.logcnt) for p, _ in plans]
        score = score_workload(workload.windows, placements, self.topology, self.bytes_per_expert)
        return score, plans[0][1]

    def _balance(self, score: WorkloadScore) -> float:
        return score.balancedness["slot" if self.mode == "adrs" else "gpu"]

    def evaluate(self, candidate_path: Path, context: EvaluationContext) -> EvaluationResult:
        candidate = Path(candidate_path).read_bytes()
        try:
            train = []
            for workload in self.train:
                train.append(self._score_workload(candidate, context, workload))
            seconds = self._time(candidate, context, self.train[0], train[0][1])
            holdout = [self._score_workload(candidate, context, w)[0] for w in self.holdout]
        except CandidateFault as fault:
            return EvaluationResult.invalid(fault.reason, **fault.artifacts)
        scores = [s for s, _ in train]
        metrics = self._metrics(scores, seconds)
        artifacts = {"summary": feedback.summary(metrics, self.mode)}
        artifacts["worst_layers"] = "\n".join(
            feedback.worst_layers(w.name, s) for w, s in zip(self.train, scores)
        )
        artifacts["hottest_gpu"] = "\n".join(
            feedback.hottest_gpu(w.name, s) for w, s in zip(self.train, scores)
        )
        artifacts["rebalance_cost"] = "\n".join(
            feedback.rebalance_cost(w.name, s, w.windows.shape[1], self.topology.num_replicas)
            for w, s in zip(self.train, scores)
        )
        holdout_scores = {w.name: self._balance(s) for w, s in zip(self.holdout, holdout)}
        if holdout_scores:
            holdout_scores["mean"] = float(np.mean(list(holdout_scores.values())))
        return EvaluationResult(
            valid=True,
            score=metrics["score"],
            metrics=metrics,
            instances={w.name: self._balance(s) for w, s in zip(self.train, scores)},
            holdout=holdout_scores,
            artifacts=artifacts,
        )

    def _metrics(self, scores: list[WorkloadScore], seconds: float) -> dict[str, float]:
        def mean(values: list[float]) -> float:
            return float(np.mean(values))

        time_ms = seconds * 1e3
        raw_speed = min(1.0, self.speed_target_ms / time_ms) if time_ms > 0 else 1.0
        speed_term = raw_speed
        if self.speed_step > 0:  # a small epsilon keeps exact multiples in their own step
            speed_term = math.floor(raw_speed / self.speed_step + 1e-9) * self.speed_step
        balance = mean([self._balance(s) for s in scores])
        metrics = {
            "balance": balance,
            "speed_term": speed_term,
            "speed_term_raw": raw_speed,
            "speed_weight": self.speed_weight,
            "score": balance * (1.0 - self.speed_weight + self.speed_weight * speed_term),
            "balancedness_gpu": mean([s.balancedness["gpu"] for s in scores]),
            "balancedness_node": mean([s.balancedness["node"] for s in scores]),
            "balancedness_slot": mean([s.balancedness["slot"] for s in scores]),
            "peak_to_mean_gpu": mean([s.peak_to_mean_gpu for s in scores]),
            "rebalance_slots_changed": mean([s.slots_changed for s in scores]),
            "bytes_moved_cross_gpu": mean([s.bytes_cross_gpu for s in scores]),
            "bytes_moved_cross_node": mean([s.bytes_cross_node for s in scores]),
            "replication_memory": mean([float(s.replication_bytes) for s in scores]),
            "same_gpu_duplicates": mean([s.same_gpu_duplicates for s in scores]),
            "candidate_time_ms": time_ms,
            "simulator_time_ms": mean([s.simulator_s_per_rebalance for s in scores]) * 1e3,
        }
        return metrics
