"""Helpers for the kernelbench tests: evaluators per shipped problem and degenerate candidates."""

from __future__ import annotations

from pathlib import Path

from evaluators.kernelbench import KernelBenchEvaluator
from evolve.config import read_yaml
from evolve.evaluation.sandbox import Sandbox
from evolve.evaluation.types import EvaluationContext, EvaluationResult

REPO = Path(__file__).resolve().parent.parent
KERNEL_PROBLEMS = REPO / "problems" / "kernels"
CANDIDATES = Path(__file__).resolve().parent / "kernel_candidates"
PROBLEM_NAMES = ("vector_add", "softmax", "layernorm", "rmsnorm", "gelu", "matmul_bias_gelu",
                 "cross_entropy", "causal_attention")
# The reference's output shape as an expression of forward's arguments.
OUTPUT_SHAPES = {
    "vector_add": "args[0].shape", "softmax": "args[0].shape", "layernorm": "args[0].shape",
    "rmsnorm": "args[0].shape", "gelu": "args[0].shape",
    "matmul_bias_gelu": "(args[0].shape[0], args[1].shape[1])", "cross_entropy": "()",
    "causal_attention": "args[0].shape",
}

_EVALUATORS: dict[str, KernelBenchEvaluator] = {}


def evaluator_for(name: str, **overrides: object) -> KernelBenchEvaluator:
    """The evaluator of a shipped problem, built from its problem.yaml (forced onto CPU)."""
    args = dict(read_yaml(KERNEL_PROBLEMS / name / "problem.yaml")["evaluator_args"])
    args.update(device="cpu", **overrides)
    if overrides:
        return KernelBenchEvaluator(KERNEL_PROBLEMS / name, **args)
    if name not in _EVALUATORS:
        _EVALUATORS[name] = KernelBenchEvaluator(KERNEL_PROBLEMS / name, **args)
    return _EVALUATORS[name]


def context_for(name: str, sandbox: Sandbox) -> EvaluationContext:
    return EvaluationContext(problem_dir=KERNEL_PROBLEMS / name, sandbox=sandbox, timeout_s=120)


def evaluate(name: str, candidate: Path, sandbox: Sandbox, **overrides: object) -> EvaluationResult:
    return evaluator_for(name, **overrides).evaluate(candidate, context_for(name, sandbox))


def degenerate_candidate(tmp: Path, problem: str, mode: str) -> Path:
    """A candidate with a real Triton kernel whose output is zeros, a constant or the input."""
    text = (CANDIDATES / "degenerate.py.tmpl").read_text()
    text = text.replace("MODE", mode).replace("OUT_SHAPE", OUTPUT_SHAPES[problem])
    path = tmp / f"{problem}_{mode}.py"
    path.write_text(text)
    return path
