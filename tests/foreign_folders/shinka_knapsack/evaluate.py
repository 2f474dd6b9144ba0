"""ShinkaEvolve evaluator: main(program_path, results_dir) writes metrics.json and correct.json."""

import argparse

from evaluate_data import ITEMS
from shinka.core import run_shinka_eval


def validate(chosen):
    if not isinstance(chosen, list) or len(set(chosen)) != len(chosen):
        return False, "expected a list of distinct item indices"
    if any(not isinstance(i, int) or not 0 <= i < len(ITEMS["items"]) for i in chosen):
        return False, "an index is not an item"
    weight = sum(ITEMS["items"][i][1] for i in chosen)
    if weight > ITEMS["capacity"]:
        return False, f"weight {weight} exceeds the capacity {ITEMS['capacity']}"
    return True, None


def aggregate(results):
    value = sum(ITEMS["items"][i][0] for i in results[0])
    weight = sum(ITEMS["items"][i][1] for i in results[0])
    return {
        "combined_score": value / ITEMS["optimum"],
        "public": {"value": value, "weight": weight, "chosen": str(sorted(results[0]))},
        "private": {"optimum": ITEMS["optimum"]},
        "text_feedback": f"value {value} of a possible {ITEMS['optimum']}, weight {weight}",
    }


def main(program_path, results_dir):
    run_shinka_eval(
        program_path=program_path,
        results_dir=results_dir,
        experiment_fn_name="run_experiment",
        num_runs=2,
        get_experiment_kwargs=lambda index: {"seed": index + 1},
        validate_fn=validate,
        aggregate_metrics_fn=aggregate,
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--program_path", default="initial.py")
    parser.add_argument("--results_dir", default="results")
    args = parser.parse_args()
    main(args.program_path, args.results_dir)
