"""Helpers for the tests of OpenEvolve and ShinkaEvolve folders (tests/foreign_folders)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FOLDERS = REPO / "tests" / "foreign_folders"
# Neither framework is installed here: their evaluators import our stand-ins, as in the sandbox.
SHIMS = REPO / "evaluators" / "foreign" / "shims"

_OPENEVOLVE = """
import importlib.util, json, sys
folder, program, function = sys.argv[1:4]
sys.path.insert(0, folder)
spec = importlib.util.spec_from_file_location("evaluation_module", folder + "/evaluator.py")
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
result = getattr(module, function)(program)
metrics = result if isinstance(result, dict) else result.metrics
print(json.dumps({k: v for k, v in metrics.items() if isinstance(v, (int, float))}))
"""
_SHINKA = """
import importlib.util, json, os, sys
folder, program, results = sys.argv[1:4]
sys.path.insert(0, folder)
spec = importlib.util.spec_from_file_location("evaluate", folder + "/evaluate.py")
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
module.main(program, results)
with open(os.path.join(results, "metrics.json")) as m, open(os.path.join(results, "correct.json")) as c:
    print(json.dumps({"metrics": json.load(m), "correct": json.load(c)}))
"""


def _run(script: str, *args: str, cwd: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(SHIMS), "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def openevolve_metrics(folder: Path, program: Path, function: str = "evaluate") -> dict:
    """The numeric metrics the folder's evaluator.py returns for ``program``, called
    directly the way OpenEvolve calls it (in a plain Python process, no sandbox)."""
    return _run(_OPENEVOLVE, str(folder), str(program), function, cwd=folder)


def shinka_results(folder: Path, program: Path) -> dict:
    """``{"metrics": ..., "correct": ...}`` as the folder's evaluate.py writes them."""
    with tempfile.TemporaryDirectory() as results:
        return _run(_SHINKA, str(folder), str(program), results, cwd=folder)


def evolve(*args: str, cwd: Path = REPO, env: dict[str, str] | None = None,
           timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "evolve.cli", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=timeout, env={**os.environ, **(env or {})})
