"""Drives OpenEvolve for the side-by-side benchmarks. Runs in OpenEvolve's own venv
(``/tmp/oe-venv/bin/python bench/openevolve_driver.py ...``), imports nothing from
evolve, and prints one JSON line.

    overhead URL N K WORKDIR     pre-load N programs, run K iterations, report timings
    search URL PROBLEM SEED EVALS WORKDIR EVOLVE_PYTHON REPO
                                 run until EVALS evaluations, report the best score
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import sys
import time
import uuid
from pathlib import Path

import yaml
from openevolve import OpenEvolve
from openevolve.config import load_config
from openevolve.database import Program

TRIVIAL_EVALUATOR = '''
import re


def evaluate(program_path):
    text = open(program_path).read()
    match = re.search(r"^VALUE\\s*=\\s*([0-9.]+)", text, re.M)
    return {"combined_score": float(match.group(1)) if match else 0.0}
'''

# The same evaluator evolve uses: its CLI, in evolve's venv (data crosses, code does not).
CLI_EVALUATOR = '''
import json
import subprocess

EVOLVE_PYTHON = {python!r}
REPO = {repo!r}
PROBLEM = {problem!r}


def evaluate(program_path):
    proc = subprocess.run([EVOLVE_PYTHON, "-m", "evolve.cli", "eval", PROBLEM, program_path, "--json"],
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        return {{"combined_score": 0.0, "error": 1.0}}
    result = json.loads(proc.stdout)
    return {{"combined_score": float(result["score"]) if result["valid"] else 0.0}}
'''


def write_config(path: Path, url: str, seed: int, iterations: int, population: int, workers: int) -> None:
    path.write_text(yaml.safe_dump({
        "max_iterations": iterations, "checkpoint_interval": 10 ** 9, "log_level": "WARNING",
        "random_seed": seed,
        "llm": {"api_base": url, "api_key": "not-used", "models": [{"name": "bench", "weight": 1.0}],
                "timeout": 120, "retries": 1, "retry_delay": 0},
        "database": {"in_memory": True, "num_islands": 4, "population_size": population,
                     "random_seed": seed},
        "evaluator": {"timeout": 600, "cascade_evaluation": False, "parallel_evaluations": workers},
    }))


def overhead(url: str, count: int, iterations: int, workdir: Path, template: str) -> dict:
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "initial_program.py").write_text(template)
    (workdir / "evaluator.py").write_text(TRIVIAL_EVALUATOR)
    write_config(workdir / "config.yaml", url, 0, iterations, count + iterations + 100, 2)
    engine = OpenEvolve(str(workdir / "initial_program.py"), str(workdir / "evaluator.py"),
                        config=load_config(str(workdir / "config.yaml")), output_dir=str(workdir / "out"))
    rng = random.Random(0)
    started = time.perf_counter()
    loaded = set()
    for _ in range(count):
        value = rng.random()
        program = Program(id=str(uuid.uuid4()), code=program_text(template, value),
                          metrics={"combined_score": value}, iteration_found=0)
        engine.database.add(program, iteration=0)
        loaded.add(program.id)
    populate_s = time.perf_counter() - started
    started = time.perf_counter()
    asyncio.run(engine.run(iterations=iterations))
    run_s = time.perf_counter() - started
    stamps = sorted(p.timestamp for p in engine.database.programs.values() if p.id not in loaded)
    return {"populate_s": populate_s, "run_s": run_s, "children": len(stamps),
            "stamps": stamps}


def program_text(program_template: str, value: float) -> str:
    return program_template.replace("VALUE = 0.5", f"VALUE = {value:.6f}")


def search(url: str, problem: str, seed: int, evaluations: int, workdir: Path, python: str, repo: str) -> dict:
    workdir.mkdir(parents=True, exist_ok=True)
    initial = Path(repo) / problem / "initial_program.py"
    (workdir / "evaluator.py").write_text(CLI_EVALUATOR.format(python=python, repo=repo, problem=problem))
    # The initial program is one evaluation; every iteration is one more.
    write_config(workdir / "config.yaml", url, seed, evaluations - 1, 1000, 2)
    engine = OpenEvolve(str(initial), str(workdir / "evaluator.py"),
                        config=load_config(str(workdir / "config.yaml")), output_dir=str(workdir / "out"))
    asyncio.run(engine.run(iterations=evaluations - 1))
    scores = [p.metrics.get("combined_score", 0.0) for p in engine.database.programs.values()]
    return {"best": max(scores), "programs": len(scores)}


def main() -> None:
    if "--debug" not in sys.argv:
        logging.disable(logging.WARNING)
    mode, url = sys.argv[1], sys.argv[2]
    if mode == "overhead":
        count, iterations, workdir, program_file = int(sys.argv[3]), int(sys.argv[4]), Path(sys.argv[5]), sys.argv[6]
        print(json.dumps(overhead(url, count, iterations, workdir, Path(program_file).read_text())))
    else:
        problem, seed, evals, workdir, python, repo = sys.argv[3:9]
        print(json.dumps(search(url, problem, int(seed), int(evals), Path(workdir), python, repo)))


if __name__ == "__main__":
    main()
