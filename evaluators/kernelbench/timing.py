"""Timing runs: candidate, reference and calibration model in alternating sandbox processes.

Every time here is the sandbox zygote's, from handing a call to the child to receiving
its complete answer; nothing is measured in the candidate's process. A round runs the
same script (fresh keys) in three processes, in alternating order from round to round
so that drifting machine load moves all three alike: the calibration model (no work,
outputs of the reference's shapes), the reference, the candidate. The candidate's
answers are judged against the reference's of the same round, call by call (every
timed call's output is checked by its keyed sums; a secret share also element by
element). ``torch.compile`` of the reference runs once, on the first round's script
(reported, not scored). Works on any device; the evaluator uses it on CUDA.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from evaluators.kernelbench.script import (
    CALIBRATION_FILE,
    CANDIDATE_FILE,
    REFERENCE,
    Program,
    Script,
    shape_label,
)
from evaluators.kernelbench.settings import KernelBenchSettings
from evaluators.kernelbench.verdict import Rules, judge, reference_problem
from evolve.evaluation.sandbox import Sandbox, SandboxResult
from evolve.evaluation.types import EvaluationContext

CALIBRATION_SOURCE = Path(__file__).with_name("calibration_model.py")

STRICT_FACTOR = 3  # quarantine: three times the calls
STRICT_INSPECT_SHARE = 0.25


class Runs(Protocol):
    """What timing needs of the evaluator (``KernelBenchEvaluator`` is one)."""

    settings: KernelBenchSettings

    def device(self) -> str: ...

    def rules(self, device: str) -> Rules: ...

    def run_program(self, sandbox: Sandbox, context: EvaluationContext, device: str,
                    script: Script, program: Program, init_seed: int,
                    model_source: bytes | None = None) -> SandboxResult: ...


@dataclass
class Measurement:
    """Trusted per-call times (seconds) by program ("candidate", "reference",
    "calibration", "compile") and shape label, and what went wrong."""

    times: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    candidate_error: str = ""
    reference_error: str = ""
    compile_error: str = ""


def step_times(script: Script, result: SandboxResult) -> dict[str, list[float]]:
    """Times of the timed calls after warm-up, per shape label."""
    out: dict[str, list[float]] = {}
    for shape in script.shapes:
        out[shape.label] = [result.calls[step.forward_at].times_s[0] for step in shape.steps
                            if step.mode == "timed" and not step.warmup
                            and step.forward_at < len(result.calls)
                            and result.calls[step.forward_at].times_s]
    return out


def measure(evaluator: Runs, context: EvaluationContext, sandbox: Sandbox,
            shapes: list[dict[str, Any]], device: str, init_seed: int, source: str,
            output_specs: dict[str, list[list[Any]]], strict: bool,
            with_compile: bool = True) -> Measurement:
    """``timing_rounds`` rounds over ``shapes`` (three times the calls when ``strict``);
    ``torch.compile`` of the reference is timed on the first round unless ``strict`` or
    not ``with_compile``."""
    s = evaluator.settings
    repeat = s.gpu_repeat * (STRICT_FACTOR if strict else 1)
    share = STRICT_INSPECT_SHARE if strict else s.inspect_share
    programs: dict[str, tuple[Program, bytes | None]] = {
        "calibration": (Program(CALIBRATION_FILE, "Model", init_args=output_specs),
                        CALIBRATION_SOURCE.read_bytes()),
        "reference": (REFERENCE, None),
        "candidate": (Program(CANDIDATE_FILE, s.class_name), source.encode()),
    }
    found = Measurement(times={name: {} for name in (*programs, "compile")})
    rules = evaluator.rules(device)
    for number in range(s.timing_rounds):
        script = Script(s.inspect_elements)
        for shape in shapes:
            script.add_shape(shape_label(shape), shape, 0, timed=repeat, warmup=s.gpu_warmup,
                             inspect_share=share)
        order = list(programs) if number % 2 == 0 else list(programs)[::-1]
        results: dict[str, SandboxResult] = {}
        for name in order:
            program, model = programs[name]
            results[name] = evaluator.run_program(sandbox, context, device, script, program,
                                                  init_seed, model)
        for name in ("reference", "calibration"):
            problem = reference_problem(script, results[name])
            if problem:
                found.reference_error = f"{name}: {problem}"
                return found
        cand = results["candidate"]
        if not cand.ok:
            found.candidate_error = f"timing run: sandbox: {cand.reason}"
            return found
        verdict = judge(script, cand, results["reference"], rules)
        if not verdict.ok:
            found.candidate_error = f"timing run: {verdict.reason}"
            return found
        for name, result in results.items():
            for label, times in step_times(script, result).items():
                found.times[name].setdefault(label, []).extend(times)
        if number == 0 and with_compile and not strict:
            compiled = evaluator.run_program(sandbox, context, device, script,
                                             Program(REFERENCE.model_file, "Model", True),
                                             init_seed)
            problem = reference_problem(script, compiled)
            if problem:
                found.compile_error = problem
            else:
                found.times["compile"] = step_times(script, compiled)
    return found
