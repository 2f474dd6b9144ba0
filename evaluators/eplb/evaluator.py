"""EPLB evaluator: runs a candidate balancer in the sandbox, scores it with the simulator.

Per workload the candidate plans on window i (a fresh sandbox process per window, so no
state carries between windows) and the plan is scored on window i+1. Workloads are
generated from this installation's secret seed by default (``workloads: secret``), so
no file and no public code holds the windows a plan is scored on; a workload file (such
as the published fixture, which reproduces the reference numbers) is the documented
public mode. Speed is measured by the trusted side against a reference balancer timed
in the same evaluation (``timing.py``). Combined score, documented in
docs/problems/eplb.md:

    speed_term = nearest speed_step of min(1, (reference_ms / candidate_ms) / speed_target_speedup)
    score = balance * (1 - speed_weight + speed_weight * speed_term)

Here balance is the GPU-level balancedness (mode "gpu") or the slot-level one the ADRS
evaluator reports (mode "adrs"), averaged over train workloads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from evaluators.eplb import feedback, timing
from evaluators.eplb.decode import InvalidOutput, Placement, decode_result, same_output
from evolve.errors import UserError
from evolve.evaluation.sandbox import CandidateCall, SandboxLimits, SandboxResult
from evolve.evaluation.trusted_seed import trusted_seed
from evolve.evaluation.types import EvaluationContext, EvaluationResult
from simulators.eplb import (
    DEFAULT_BYTES_PER_EXPERT,
    Topology,
    WorkloadModel,
    WorkloadScore,
    generate_windows,
    load_windows,
    score_workload,
)

HARNESS = Path(__file__).with_name("harness.py")
CANDIDATE_FILE = "candidate_program.py"
MODES = ("gpu", "adrs")
SECRET = "secret"
# Hidden workloads: the fixture's model for train; hotter/faster and milder/grouped/slower
# drift for holdout (the models of the public holdout files, with secret seeds).
SECRET_TRAIN = {"secret_train": WorkloadModel()}
SECRET_HOLDOUT = {
    "secret_holdout_hot_fast": WorkloadModel(num_windows=4, expert_sigma=1.3, drift_rho=0.8),
    "secret_holdout_grouped_slow": WorkloadModel(
        num_windows=4, expert_sigma=0.8, group_sigma=0.6, drift_rho=0.95),
}
RENAMED = {
    "speed_target_ms": "speed_target_speedup (speed is now the ratio to the reference "
                       "balancer timed in the same evaluation; see docs/problems/eplb.md)",
    "timing_calls": "timing_rounds (each timing process plans every train window once)",
}
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

    RENAMED_ARGS = RENAMED  # stored runs' old keys get a one-line pointer to the new ones

    def __init__(
        self,
        problem_dir: Path,
        workloads: str | list[str] = SECRET,
        holdout: str | list[str] | None = None,
        num_replicas: int = 288,
        num_groups: int = 8,
        num_nodes: int = 4,
        num_gpus: int = 32,
        mode: str = "gpu",
        speed_weight: float = 0.1,
        speed_target_speedup: float = 10.0,
        speed_step: float = 0.05,
        timing_rounds: int = 2,
        reference: str = "initial_program.py",
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
            "speed_target_speedup": speed_target_speedup > 0,
            "speed_step": 0.0 <= speed_step <= 1.0,
            "timing_rounds": isinstance(timing_rounds, int) and timing_rounds >= 1,
            "timeout_s": timeout_s > 0,
            "memory_mb": isinstance(memory_mb, int) and memory_mb > 0,
            "bytes_per_expert": isinstance(bytes_per_expert, int) and bytes_per_expert > 0,
        }
        for key, ok in checks.items():
            if not ok:
                raise UserError(f"out of range: {locals()[key]!r}", f"evaluator_args.{key}")
        self.mode = mode
        self.speed_weight = float(speed_weight)
        self.speed_target_speedup = float(speed_target_speedup)
        self.speed_step = float(speed_step)
        self.timing_rounds = timing_rounds
        self.timeout_s = float(timeout_s)
        self.memory_mb = memory_mb
        self.bytes_per_expert = bytes_per_expert
        self.reference = self._reference(reference)
        self.train = self._workloads(workloads, "workloads", SECRET_TRAIN)
        self.holdout = self._workloads(holdout or [], "holdout", SECRET_HOLDOUT)
        if not self.train:
            raise UserError("needs at least one workload file", "evaluator_args.workloads")
        self.public = workloads != SECRET

    def _reference(self, name: str) -> bytes:
        path = Path(name) if Path(name).is_absolute() else self.problem_dir / name
        if not path.is_file():
            raise UserError(f"reference balancer not found: {path}", "evaluator_args.reference")
        return path.read_bytes()

    def _workloads(self, value: Any, key: str, secret: dict[str, WorkloadModel]) -> list[Workload]:
        if value == SECRET:
            return [self._secret(name, model) for name, model in secret.items()]
        return [self._load(p, key) for p in _paths(value, key)]

    def _secret(self, name: str, model: WorkloadModel) -> Workload:
        self._check_experts(model.num_experts)
        model = WorkloadModel(**{**model.__dict__, "num_groups": self.topology.num_groups})
        return Workload(name, generate_windows(model, trusted_seed(f"eplb/{name}")))

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
        self._check_experts(windows.shape[2])
        return Workload(full.stem, windows)

    def _check_experts(self, experts: int) -> None:
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

    def _call(self, windows: np.ndarray) -> Callable[[int], CandidateCall]:
        return lambda index: CandidateCall("checked_rebalance", self._args(windows[index]))

    def _time(self, candidate: bytes, context: EvaluationContext, workload: Workload,
              expected: list[Any]) -> timing.Timing:
        """Trusted timing against the reference; every timed answer is checked."""
        def run(code: bytes, calls: list[CandidateCall], what: str) -> SandboxResult:
            return self._run(code, context, calls, f"{what} on {workload.name}")

        def same(value: Any, first: Any) -> bool:
            return isinstance(value, dict) and same_output(value.get("result"), first)

        try:
            return timing.measure(
                run, candidate, self.reference, self._call(workload.windows), expected,
                warmup_window=len(workload.windows) - 1, rounds=self.timing_rounds,
                seed=context.seed, same=same)
        except timing.OutputMismatch as exc:
            raise CandidateFault(
                f"window {exc.window} of {workload.name}: planning it again in a process "
                "that planned other windows gave a different placement than in a fresh "
                "process; the output must depend only on the given window (no state kept "
                "between calls, no unseeded randomness)"
            ) from None

    # ------------------------------------------------------------------ scoring

    def _score_workload(
        self, candidate: bytes, context: EvaluationContext, workload: Workload
    ) -> tuple[WorkloadScore, list[Any]]:
        plans = [
            self._plan(candidate, context, workload, i) for i in range(len(workload.windows) - 1)
        ]
        placements = [(p.phy2log, p.logcnt) for p, _ in plans]
        score = score_workload(workload.windows, placements, self.topology, self.bytes_per_expert)
        return score, [raw for _, raw in plans]

    def _balance(self, score: WorkloadScore) -> float:
        return score.balancedness["slot" if self.mode == "adrs" else "gpu"]

    def evaluate(self, candidate_path: Path, context: EvaluationContext) -> EvaluationResult:
        candidate = Path(candidate_path).read_bytes()
        try:
            train = []
            for workload in self.train:
                train.append(self._score_workload(candidate, context, workload))
            speed = self._time(candidate, context, self.train[0], train[0][1])
            holdout = [self._score_workload(candidate, context, w)[0] for w in self.holdout]
        except CandidateFault as fault:
            return EvaluationResult.invalid(fault.reason, **fault.artifacts)
        scores = [s for s, _ in train]
        metrics = self._metrics(scores, speed)
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

    def _metrics(self, scores: list[WorkloadScore], speed: timing.Timing) -> dict[str, float]:
        def mean(values: list[float]) -> float:
            return float(np.mean(values))

        speed_term, raw_speed = timing.speed_term(
            speed.speedup, self.speed_target_speedup, self.speed_step)
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
            "candidate_time_ms": speed.candidate_ms,
            "reference_time_ms": speed.reference_ms,
            "speedup_vs_reference": speed.speedup,
            "public_workloads": float(self.public),
            "simulator_time_ms": mean([s.simulator_s_per_rebalance for s in scores]) * 1e3,
        }
        return metrics
