"""evolve and OpenEvolve 0.4.0 side by side, in one run, through the same local
OpenAI-compatible endpoint (bench/llm_endpoint.py).

    overhead: per-iteration wall time with an instant fake LLM and a trivial evaluator,
              after pre-loading 100 / 1k / 10k / 100k programs. Both frameworks get 2
              evaluation workers; the time per iteration is the steady-state interval
              between stored children (first to last), so it is 1 / throughput.
    search:   the offline mutation engine served to both over HTTP, the same evaluator
              (evolve's, called through `evolve eval --json` from OpenEvolve's evaluator
              file), the same number of evaluations; best score, median over seeds.

OpenEvolve runs in its own venv (default /tmp/oe-venv; create it with
`python3 -m venv /tmp/oe-venv && /tmp/oe-venv/bin/pip install openevolve==0.4.0`).

    .venv/bin/python bench/compare_openevolve.py overhead
    .venv/bin/python bench/compare_openevolve.py search
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from llm_endpoint import Endpoint, OfflineEndpointProcess, instant_answer
from problem_fixture import PROGRAM, make_problem

from evolve.controller import Controller
from evolve.database import codec
from evolve.database.models import evaluations_table, programs_table
from evolve.database.records import ProgramRecord, new_id
from evolve.problem import load_problem
from evolve.runs import create_run

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent


def _llm_overrides(url: str) -> list[str]:
    os.environ["BENCH_API_KEY"] = "not-used"
    return [f'llm.models=[{{name: bench, base_url: "{url}", api_key_env: BENCH_API_KEY}}]']


def _interval_ms(stamps: list[float]) -> float:
    stamps = sorted(stamps)
    return 1000 * (stamps[-1] - stamps[0]) / (len(stamps) - 1) if len(stamps) > 1 else float("nan")


# ---------------------------------------------------------------- overhead


def evolve_overhead(root: Path, url: str, count: int, iterations: int) -> tuple[float, float]:
    """(ms per iteration, seconds to pre-load) for evolve with ``count`` stored programs."""
    problem = load_problem(make_problem(root, 0.0), None, [
        *_llm_overrides(url), "evaluation.workers=2", "llm.concurrency=4", "database.num_islands=4"])
    run = create_run(problem, root / "runs", f"n{count}")
    rng = random.Random(0)
    started = time.perf_counter()
    records = []
    for index in range(count):
        value = rng.random()
        records.append(ProgramRecord(
            id=new_id(), run_id=run.run_id, code=PROGRAM.replace("VALUE = 0.5", f"VALUE = {value:.6f}"),
            island=index % 4, iteration=index, valid=True, score=value, origin="llm"))
    with run.store.engine.begin() as conn:
        for start in range(0, count, 5000):
            chunk = records[start:start + 5000]
            conn.execute(programs_table.insert(), [codec.program_row(p) for p in chunk])
            conn.execute(evaluations_table.insert(), [codec.evaluation_row(p) for p in chunk])
    populate_s = time.perf_counter() - started
    asyncio.run(Controller(problem, run.store, run.run_id, run.run_dir).run(extra_iterations=iterations))
    loaded = {r.id for r in records}
    stamps = [p.created_at for p in run.store.programs(run.run_id) if p.id not in loaded and p.origin == "llm"]
    run.store.close()
    return _interval_ms(stamps), populate_s


def openevolve_overhead(python: str, root: Path, url: str, count: int, iterations: int) -> dict:
    program_file = root / "oe_program.py"
    program_file.write_text(PROGRAM)
    proc = subprocess.run([python, str(BENCH / "openevolve_driver.py"), "overhead", url, str(count),
                           str(iterations), str(root / f"oe{count}"), str(program_file)],
                          check=False, capture_output=True, text=True)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed"}
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    data["ms"] = _interval_ms(data.pop("stamps"))
    return data


def cmd_overhead(args: argparse.Namespace) -> None:
    print(f"{'programs':>9} {'evolve ms/it':>13} {'OpenEvolve ms/it':>17} {'OE / evolve':>12} "
          f"{'evolve vs 100':>14} {'OE vs 100':>10}")
    base: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="evolve-bench-oe-") as tmp, Endpoint(instant_answer) as endpoint:
        for count in args.sizes:
            root = Path(tmp) / f"n{count}"
            ours, _ = evolve_overhead(root, endpoint.base_url, count, args.iterations)
            theirs: dict = {"ms": float("nan")}
            if args.openevolve and count <= args.openevolve_max:
                theirs = openevolve_overhead(args.openevolve, root, endpoint.base_url, count,
                                             args.openevolve_iterations)
            oe_ms = theirs.get("ms", float("nan"))
            base.setdefault("ours", ours)
            base.setdefault("theirs", oe_ms)
            note = f"  ({theirs['error']})" if "error" in theirs else (
                "" if count <= args.openevolve_max else "  (OpenEvolve not run at this size)")
            print(f"{count:>9} {ours:>13.1f} {oe_ms:>17.1f} {oe_ms / ours:>12.1f} "
                  f"{ours / base['ours']:>14.2f} {oe_ms / base['theirs']:>10.2f}{note}", flush=True)


# ---------------------------------------------------------------- search


PROBLEMS = {"circle_packing": "problems/circle_packing", "eplb": "problems/eplb"}


def evolve_search(root: Path, url: str, problem_dir: str, seed: int, evaluations: int) -> float:
    problem = load_problem(REPO / problem_dir, None, [
        *_llm_overrides(url), f"seed={seed}", "evaluation.workers=2", "llm.concurrency=2",
        f"budget.evaluations={evaluations}", "budget.iterations=null"])
    run = create_run(problem, root / "runs", f"s{seed}")
    summary = asyncio.run(Controller(problem, run.store, run.run_id, run.run_dir).run())
    # Score after exactly N evaluations: in-flight work may finish a few more; ignore those.
    evaluated = [p for p in run.store.programs(run.run_id)
                 if p.origin == "llm" or (p.origin == "initial" and p.parent_id is None)][:evaluations]
    run.store.close()
    del summary
    return max((p.score for p in evaluated if p.valid and p.score is not None), default=0.0)


def openevolve_search(python: str, root: Path, url: str, problem_dir: str, seed: int, evaluations: int) -> float:
    proc = subprocess.run([python, str(BENCH / "openevolve_driver.py"), "search", url, problem_dir,
                           str(seed), str(evaluations), str(root / f"oe{seed}"), sys.executable, str(REPO)],
                          check=False, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    return float(json.loads(proc.stdout.strip().splitlines()[-1])["best"])


def cmd_search(args: argparse.Namespace) -> None:
    print(f"{'problem':>15} {'evals':>6} {'seeds':>6} {'evolve median':>14} {'OpenEvolve median':>18} "
          f"{'evolve/OE':>10}   per-seed evolve | OpenEvolve")
    with tempfile.TemporaryDirectory(prefix="evolve-bench-search-") as tmp:
        for name in args.problems:
            evaluations = args.evaluations.get(name, 20)
            ours, theirs = [], []
            for seed in range(args.seeds):
                root = Path(tmp) / f"{name}-{seed}"
                with OfflineEndpointProcess(seed) as endpoint:
                    ours.append(evolve_search(root, endpoint.base_url, PROBLEMS[name], seed, evaluations))
                if args.openevolve:
                    with OfflineEndpointProcess(seed) as endpoint:
                        theirs.append(openevolve_search(args.openevolve, root, endpoint.base_url,
                                                        PROBLEMS[name], seed, evaluations))
            ours_m = statistics.median(ours)
            theirs_m = statistics.median(theirs) if theirs else float("nan")
            print(f"{name:>15} {evaluations:>6} {args.seeds:>6} {ours_m:>14.4f} {theirs_m:>18.4f} "
                  f"{ours_m / theirs_m:>10.3f}   {' '.join(f'{s:.4f}' for s in ours)} | "
                  f"{' '.join(f'{s:.4f}' for s in theirs)}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--openevolve", default="/tmp/oe-venv/bin/python",
                        help="python of a venv with openevolve==0.4.0 ('' to skip OpenEvolve)")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("overhead")
    p.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000, 100000])
    p.add_argument("--iterations", type=int, default=60)
    p.add_argument("--openevolve-iterations", type=int, default=20)
    p.add_argument("--openevolve-max", type=int, default=10000, help="largest size run on OpenEvolve")
    p.set_defaults(handler=cmd_overhead)
    p = sub.add_parser("search")
    p.add_argument("--problems", nargs="+", default=["circle_packing", "eplb"])
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--evaluations", type=json.loads, default={"circle_packing": 40, "eplb": 12},
                   help='JSON mapping problem -> evaluation budget')
    p.set_defaults(handler=cmd_search)
    args = parser.parse_args()
    if args.openevolve and not Path(args.openevolve).exists():
        print(f"note: {args.openevolve} not found; running evolve only", file=sys.stderr)
        args.openevolve = ""
    args.handler(args)


if __name__ == "__main__":
    main()
