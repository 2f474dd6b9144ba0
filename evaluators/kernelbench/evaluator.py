"""KernelBench-style evaluator: candidate ``ModelNew`` checked against the reference ``Model``.

Flow of one evaluation (trusted side):
1. static gate on the source text (``static_gate.py``), a fast first filter;
2. a :class:`~evaluators.kernelbench.script.Script` of calls with fresh secret keys;
3. the reference runs the script in its own sandbox process, then the candidate does
   (``harness.py`` is the program; inputs are built inside each process from the keys);
4. the answers are compared call by call (``verdict.py``); the times are the sandbox
   zygote's, around each call.
On CUDA the score is the speedup over eager PyTorch, measured in alternating timing
processes (``timing.py``, ``gpu.py``); on CPU (Triton interpreter) a correct candidate
scores 1.0 and its trusted times are reported, not scored.
"""

from __future__ import annotations

import random
import statistics
import threading
from pathlib import Path
from typing import Any

from evaluators.kernelbench.gpu import score_on_gpu
from evaluators.kernelbench.reference import Reference
from evaluators.kernelbench.script import (
    CALIBRATION_FILE,
    CANDIDATE_FILE,
    REFERENCE,
    REFERENCE_FILE,
    Program,
    Script,
    shape_label,
)
from evaluators.kernelbench.settings import KernelBenchSettings, parse_settings
from evaluators.kernelbench.static_gate import check_source
from evaluators.kernelbench.verdict import Rules, Verdict, judge, reference_problem
from evolve.evaluation.sandbox import Sandbox, SandboxLimits, SandboxResult
from evolve.evaluation.types import EvaluationContext, EvaluationResult

HERE = Path(__file__).parent
HARNESS = HERE / "harness.py"
__all__ = ["CALIBRATION_FILE", "CANDIDATE_FILE", "CPU_NOTE", "REFERENCE_FILE",
           "KernelBenchEvaluator", "interpreter_sandbox", "shape_label"]
_INTERPRETER_SANDBOX: list[Sandbox] = []
_INTERPRETER_LOCK = threading.Lock()

CPU_NOTE = ("no GPU: kernels run in the Triton interpreter on CPU, so timing is not scored; "
            "every correct kernel scores 1.0")


def interpreter_sandbox() -> Sandbox:
    """One sandbox per process for Triton-interpreter runs (its zygote preloads torch, not
    triton; each child imports triton after ``TRITON_INTERPRET=1`` is in its environment)."""
    with _INTERPRETER_LOCK:
        if not _INTERPRETER_SANDBOX:
            _INTERPRETER_SANDBOX.append(Sandbox(preload=("numpy", "torch"),
                                                env={"TRITON_INTERPRET": "1"}))
        return _INTERPRETER_SANDBOX[0]


def median_ms(times_s: list[float]) -> float:
    return float(statistics.median(times_s)) * 1e3 if times_s else float("nan")


