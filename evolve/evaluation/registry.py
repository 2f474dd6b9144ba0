"""Evaluator registry: built-in names, ``module:attr`` paths and entry points."""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from evolve.errors import UserError, did_you_mean
from evolve.evaluation.types import Evaluator
from evolve.registry import Registry

EVALUATORS: Registry[Evaluator] = Registry("evaluator", entry_point_group="evolve.evaluators")
EVALUATORS.register("eplb", "evaluators.eplb:EPLBEvaluator")
EVALUATORS.register("cloud_transfer", "evaluators.cloud_transfer:CloudTransferEvaluator")
EVALUATORS.register("kernelbench", "evaluators.kernelbench:KernelBenchEvaluator")
EVALUATORS.register("circle_packing", "evaluators.circle_packing:CirclePackingEvaluator")
EVALUATORS.register("txn_scheduling", "evaluators.txn_scheduling:TxnSchedulingEvaluator")
EVALUATORS.register("prism", "evaluators.prism:PrismEvaluator")
EVALUATORS.register("telemetry_repair", "evaluators.telemetry_repair:TelemetryRepairEvaluator")
EVALUATORS.register("cant_be_late", "evaluators.cant_be_late:CantBeLateEvaluator")
EVALUATORS.register("cant_be_late_multi", "evaluators.cant_be_late_multi:CantBeLateMultiEvaluator")
EVALUATORS.register("llm_sql", "evaluators.llm_sql:LLMSQLEvaluator")
# Evaluators of other frameworks, run beside the candidate (compatibility mode).
EVALUATORS.register("openevolve", "evaluators.foreign:OpenEvolveEvaluator")
EVALUATORS.register("shinka", "evaluators.foreign:ShinkaEvaluator")


def _accepted(factory: Any) -> tuple[list[str], bool]:
    """Keyword names the factory accepts (besides problem_dir), and whether it takes **kw."""
    try:
        params = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return [], True
    names = [p.name for p in params
             if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name != "problem_dir"]
    return names, any(p.kind is p.VAR_KEYWORD for p in params)


def problem_module_path(name: str, problem_dir: Path | None) -> None:
    """Make a problem folder's own modules importable, so ``evaluator: my_eval:MyEvaluator``
    finds ``my_eval.py`` (or a ``my_eval/`` package) next to problem.yaml.

    The folder is appended to ``sys.path`` (installed packages and the standard library
    are never shadowed) and only when the evaluator's top-level module is in it.
    """
    if problem_dir is None or ":" not in name:
        return
    top = name.partition(":")[0].split(".")[0]
    folder = Path(problem_dir).resolve()
    if not ((folder / f"{top}.py").is_file() or (folder / top).is_dir()):
        return
    if str(folder) not in sys.path:
        sys.path.append(str(folder))


def check_evaluator(name: str, args: dict[str, Any], source: str = "",
                    problem_dir: Path | None = None) -> Callable[..., Evaluator]:
    """Resolve ``name`` and check ``args`` against its factory without building it (so a
    typo is reported before a run starts). ``source`` (e.g. the problem.yaml path)
    prefixes the key in error messages; ``problem_dir`` is where a problem's own
    evaluator module may live."""
    prefix = f"{source}: " if source else ""
    problem_module_path(name, problem_dir)
    factory = EVALUATORS.resolve(name, f"{prefix}evaluator")
    accepted, takes_any = _accepted(factory)
    if not takes_any:
        renamed: dict[str, str] = getattr(factory, "RENAMED_ARGS", {})  # old key -> advice
        for key in args:
            if key in renamed and key not in accepted:
                raise UserError(f"argument '{key}' of evaluator '{name}' was replaced: use "
                                f"{renamed[key]}", f"{prefix}evaluator_args.{key}")
            if key not in accepted:
                raise UserError(
                    f"unknown argument '{key}' for evaluator '{name}'{did_you_mean(key, accepted)} "
                    f"(accepted: {', '.join(accepted) or 'none'})", f"{prefix}evaluator_args.{key}")
    return factory


def create_evaluator(name: str, problem_dir: Path, args: dict[str, Any]) -> Evaluator:
    """Build an evaluator: ``factory(problem_dir=problem_dir, **args)``.

    Any failure is a UserError: the evaluator's own argument checks raise one naming the
    key; anything else it raises is reported against ``evaluator_args``.
    """
    factory = check_evaluator(name, args, problem_dir=Path(problem_dir))
    try:
        return factory(problem_dir=Path(problem_dir), **args)
    except UserError:
        raise
    except Exception as exc:  # noqa: BLE001 - e.g. int("abc") on a bad argument value
        raise UserError(f"evaluator '{name}' could not be created: {type(exc).__name__}: {exc}",
                        "evaluator_args") from None
