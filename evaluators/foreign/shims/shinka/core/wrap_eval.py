"""``run_shinka_eval``: run a program's experiment function, validate, aggregate, and
write ``correct.json`` and ``metrics.json`` the way ShinkaEvolve's evaluators expect.

Runs are made one after the other in this process (``run_workers`` and early stopping
are accepted; every requested run is made).
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import pickle
import statistics
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

DEFAULT_METRICS_ON_ERROR: dict[str, Any] = {
    "combined_score": 0.0,
    "execution_time_mean": 0.0,
    "execution_time_std": 0.0,
    "num_successful_runs": 0,
    "num_valid_runs": 0,
    "num_invalid_runs": 0,
    "all_validation_errors": [],
}


def load_program(program_path: str) -> ModuleType:
    """Import the program file as module ``program``."""
    spec = importlib.util.spec_from_file_location("program", program_path)
    if spec is None or spec.loader is None:
        raise ImportError(f"Could not load program at {program_path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def save_json_results(results_dir: str, metrics: dict[str, Any], correct: bool,
                      error: str | None = None, verbose: bool = True) -> None:
    os.makedirs(results_dir, exist_ok=True)
    with open(os.path.join(results_dir, "correct.json"), "w") as fh:
        json.dump({"correct": correct, "error": error}, fh, indent=4)
    with open(os.path.join(results_dir, "metrics.json"), "w") as fh:
        json.dump(metrics, fh, indent=4)
    if verbose:
        print(f"Results saved to {results_dir}")


def run_shinka_eval(
    program_path: str,
    results_dir: str,
    experiment_fn_name: str,
    num_runs: int,
    get_experiment_kwargs: Callable[[int], dict[str, Any]] | None = None,
    aggregate_metrics_fn: Callable[[list[Any]], dict[str, Any]] | None = None,
    validate_fn: Callable[[Any], tuple[bool, str | None]] | None = None,
    plotting_fn: Callable[[Any], list[Any]] | None = None,
    default_metrics_on_error: dict[str, Any] | None = None,
    early_stop_method: Any = None,
    early_stop_threshold: float | None = None,
    early_stop_score_fn: Callable[[Any], float] | None = None,
    early_stop_kwargs: dict[str, Any] | None = None,
    run_workers: int = 1,
    max_workers_cap: int | None = None,
    verbose: bool | None = None,
) -> tuple[dict[str, Any], bool, str | None]:
    """Returns ``(metrics, correct, first error message)`` and writes both JSON files."""
    if verbose is None:
        verbose = os.environ.get("SHINKA_EVAL_VERBOSE", "1") != "0"
    correct = True
    first_error: str | None = None
    errors: list[str] = []
    valid_runs = invalid_runs = 0
    results: list[Any] = []
    times: list[float] = []
    try:
        module = load_program(program_path)
        experiment = getattr(module, experiment_fn_name, None)
        if experiment is None:
            raise AttributeError(
                f"Experiment function '{experiment_fn_name}' not found in {program_path}")
        for index in range(num_runs):
            kwargs = get_experiment_kwargs(index) if get_experiment_kwargs else {"seed": index + 1}
            start = time.perf_counter()
            result = experiment(**kwargs)
            times.append(time.perf_counter() - start)
            results.append(result)
            if validate_fn is not None:
                ok, message = validate_fn(result)
                if ok:
                    valid_runs += 1
                else:
                    invalid_runs += 1
                    correct = False
                    if message:
                        first_error = first_error or f"Validation failed: {message}"
                        if message not in errors:
                            errors.append(message)
        if aggregate_metrics_fn is not None:
            metrics = aggregate_metrics_fn(results)
        else:
            metrics = {"num_successful_runs": len(results),
                       "first_run_result_type": str(type(results[0])) if results else "N/A",
                       "raw_results_preview": str(results[:2]) if results else "N/A"}
        metrics["execution_time_mean"] = statistics.fmean(times) if times else 0.0
        metrics["execution_time_std"] = statistics.pstdev(times) if times else 0.0
        if validate_fn is not None:
            metrics["num_valid_runs"] = valid_runs
            metrics["num_invalid_runs"] = invalid_runs
            metrics["all_validation_errors"] = errors
        score = metrics.get("combined_score")
        if isinstance(score, (int, float)) and not math.isfinite(score):
            correct = False
            first_error = first_error or f"combined_score is {score}"
    except Exception as exc:  # noqa: BLE001 - the candidate's failure, written to the files
        print(f"Evaluation error: {exc}")
        given = default_metrics_on_error or {}
        metrics = {key: given.get(key, value) for key, value in DEFAULT_METRICS_ON_ERROR.items()}
        if validate_fn is not None:
            metrics.setdefault("num_invalid_runs", len(results))
            metrics.setdefault("all_validation_errors", [str(exc)])
        first_error = str(exc)
        correct = False
    if "extra_data" in metrics:
        os.makedirs(results_dir, exist_ok=True)
        with open(os.path.join(results_dir, "extra.pkl"), "wb") as fh:
            pickle.dump(metrics.pop("extra_data"), fh)
    save_json_results(results_dir, metrics, correct, first_error, verbose=verbose)
    return metrics, correct, first_error
