"""The sandbox program of the foreign evaluators: imports an OpenEvolve or ShinkaEvolve
evaluator inside the sandbox child and calls it on the candidate next to it.

Standard library only (the child's file view hides the project tree). Work dir layout:
``task/`` holds the problem folder's files (the evaluator, its data and helpers),
``candidate/`` the candidate program, ``shims/`` small stand-ins for ``openevolve`` and
``shinka`` used only when those packages are not installed. The foreign evaluator imports
and runs the candidate in this process, so everything returned here may have been forged
by the candidate; the trusted side checks its shape and bounds and marks the result
(compatibility mode).
"""

from __future__ import annotations

import importlib.util
import json
import os
import runpy
import sys
import traceback
from types import ModuleType
from typing import Any

WORK = os.path.dirname(os.path.abspath(__file__))
TASK = os.path.join(WORK, "task")
SHIMS = os.path.join(WORK, "shims")
TEXT_CHARS = 65_536  # per text value
JSON_BYTES = 8 * 1024 * 1024  # per results file of ShinkaEvolve


def _prepare() -> None:
    """The evaluator's folder is the working directory and comes first on the import path
    (as when OpenEvolve or ShinkaEvolve run it); the stand-ins come last."""
    os.chdir(TASK)
    if TASK not in sys.path:
        sys.path.insert(0, TASK)
    if SHIMS not in sys.path:
        sys.path.append(SHIMS)


def _load(path: str, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, os.path.join(WORK, path))
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {os.path.basename(path)}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _text(value: Any) -> str:
    try:
        if isinstance(value, bytes):
            text = value.decode("utf-8", errors="replace")
        elif isinstance(value, str):
            text = value
        else:
            text = json.dumps(value, default=str) if isinstance(value, (list, dict)) else str(value)
    except Exception:  # noqa: BLE001 - a value whose __str__ fails
        text = f"<unprintable {type(value).__name__}>"
    return str(text[:TEXT_CHARS])


def _error(exc: BaseException) -> dict[str, str]:
    try:
        head = f"{type(exc).__name__}: {exc}"
    except Exception:  # noqa: BLE001
        head = type(exc).__name__
    return {"error": _text(" ".join(head.split())),
            "traceback": _text("".join(traceback.format_exception(exc))[-8000:])}


def _numeric(key: str, value: Any) -> float | None:
    """OpenEvolve counts int and float values (bools too) as metrics; ``combined_score``
    is read with float() whatever its type."""
    if isinstance(value, (int, float)):
        return float(value)
    if key == "combined_score":
        try:
            return float(value)
        except (TypeError, ValueError, OverflowError):
            return None
    return None


def _reduce(raw: Any) -> dict[str, Any]:
    """A dict of metrics, or an object with ``metrics`` (and ``artifacts``), as plain data."""
    if isinstance(raw, dict):
        metrics, artifacts = raw, {}
    elif isinstance(getattr(raw, "metrics", None), dict):
        metrics, artifacts = raw.metrics, getattr(raw, "artifacts", None) or {}
    else:
        return {"unusable": type(raw).__name__}
    numbers: dict[str, float] = {}
    texts: dict[str, str] = {}
    for key, value in list(metrics.items()):
        number = _numeric(str(key), value)
        if number is None:
            texts[_text(key)] = _text(value)
        else:
            numbers[_text(key)] = number
    kept = {_text(k): _text(v) for k, v in list(dict(artifacts).items())}
    return {"numbers": numbers, "texts": texts, "artifacts": kept}


def passes(numbers: dict[str, float], threshold: float) -> bool:
    """OpenEvolve's cascade test: combined_score, else the mean of the metrics but 'error'.
    The trusted side applies the same test again to what comes back."""
    if not numbers:
        return False
    if "combined_score" in numbers:
        return numbers["combined_score"] >= threshold
    values = [v for k, v in numbers.items() if k != "error"]
    return bool(values) and sum(values) / len(values) >= threshold


def openevolve(evaluator: str, program: str, functions: list[str],
               thresholds: list[float]) -> dict[str, Any]:
    """Call ``evaluate`` (or the cascade stages in order) on ``program``; a stage runs only
    when the merged metrics so far reach its threshold, as OpenEvolve does."""
    _prepare()
    module = _load(evaluator, "evaluation_module")
    path = os.path.join(WORK, program)
    stages: list[dict[str, Any]] = []
    merged: dict[str, float] = {}
    for index, name in enumerate(functions):
        if index and (index > len(thresholds) or not passes(merged, thresholds[index - 1])):
            break
        function = getattr(module, name, None)
        if not callable(function):
            stages.append({"function": name, "missing": True})
            break
        try:
            stage = _reduce(function(path))
        except BaseException as exc:  # noqa: BLE001 - reported as the candidate's failure
            stages.append({"function": name, **_error(exc)})
            break
        stages.append({"function": name, **stage})
        if "unusable" in stage:
            break
        merged.update({k: v for k, v in stage["numbers"].items() if k != "error"})
    return {"stages": stages}


def _read_json(path: str) -> dict[str, Any]:
    if not os.path.isfile(path):
        return {"found": False}
    try:
        with open(path, "rb") as fh:
            data = fh.read(JSON_BYTES + 1)
        if len(data) > JSON_BYTES:
            return {"found": True, "problem": f"larger than {JSON_BYTES} bytes"}
        return {"found": True, "value": json.loads(data)}
    except Exception as exc:  # noqa: BLE001 - malformed JSON is reported, not raised
        return {"found": True, "problem": _text(f"{type(exc).__name__}: {exc}")}


def shinka(evaluator: str, program: str, results: str) -> dict[str, Any]:
    """Call ``main(program_path, results_dir)`` of ``evaluate.py`` (or run the file as a
    script with ``--program_path``/``--results_dir``) and read what it wrote."""
    _prepare()
    results_dir = os.path.join(WORK, results)
    os.makedirs(results_dir, exist_ok=True)
    path = os.path.join(WORK, program)
    try:
        module = _load(evaluator, "evaluate")
        main = getattr(module, "main", None)
        if callable(main):
            main(path, results_dir)
        else:
            sys.argv = [evaluator, "--program_path", path, "--results_dir", results_dir]
            runpy.run_path(os.path.join(WORK, evaluator), run_name="__main__")
    except SystemExit as exc:
        if exc.code not in (None, 0):
            return {"exit": _text(exc.code)}
    except BaseException as exc:  # noqa: BLE001 - reported as the candidate's failure
        return _error(exc)
    return {"metrics": _read_json(os.path.join(results_dir, "metrics.json")),
            "correct": _read_json(os.path.join(results_dir, "correct.json"))}
