"""Evaluators written for other frameworks (OpenEvolve, ShinkaEvolve), run unchanged in
compatibility mode: inside the sandbox, beside the candidate they score."""

from evaluators.foreign.openevolve import OpenEvolveEvaluator
from evaluators.foreign.shinka import ShinkaEvaluator

__all__ = ["OpenEvolveEvaluator", "ShinkaEvaluator"]
