"""Scores how close growth(10) comes to ten years at 7 %."""

import importlib.util


def evaluate(program_path):
    spec = importlib.util.spec_from_file_location("program", program_path)
    program = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(program)
    target = 1.07 ** 10
    gap = abs(float(program.growth(10)) - target)
    return {"combined_score": 1.0 / (1.0 + gap), "gap": gap}
