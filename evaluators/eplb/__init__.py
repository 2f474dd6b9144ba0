"""MoE expert placement (EPLB): sandboxed candidate balancer, scored by simulators.eplb."""

from __future__ import annotations

from evaluators.eplb.evaluator import EPLBEvaluator

__all__ = ["EPLBEvaluator"]
