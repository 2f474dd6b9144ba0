"""OpenEvolve evaluator that runs the program in a separate process (as many do) on the
cases in data/cases.json, and returns an EvaluationResult with artifacts."""

import json
import os
import subprocess
import sys
import tempfile

from openevolve.evaluation_result import EvaluationResult

HERE = os.path.dirname(os.path.abspath(__file__))
RUNNER = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("program", sys.argv[1])
program = importlib.util.module_from_spec(spec)
spec.loader.exec_module(program)
with open(sys.argv[2]) as fh:
    cases = json.load(fh)
print(json.dumps([program.sort_numbers(case) for case in cases]))
"""


def evaluate(program_path):
    cases_path = os.path.join(HERE, "data", "cases.json")
    with open(cases_path) as fh:
        cases = json.load(fh)
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as fh:
        fh.write(RUNNER)
        runner = fh.name
    try:
        done = subprocess.run([sys.executable, runner, program_path, cases_path],
                              capture_output=True, text=True, timeout=30)
    finally:
        os.unlink(runner)
    if done.returncode != 0:
        return EvaluationResult(metrics={"combined_score": 0.0, "sorted_fraction": 0.0,
                                         "error": "the program failed"},
                                artifacts={"stderr": done.stderr[-2000:]})
    outputs = json.loads(done.stdout)
    right = [out == sorted(case) for out, case in zip(outputs, cases)]
    fraction = sum(right) / len(cases)
    wrong = [case for case, ok in zip(cases, right) if not ok]
    return EvaluationResult(
        metrics={"combined_score": fraction, "sorted_fraction": fraction, "cases": len(cases)},
        artifacts={"feedback": f"{len(wrong)} of {len(cases)} lists came back unsorted; "
                               f"the first: {wrong[0] if wrong else None}",
                   "first_output": json.dumps(outputs[0]).encode()},
    )
