"""Compatibility mode: what running a foreign evaluator beside the candidate keeps (the
sandbox's limits, plain data back, bounded) and what it does not (an honest score)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support_foreign import FOLDERS, REPO, openevolve_metrics

from evolve.errors import UserError
from evolve.evaluation._fileview import probe
from evolve.evaluation.registry import create_evaluator
from evolve.evaluation.runner import run_evaluation
from evolve.evaluation.sandbox import Sandbox
from evolve.evaluation.types import EvaluationContext, EvaluationResult

CASCADE = FOLDERS / "openevolve_cascade"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as box:
        yield box


def score(sandbox: Sandbox, evaluator: str, folder: Path, code: str, tmp_path: Path,
          timeout_s: float = 30.0, **args: Any) -> EvaluationResult:
    candidate = tmp_path / "candidate.py"
    candidate.write_text(code)
    built = create_evaluator(evaluator, folder, args)
    context = EvaluationContext(problem_dir=folder, sandbox=sandbox, timeout_s=timeout_s)
    return run_evaluation(built, candidate, context)


def openevolve_folder(tmp_path: Path, evaluator: str) -> Path:
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "initial_program.py").write_text("# EVOLVE-BLOCK-START\nX = 1\n# EVOLVE-BLOCK-END\n")
    (folder / "evaluator.py").write_text(evaluator)
    return folder


# ------------------------------------------------------------- what it does not guarantee


def test_a_candidate_can_forge_its_score(sandbox: Sandbox, tmp_path: Path) -> None:
    """The candidate shares the evaluator's process: here it moves pi to its own answer."""
    forged = "import math\nmath.pi = 3.0\n\ndef estimate_pi(terms):\n    return 3.0\n"
    result = score(sandbox, "openevolve", CASCADE, forged, tmp_path, cascade_thresholds=[0.05])
    assert result.valid and result.score == 1.0  # a perfect score, forged
    assert result.compatibility_mode is True


def test_a_shinka_candidate_can_rewrite_its_results(sandbox: Sandbox, tmp_path: Path) -> None:
    folder = FOLDERS / "shinka_knapsack"
    forged = (folder / "initial.py").read_text() + (
        "\nimport json\n_dump = json.dump\n\n"
        "def _forged(obj, fh, **kw):\n"
        "    if isinstance(obj, dict) and 'combined_score' in obj:\n"
        "        obj = {**obj, 'combined_score': 1000.0}\n"
        "    return _dump(obj, fh, **kw)\n\njson.dump = _forged\n")
    result = score(sandbox, "shinka", folder, forged, tmp_path)
    assert result.valid and result.score == 1000.0 and result.compatibility_mode


# ------------------------------------------------------------- what it keeps


def test_time_limit_holds(sandbox: Sandbox, tmp_path: Path) -> None:
    looping = "def estimate_pi(terms):\n    while True:\n        pass\n"
    result = score(sandbox, "openevolve", CASCADE, looping, tmp_path, timeout_s=1.0,
                   cascade_thresholds=[0.05])
    assert not result.valid and "wall-clock limit" in result.reason
    assert result.compatibility_mode


def test_processes_only_when_allowed(sandbox: Sandbox, tmp_path: Path) -> None:
    folder = FOLDERS / "openevolve_artifacts"
    code = (folder / "initial_program.py").read_text()
    assert score(sandbox, "openevolve", folder, code, tmp_path).valid  # found: subprocess
    refused = score(sandbox, "openevolve", folder, code, tmp_path, max_processes=0)
    assert not refused.valid
    assert refused.reason.startswith("evaluate() raised PermissionError")
    assert "subprocess" in refused.artifacts["traceback"]


@pytest.mark.skipif(not probe(), reason="no private file view on this machine")
def test_the_candidate_sees_its_work_dir_not_the_project(sandbox: Sandbox, tmp_path: Path) -> None:
    peeking = (f"def estimate_pi(terms):\n    open({str(REPO / 'README.md')!r}).read()\n"
               "    return 3.14\n")
    result = score(sandbox, "openevolve", CASCADE, peeking, tmp_path, cascade_thresholds=[0.05])
    assert not result.valid and "FileNotFoundError" in result.reason
    reading = ("def estimate_pi(terms):\n    open('evaluator.py').read()\n"
               "    return 3.14159\n")  # the folder's own files are there: the evaluator's too
    assert score(sandbox, "openevolve", CASCADE, reading, tmp_path,
                 cascade_thresholds=[0.05]).valid


