"""KernelBench-style evaluator: candidate ``ModelNew`` checked against the reference ``Model``.

Flow of one evaluation (trusted side):
1. static gate on the source text (``static_gate.py``);
2. fresh hidden seeds -> inputs for every shape, reference outputs computed here;
3. one sandbox run of ``harness.py`` with the candidate shipped as ``model_new.py``:
   per shape ``load`` + ``check`` (fresh / same / refilled buffers) + ``time_forward``;
4. every returned output compared here (``checks.py``); timing reported per shape.
On CUDA the score is the speedup over eager PyTorch (``gpu.py``); on CPU (Triton
interpreter) the score is 1.0 for a correct candidate and timing is flagged as not
meaningful.
"""

from __future__ import annotations

import random
import statistics
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evaluators.kernelbench.checks import StepVerdict, check_steps, compare_values
from evaluators.kernelbench.reference import Reference
from evaluators.kernelbench.settings import KernelBenchSettings, parse_settings
from evaluators.kernelbench.static_gate import check_source
from evolve.evaluation.plain import TensorValue
from evolve.evaluation.sandbox import CandidateCall, Sandbox, SandboxLimits, SandboxResult
from evolve.evaluation.types import EvaluationContext, EvaluationResult

HARNESS = Path(__file__).with_name("harness.py")
_INTERPRETER_SANDBOX: list[Sandbox] = []
_INTERPRETER_LOCK = threading.Lock()
CANDIDATE_FILE = "model_new.py"
REFERENCE_FILE = "reference_model.py"


@dataclass
class ShapePlan:
    """Inputs, steps and expected outputs of one shape, all made on the trusted side."""

    label: str
    shape: dict[str, Any]
    init_inputs: list[Any]
    steps: list[dict[str, Any]]
    expected: list[list[Any]]
    timing_sets: list[list[Any]]
    timing_expected: list[list[Any]]


def interpreter_sandbox() -> Sandbox:
    """One sandbox per process for Triton-interpreter runs (its zygote preloads torch, not
    triton; each child imports triton after ``TRITON_INTERPRET=1`` is in its environment)."""
    with _INTERPRETER_LOCK:
        if not _INTERPRETER_SANDBOX:
            _INTERPRETER_SANDBOX.append(Sandbox(preload=("numpy", "torch"),
                                                env={"TRITON_INTERPRET": "1"}))
        return _INTERPRETER_SANDBOX[0]


def shape_label(shape: dict[str, Any]) -> str:
    return ",".join(f"{k}={v}" for k, v in shape.items()) or "default"