class KernelBenchEvaluator:
    """Evaluator factory: ``KernelBenchEvaluator(problem_dir, **evaluator_args)``."""

    def __init__(self, problem_dir: Path, **args: Any) -> None:
        self.problem_dir = Path(problem_dir)
        self.settings: KernelBenchSettings = parse_settings(args)
        self.reference = Reference(self.problem_dir / self.settings.reference,
                                   "evaluator_args.reference")
        for key, shapes in (("shapes.cpu", self.settings.cpu_shapes),
                            ("shapes.gpu", self.settings.gpu_shapes)):
            for shape in shapes:
                self.reference.check_shape(shape, f"evaluator_args.{key}")
        self._rng = random.SystemRandom()  # hidden seeds: never derived from the run seed
        self._scales: dict[str, float] | None = None

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

    def rules(self, device: str) -> Rules:
        s = self.settings
        atol, rtol = s.tolerance(device)
        return Rules(atol, rtol, require_triton=s.backend == "triton",
                     allowed_ops=Rules.allowed_ops | frozenset(s.allowed_aten_ops),
                     forbidden_ops=frozenset(s.forbidden_aten_ops),
                     deterministic=s.deterministic, min_correlation=s.min_correlation,
                     class_name=s.class_name)

    def run_program(self, sandbox: Sandbox, context: EvaluationContext, device: str,
                    script: Script, program: Program, init_seed: int,
                    model_source: bytes | None = None) -> SandboxResult:
        """One sandbox process of ``program`` answering ``script``."""
        files = {"kb_inputs.py": (HERE / "inputs.py").read_bytes(),
                 "kb_sums.py": (HERE / "sums.py").read_bytes(),
                 REFERENCE_FILE: self.reference.source.encode()}
        if model_source is not None:
            files[program.model_file] = model_source
        return sandbox.run(HARNESS, script.calls(program, init_seed, device),
                           self.limits(context, device), files=files)

    def element_count(self, shape: dict[str, Any], require_model: bool = False) -> int | None:
        """Elements of the reference's inputs and parameters at ``shape``, counted on the
        meta device (nothing is allocated); None when it cannot be sized at ``shape``."""
        return self.reference.element_count(shape, require_model)

    def size_scales(self) -> dict[str, float]:
        """Per CPU shape: its elements (inputs and parameters) over the largest GPU
        shape's, counted on the meta device; empty without GPU shapes."""
        if self._scales is None:
            self._scales = {}
            full = [self.element_count(sh) for sh in self.settings.gpu_shapes]
            largest = max((n for n in full if n), default=0)
            for shape in self.settings.cpu_shapes:
                count = self.element_count(shape)
                if largest and count:
                    self._scales[shape_label(shape)] = count / largest
        return self._scales

    # ------------------------------------------------------------------ evaluate
    def evaluate(self, candidate_path: Path, context: EvaluationContext) -> EvaluationResult:
        result = self._evaluate(candidate_path, context)
        if self.device() == "cpu":  # said once per run, not per candidate (run_notes)
            result.run_notes.append(CPU_NOTE)
        return result

    def _evaluate(self, candidate_path: Path, context: EvaluationContext) -> EvaluationResult:
        s = self.settings
        source = Path(candidate_path).read_text(encoding="utf-8")
        violations = check_source(source, s.gate_spec())
        if violations:
            return EvaluationResult.invalid(
                f"static gate: {violations[0]}",
                static_gate="\n".join(str(v) for v in violations))
        device = self.device()
        init_seed = self._rng.getrandbits(62)
        script = Script(s.inspect_elements)
        cpu = device == "cpu"
        for shape in s.cpu_shapes if cpu else s.cpu_shapes + s.gpu_shapes:
            script.add_shape(shape_label(shape), shape, s.trials,
                             timed=s.cpu_timing_repeat if cpu else 0, warmup=1 if cpu else 0,
                             inspect_share=s.inspect_share)
        sandbox = self.sandbox_for(context, device)
        ref = self.run_program(sandbox, context, device, script, REFERENCE, init_seed)
        problem = reference_problem(script, ref)
        if problem:
            return EvaluationResult.invalid(f"the reference failed: {problem}",
                                            stderr=ref.stderr[-4000:])
        cand = self.run_program(sandbox, context, device, script,
                                Program(CANDIDATE_FILE, s.class_name), init_seed, source.encode())
        if not cand.ok:
            return EvaluationResult.invalid(f"sandbox: {cand.reason}", stderr=cand.stderr[-4000:])
        verdict = judge(script, cand, ref, self.rules(device))
        if not verdict.ok:
            return self.rejected(verdict, cand)
        outcome = self.accepted(verdict, device)
        if cpu:
            return outcome
        return score_on_gpu(self, context, sandbox, outcome, verdict, init_seed, source)

    def rejected(self, verdict: Verdict, cand: SandboxResult) -> EvaluationResult:
        artifacts = {"correctness": "\n".join([*verdict.lines, verdict.reason])}
        if verdict.detail:
            artifacts["traceback"] = verdict.detail
        if cand.stderr:
            artifacts["stderr"] = cand.stderr[-4000:]
        return EvaluationResult(valid=False, reason=verdict.reason,
                                metrics={"max_abs_err": verdict.max_abs_err,
                                         "max_rel_err": verdict.max_rel_err},
                                artifacts=artifacts)

    def accepted(self, verdict: Verdict, device: str) -> EvaluationResult:
        """The result of a correct candidate; on CPU with its trusted times (not scored)."""
        metrics: dict[str, float] = {
            "on_gpu": float(device != "cpu"), "timing_meaningful": float(device != "cpu"),
            "max_abs_err": verdict.max_abs_err, "max_rel_err": verdict.max_rel_err,
            "checked_calls": float(verdict.checked_calls),
            "inspected_calls": float(verdict.inspected_calls),
            "trials": float(verdict.value_sets)}
        timing: list[str] = []
        if device == "cpu":
            for label, scale in self.size_scales().items():
                metrics[f"size_scale[{label}]"] = scale
            for label, times in verdict.times.items():
                cand_ms, ref_ms = median_ms(times), median_ms(verdict.reference_times[label])
                metrics[f"candidate_ms[{label}]"] = cand_ms
                metrics[f"eager_ms[{label}]"] = ref_ms
                timing.append(f"shape {label}: median {cand_ms:.4g} ms per call (reference "
                              f"{ref_ms:.4g} ms), measured by the sandbox around each call")
            timing.append("CPU run (Triton interpreter): timings are not meaningful and do "
                          "not affect the score")
        return EvaluationResult(valid=True, score=1.0, metrics=metrics,
                                artifacts={"correctness": "\n".join(verdict.lines),
                                           "timing": "\n".join(timing)})