def test_forged_answers_from_the_driver_are_refused(sandbox: Sandbox, tmp_path: Path) -> None:
    """The candidate may replace the driver's functions (here for the second stage); what
    comes back is still checked."""
    tampering = ("import sys\nsys.modules['candidate']._reduce = lambda raw: "
                 "{'numbers': {'combined_score': 'high'}, 'texts': {}, 'artifacts': {}}\n"
                 "def estimate_pi(terms):\n    return 3.0\n")
    result = score(sandbox, "openevolve", CASCADE, tampering, tmp_path, cascade_thresholds=[0.05])
    assert not result.valid
    assert result.reason == ("the evaluation returned malformed data: metric 'combined_score' "
                             "is not a number")


# ------------------------------------------------------------- OpenEvolve's semantics


def test_a_candidate_below_the_first_threshold_keeps_its_stage1_score(
        sandbox: Sandbox, tmp_path: Path) -> None:
    weak = "def estimate_pi(terms):\n    return 0.0\n"
    result = score(sandbox, "openevolve", CASCADE, weak, tmp_path, cascade_thresholds=[0.05])
    program = tmp_path / "weak.py"
    program.write_text(weak)
    stage1 = openevolve_metrics(CASCADE, program, "evaluate_stage1")
    assert stage1["combined_score"] < 0.05
    assert result.valid and result.score == stage1["combined_score"]
    assert result.metrics["cascade_stages_run"] == 1 and "stage2_error" not in result.metrics
    direct = score(sandbox, "openevolve", CASCADE, weak, tmp_path, cascade=False)
    assert direct.score == openevolve_metrics(CASCADE, program)["combined_score"]
    assert "cascade_stages_run" not in direct.metrics


def test_score_without_combined_score_is_the_mean_of_other_metrics(
        sandbox: Sandbox, tmp_path: Path) -> None:
    folder = openevolve_folder(tmp_path, (
        "def evaluate(program_path):\n"
        "    return {'accuracy': 0.5, 'speed': 1.0, 'size': 40, 'note': 'text'}\n"))
    result = score(sandbox, "openevolve", folder, "X = 1\n", tmp_path)
    assert result.score == pytest.approx((0.5 + 1.0 + 40) / 3)
    assert result.artifacts["note"] == "text"
    featured = score(sandbox, "openevolve", folder, "X = 1\n", tmp_path,
                     feature_dimensions=["size"])  # OpenEvolve leaves feature axes out
    assert featured.score == pytest.approx(0.75)


@pytest.mark.parametrize("body, reason", [
    ("    return 0.5\n", "evaluate() returned float, not a dict of metrics or an EvaluationResult"),
    ("    return {'status': 'done'}\n", "evaluate() returned no numeric metrics"),
    ("    raise ValueError('no data')\n", "evaluate() raised ValueError: no data"),
    ("    return {'combined_score': 0.0, 'error': 'missing run_search'}\n",
     "evaluate() reported an error: missing run_search"),
    ("    return {'combined_score': float('nan')}\n", "non-finite score nan"),
])
def test_odd_answers_are_invalid_with_a_reason(sandbox: Sandbox, tmp_path: Path, body: str,
                                               reason: str) -> None:
    folder = openevolve_folder(tmp_path, f"def evaluate(program_path):\n{body}")
    result = score(sandbox, "openevolve", folder, "X = 1\n", tmp_path)
    assert not result.valid and result.reason == reason
    assert result.compatibility_mode


def test_long_text_comes_back_cut(sandbox: Sandbox, tmp_path: Path) -> None:
    folder = openevolve_folder(tmp_path, (
        "class Result:\n    def __init__(self):\n        self.metrics = {'combined_score': 1}\n"
        "        self.artifacts = {'log': 'x' * 1_000_000, 'raw': bytes(range(256))}\n\n"
        "def evaluate(program_path):\n    return Result()\n"))
    result = score(sandbox, "openevolve", folder, "X = 1\n", tmp_path)
    assert result.valid and result.score == 1.0
    assert len(result.artifacts["log"]) < 20_100 and result.artifacts["log"].endswith("more)")
    assert isinstance(result.artifacts["raw"], str)


