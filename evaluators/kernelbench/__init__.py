"""kernelbench: Triton/PyTorch kernels checked against a PyTorch reference and timed.

See docs/problems/kernelbench.md. The registry name is ``kernelbench``.
"""

from __future__ import annotations

from evaluators.kernelbench.evaluator import KernelBenchEvaluator

__all__ = ["KernelBenchEvaluator"]
