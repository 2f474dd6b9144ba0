"""Evaluator registry: built-in names, ``module:attr`` paths and entry points."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

from evolve.errors import UserError
from evolve.evaluation.types import Evaluator
from evolve.registry import Registry

EVALUATORS: Registry[Evaluator] = Registry("evaluator", entry_point_group="evolve.evaluators")
EVALUATORS.register("eplb", "evaluators.eplb:EPLBEvaluator")
EVALUATORS.register("cloud_transfer", "evaluators.cloud_transfer:CloudTransferEvaluator")
EVALUATORS.register("kernelbench", "evaluators.kernelbench:KernelBenchEvaluator")
EVALUATORS.register("circle_packing", "evaluators.circle_packing:CirclePackingEvaluator")


def _accepted(factory: Any) -> tuple[list[str], bool]:
    """Keyword names the factory accepts (besides problem_dir), and whether it takes **kw."""
    try:
        params = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return [], True
    names = [p.name for p in params
             if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name != "problem_dir"]
    return names, any(p.kind is p.VAR_KEYWORD for p in params)


def check_evaluator(name: str, args: dict[str, Any], source: str = "") -> Callable[..., Evaluator]:
    """Resolve ``name`` and check ``args`` against its factory without building it (so a
    typo is reported before a run starts). ``source`` (e.g. the problem.yaml path)
    prefixes the key in error messages."""
    prefix = f"{source}: " if source else ""
    factory = EVALUATORS.resolve(name, f"{prefix}evaluator")
    accepted, takes_any = _accepted(factory)
    if not takes_any:
        for key in args:
            if key not in accepted:
                raise UserError(
                    f"unknown argument '{key}' for evaluator '{name}' "
                    f"(accepted: {', '.join(accepted) or 'none'})", f"{prefix}evaluator_args.{key}")
    return factory


def create_evaluator(name: str, problem_dir: Path, args: dict[str, Any]) -> Evaluator:
    """Build an evaluator: ``factory(problem_dir=problem_dir, **args)``."""
    factory = check_evaluator(name, args)
    return factory(problem_dir=Path(problem_dir), **args)