def test_evaluator_errors_are_user_errors(tmp_path: Path) -> None:
    folder = openevolve_folder(tmp_path, "def score(program_path):\n    return {}\n")
    with pytest.raises(UserError, match="defines no evaluate"):
        create_evaluator("openevolve", folder, {})
    (folder / "evaluator.py").write_text("def evaluate(:\n")
    with pytest.raises(UserError, match="not valid Python"):
        create_evaluator("openevolve", folder, {})
    (folder / "evaluator.py").write_text("def evaluate(program_path):\n    return {}\n")
    with pytest.raises(UserError) as caught:
        create_evaluator("openevolve", folder, {"evaluator_file": "../evaluator.py"})
    assert caught.value.where == "evaluator_args.evaluator_file"
    with pytest.raises(UserError) as caught:
        create_evaluator("openevolve", folder, {"cascade_thresholds": "high"})
    assert caught.value.where == "evaluator_args.cascade_thresholds"


# ------------------------------------------------------------- ShinkaEvolve's semantics


def shinka_folder(tmp_path: Path, evaluate: str) -> Path:
    folder = tmp_path / "task"
    folder.mkdir()
    (folder / "initial.py").write_text("# EVOLVE-BLOCK-START\nX = 1\n# EVOLVE-BLOCK-END\n")
    (folder / "evaluate.py").write_text(evaluate)
    return folder


def test_shinka_evaluator_run_as_a_script(sandbox: Sandbox, tmp_path: Path) -> None:
    folder = shinka_folder(tmp_path, (
        "import argparse, json, os\n"
        "if __name__ == '__main__':\n"
        "    p = argparse.ArgumentParser()\n"
        "    p.add_argument('--program_path'); p.add_argument('--results_dir')\n"
        "    a = p.parse_args()\n"
        "    with open(os.path.join(a.results_dir, 'metrics.json'), 'w') as f:\n"
        "        json.dump({'combined_score': 0.25, 'public': {'n': 3}}, f)\n"
        "    with open(os.path.join(a.results_dir, 'correct.json'), 'w') as f:\n"
        "        json.dump({'correct': True, 'error': None}, f)\n"))
    result = score(sandbox, "shinka", folder, "X = 1\n", tmp_path)
    assert result.valid and result.score == 0.25 and result.metrics["n"] == 3


@pytest.mark.parametrize("writes, reason", [
    ("", "evaluate.py wrote no readable correct.json"),
    ("json.dump({'correct': False, 'error': 'too heavy'}, open(d + '/correct.json', 'w'))",
     "too heavy"),
    ("json.dump({'correct': True}, open(d + '/correct.json', 'w')); "
     "json.dump({'combined_score': 'big'}, open(d + '/metrics.json', 'w'))",
     "metrics.json: combined_score is big, not a number"),
])
def test_shinka_results_read_as_shinka_reads_them(sandbox: Sandbox, tmp_path: Path, writes: str,
                                                 reason: str) -> None:
    folder = shinka_folder(tmp_path, f"import json\n\ndef main(p, d):\n    {writes or 'pass'}\n")
    result = score(sandbox, "shinka", folder, "X = 1\n", tmp_path)
    assert not result.valid and result.reason == reason and result.compatibility_mode


def test_correct_without_metrics_scores_zero(sandbox: Sandbox, tmp_path: Path) -> None:
    folder = shinka_folder(tmp_path, (
        "import json\n\ndef main(p, d):\n"
        "    json.dump({'correct': True, 'error': None}, open(d + '/correct.json', 'w'))\n"))
    result = score(sandbox, "shinka", folder, "X = 1\n", tmp_path)
    assert result.valid and result.score == 0.0  # ShinkaEvolve's default combined_score
    assert result.artifacts["metrics_json"] == "evaluate.py wrote no metrics.json"


def test_folder_files_travel_but_runs_do_not(tmp_path: Path) -> None:
    from evolve.evaluation.task_files import task_files

    folder = tmp_path / "f"
    shutil.copytree(FOLDERS / "openevolve_artifacts", folder)
    (folder / "runs" / "r1").mkdir(parents=True)
    (folder / "runs" / "r1" / "evolve.db").write_bytes(b"x")
    (folder / "out" / "r2").mkdir(parents=True)
    (folder / "out" / "r2" / "run.json").write_text("{}")
    (folder / ".hidden").write_text("x")
    (folder / "link.txt").symlink_to(REPO / "README.md")
    assert sorted(task_files(folder)) == ["data/cases.json", "evaluator.py", "initial_program.py"]
    assert sorted(task_files(folder, ["*.py"])) == ["evaluator.py", "initial_program.py"]
    with pytest.raises(UserError) as caught:
        task_files(folder, max_bytes=10)
    assert caught.value.where == "evaluator_args.files"
