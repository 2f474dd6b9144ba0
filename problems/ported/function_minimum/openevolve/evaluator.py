"""OpenEvolve form: imports the program, calls search(seed) for five seeds and scores how
close f gets to its minimum. It runs in the candidate's process, so a candidate can
change what it computes (see ../README.md)."""

import importlib.util
import math

MINIMUM = -1.0
SEEDS = range(5)


def f(x, y):
    return 0.1 * ((x - 1) ** 2 + (y + 2) ** 2) - math.cos(2 * (x - 1)) * math.cos(2 * (y + 2))


def evaluate(program_path):
    spec = importlib.util.spec_from_file_location("program", program_path)
    program = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(program)
    gaps = []
    for seed in SEEDS:
        x, y = program.search(seed)
        if not (-5 <= x <= 5 and -5 <= y <= 5):
            return {"combined_score": 0.0, "error": f"search({seed}) left the square: {(x, y)}"}
        gaps.append(f(x, y) - MINIMUM)
    mean_gap = sum(gaps) / len(gaps)
    return {"combined_score": 1.0 / (1.0 + mean_gap), "mean_gap": mean_gap,
            "worst_gap": max(gaps)}
