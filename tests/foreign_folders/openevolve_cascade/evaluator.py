"""OpenEvolve evaluator with a cascade: a cheap stage with 10 terms, then 2000 terms."""

import importlib.util
import math


def _load(program_path):
    spec = importlib.util.spec_from_file_location("program", program_path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _error(program_path, terms):
    return abs(float(_load(program_path).estimate_pi(terms)) - math.pi)


def evaluate_stage1(program_path):
    error = _error(program_path, 10)
    return {"combined_score": 1.0 / (1.0 + 100.0 * error), "stage1_error": error}


def evaluate_stage2(program_path):
    error = _error(program_path, 2000)
    return {"combined_score": 1.0 / (1.0 + 100.0 * error), "stage2_error": error,
            "terms": 2000}


def evaluate(program_path):
    return evaluate_stage2(program_path)