class KernelBenchEvaluator:
    """Evaluator factory: ``KernelBenchEvaluator(problem_dir, **evaluator_args)``."""

    def __init__(self, problem_dir: Path, **args: Any) -> None:
        self.problem_dir = Path(problem_dir)
        self.settings: KernelBenchSettings = parse_settings(args)
        self.reference = Reference(self.problem_dir / self.settings.reference,
                                   "evaluator_args.reference")
        self._rng = random.SystemRandom()  # hidden seeds: never derived from the run seed

    # ------------------------------------------------------------------ plumbing
    def device(self) -> str:
        import torch

        wanted = self.settings.device
        if wanted == "auto":
            return "cuda" if torch.cuda.is_available() else "cpu"
        return wanted

    def sandbox_for(self, context: EvaluationContext, device: str) -> Sandbox:
        """The context's sandbox on CUDA; on CPU a shared private one whose children get
        ``TRITON_INTERPRET=1`` before triton is first imported (the interpreter must be
        chosen before ``import triton``, so a zygote that preloaded triton cannot serve)."""
        if device != "cpu":
            return context.sandbox
        return interpreter_sandbox()

    def limits(self, context: EvaluationContext, device: str) -> SandboxLimits:
        s = self.settings
        if device == "cpu":
            return SandboxLimits(timeout_s=context.timeout_s, memory_mb=s.memory_mb,
                                 max_processes=0, threads=s.threads)
        # CUDA reserves huge virtual ranges (no address-space limit) and Triton runs
        # ptxas as a subprocess when it compiles a kernel.
        return SandboxLimits(timeout_s=context.timeout_s, memory_mb=0,
                             max_processes=s.gpu_max_processes, threads=s.threads)

    # ------------------------------------------------------------------ planning
    def plan(self, shape: dict[str, Any], init_seed: int, device: str, timing_sets: int
             ) -> ShapePlan:
        """Draw ``trials + 1`` value sets and build the step sequence:
        fresh(S0), same(S0), refill(S1) ... refill(S[trials-1]), fresh(S[trials])."""
        ref = self.reference
        trials = self.settings.trials
        sets = [ref.inputs(shape, self._rng.getrandbits(62)) for _ in range(trials + 1)]
        order = [("fresh", 0), ("same", 0)]
        order += [("refill", i) for i in range(1, trials)]
        order.append(("fresh", trials))
        model = ref.build(shape, init_seed, device)
        outputs = [ref.forward(model, s, device) for s in sets]
        steps = [{"kind": kind, "inputs": sets[i], "set": i} for kind, i in order]
        expected = [outputs[i] for _, i in order]
        tsets = [ref.inputs(shape, self._rng.getrandbits(62)) for _ in range(timing_sets)]
        texpected = [ref.forward(model, s, device) for s in tsets]
        return ShapePlan(shape_label(shape), shape, ref.init_inputs(shape), steps, expected,
                         tsets, texpected)

    # ------------------------------------------------------------------ evaluate
    def evaluate(self, candidate_path: Path, context: EvaluationContext) -> EvaluationResult:
        s = self.settings
        source = Path(candidate_path).read_text(encoding="utf-8")
        violations = check_source(source, s.gate_spec())
        if violations:
            return EvaluationResult.invalid(
                f"static gate: {violations[0]}",
                static_gate="\n".join(str(v) for v in violations))
        device = self.device()
        init_seed = self._rng.getrandbits(62)
        check_shapes = s.cpu_shapes if device == "cpu" else s.cpu_shapes + s.gpu_shapes
        timed = {shape_label(sh) for sh in (s.cpu_shapes if device == "cpu" else s.gpu_shapes)}
        plans = [self.plan(sh, init_seed, device,
                           s.timing_sets if shape_label(sh) in timed else 0)
                 for sh in check_shapes]
        calls: list[CandidateCall] = []
        for plan in plans:
            calls.append(CandidateCall("load", (CANDIDATE_FILE, s.class_name, plan.init_inputs,
                                                init_seed, device)))
            poison = [[list(t.shape), str(t.dtype)] for t in plan.expected[0]]
            calls.append(CandidateCall("check", (plan.steps, poison)))
            if plan.timing_sets:
                calls.append(self.timing_call(plan, device, strict=False))
        sandbox = self.sandbox_for(context, device)
        result = sandbox.run(HARNESS, calls, self.limits(context, device),
                             files={CANDIDATE_FILE: source.encode()})
        if not result.ok:
            return EvaluationResult.invalid(f"sandbox: {result.reason}",
                                            stderr=result.stderr[-4000:])
        timings: dict[str, dict[str, Any]] = {}
        outcome = self.judge(plans, result, device, timings)
        if not outcome.valid or device == "cpu":
            return outcome
        from evaluators.kernelbench.gpu import score_on_gpu

        timed_plans = [p for p in plans if p.timing_sets]
        return score_on_gpu(self, timed_plans, context, outcome, timings, init_seed, sandbox,
                            source)

    def timing_call(self, plan: ShapePlan, device: str, strict: bool) -> CandidateCall:
        s = self.settings
        if device == "cpu":
            warmup, repeat, flush = 1, s.cpu_timing_repeat, 0
        else:
            warmup, repeat, flush = s.gpu_warmup, s.gpu_repeat * (3 if strict else 1), s.l2_flush_mb
        verify = sorted({0, repeat // 2, repeat - 1})
        return CandidateCall("time_forward", (plan.timing_sets, warmup, repeat, flush, strict, verify))

    def judge(self, plans: list[ShapePlan], result: SandboxResult, device: str,
              timings: dict[str, dict[str, Any]]) -> EvaluationResult:
        """Turn the harness outcomes into a result: correctness first, then timings
        (raw timing data per shape label goes into ``timings``)."""
        s = self.settings
        atol, rtol = s.tolerance(device)
        metrics: dict[str, float] = {"on_gpu": float(device != "cpu"),
                                     "timing_meaningful": float(device != "cpu")}
        report: list[str] = []
        timing_lines: list[str] = []
        max_abs = max_rel = 0.0
        checked = 0
        value_sets = 0
        index = 0
        for plan in plans:
            load, check = result.calls[index], result.calls[index + 1]
            index += 2
            if not load.ok:
                first = load.error.splitlines()[0] if load.error else "error"
                return EvaluationResult.invalid(
                    f"could not import or build {s.class_name} ({plan.label}): {first}",
                    traceback=load.error, stderr=result.stderr[-4000:])
            if not check.ok:
                first = check.error.splitlines()[0] if check.error else "error"
                return EvaluationResult.invalid(f"{plan.label}: {first}", traceback=check.error,
                                                stderr=result.stderr[-4000:])
            verdict: StepVerdict = check_steps(
                plan.steps, plan.expected, check.value, atol, rtol,
                require_triton=s.backend == "triton", extra_allowed_ops=set(s.allowed_aten_ops),
                forbidden_aten_ops=set(s.forbidden_aten_ops), deterministic=s.deterministic)
            max_abs, max_rel = max(max_abs, verdict.max_abs_err), max(max_rel, verdict.max_rel_err)
            if not verdict.ok:
                artifacts = {"correctness": f"shape {plan.label}: {verdict.reason}"}
                if verdict.detail:
                    artifacts["traceback"] = verdict.detail
                return EvaluationResult(valid=False, reason=f"{plan.label}: {verdict.reason}",
                                        metrics={"max_abs_err": max_abs, "max_rel_err": max_rel},
                                        artifacts=artifacts)
            checked += verdict.checked_calls
            value_sets += len(verdict.value_sets)
            report.append(f"shape {plan.label}: {verdict.checked_calls} calls correct "
                          f"(max abs err {verdict.max_abs_err:.3g}, max rel err "
                          f"{verdict.max_rel_err:.3g}; atol={atol:g}, rtol={rtol:g})")
            if plan.timing_sets:
                timing = result.calls[index]
                index += 1
                failure, ms = self.timing_outcome(plan, timing)
                timings[plan.label] = {"value": timing.value, "call_s": sum(timing.times_s)}
                if failure:
                    return EvaluationResult.invalid(f"{plan.label}: {failure}",
                                                    correctness="\n".join(report))
                metrics[f"candidate_ms[{plan.label}]"] = ms
                timing_lines.append(f"shape {plan.label}: median {ms:.4g} ms per call")
        metrics.update({"max_abs_err": max_abs, "max_rel_err": max_rel,
                        "checked_calls": float(checked), "trials": float(value_sets)})
        if device == "cpu":
            timing_lines.append("CPU run (Triton interpreter): timings are not meaningful "
                                "and do not affect the score")
        return EvaluationResult(valid=True, score=1.0, metrics=metrics,
                                artifacts={"correctness": "\n".join(report),
                                           "timing": "\n".join(timing_lines)})

    def timing_outcome(self, plan: ShapePlan, outcome: Any) -> tuple[str, float]:
        """(failure or "", median ms) for a ``time_forward`` outcome; checks the outputs
        of the timed calls the harness kept."""
        if not outcome.ok:
            first = outcome.error.splitlines()[0] if outcome.error else "error"
            return f"forward failed while being timed: {first}", 0.0
        value = outcome.value
        if not isinstance(value, dict) or not value.get("event_ms"):
            return "the timing harness returned no timings", 0.0
        atol, rtol = self.settings.tolerance(self.device())
        sets = len(plan.timing_sets)
        for call_index, outs in dict(value.get("verified", {})).items():
            want = plan.timing_expected[int(call_index) % sets]
            if not isinstance(outs, list) or len(outs) != len(want):
                return f"timed call {call_index} returned a different structure", 0.0
            for got, w in zip(outs, want):
                arr = got.array.reshape(got.shape) if isinstance(got, TensorValue) else got
                if tuple(getattr(got, "shape", ())) != tuple(w.shape):
                    return f"timed call {call_index} returned the wrong shape", 0.0
                failure, _, _ = compare_values(arr, w.numpy(), atol, rtol)
                if failure:
                    return (f"timed call {call_index} returned wrong values ({failure}); "
                            "forward must compute the same thing while it is timed"), 0.0
        return "", float(statistics.median(value["event_ms"]))
