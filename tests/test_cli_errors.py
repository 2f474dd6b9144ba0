"""Every user-caused error is one line on stderr, exit code 2, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def evolve(*args: str, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "evolve.cli", *args], capture_output=True, text=True,
                          cwd=cwd or REPO, timeout=timeout)


def assert_one_line_error(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert proc.returncode == 2, proc.stderr + proc.stdout
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def write_problem(folder: Path, yaml_text: str, program: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "problem.yaml").write_text(yaml_text)
    if program is not None:
        (folder / "initial_program.py").write_text(program)
    return folder


PROGRAM = "# EVOLVE-BLOCK-START\nX = 1\n# EVOLVE-BLOCK-END\n"


def test_bad_yaml_in_config(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("llm: {models: [\n")
    proc = evolve("config", "validate", "--config", str(bad))
    assert_one_line_error(proc, str(bad), "invalid YAML")


def test_unknown_key_in_problem(tmp_path: Path) -> None:
    folder = write_problem(tmp_path / "p", "evaluator: circle_packing\nbudgett: {iterations: 2}\n", PROGRAM)
    proc = evolve("run", str(folder), "--out", str(tmp_path / "runs"))
    assert_one_line_error(proc, "problem.yaml", "budgett", "unknown key")


def test_wrong_type_via_set(tmp_path: Path) -> None:
    proc = evolve("config", "show", str(REPO / "problems" / "circle_packing"), "--set", "llm.retries=lots")
    assert_one_line_error(proc, "llm.retries", "expected int")


def test_missing_problem_folder(tmp_path: Path) -> None:
    proc = evolve("run", str(tmp_path / "nowhere"))
    assert_one_line_error(proc, "nowhere", "not found")


def test_missing_initial_program(tmp_path: Path) -> None:
    folder = write_problem(tmp_path / "p", "evaluator: circle_packing\ninitial_programs: [gone.py]\n")
    proc = evolve("run", str(folder), "--out", str(tmp_path / "runs"))
    assert_one_line_error(proc, "gone.py", "not found")


def test_program_without_evolve_block(tmp_path: Path) -> None:
    folder = write_problem(tmp_path / "p", "evaluator: circle_packing\n", "X = 1\n")
    proc = evolve("run", str(folder), "--out", str(tmp_path / "runs"))
    assert_one_line_error(proc, "initial_program.py", "EVOLVE-BLOCK")


def test_unknown_evaluator(tmp_path: Path) -> None:
    folder = write_problem(tmp_path / "p", "evaluator: no_such_evaluator\n", PROGRAM)
    cand = tmp_path / "cand.py"
    cand.write_text(PROGRAM)
    proc = evolve("eval", str(folder), str(cand))
    assert_one_line_error(proc, "no_such_evaluator")


def test_missing_candidate_file(tmp_path: Path) -> None:
    proc = evolve("eval", str(REPO / "problems" / "circle_packing"), str(tmp_path / "nope.py"))
    assert_one_line_error(proc, "nope.py", "not found")


def test_bad_cli_argument() -> None:
    proc = evolve("run")
    assert_one_line_error(proc, "problem")


def test_not_a_run_folder(tmp_path: Path) -> None:
    proc = evolve("resume", str(tmp_path))
    assert_one_line_error(proc, "not a run folder")


def test_config_init_refuses_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "evolve.yaml"
    assert evolve("config", "init", "-o", str(target)).returncode == 0
    assert evolve("config", "validate", "--config", str(target)).returncode == 0
    proc = evolve("config", "init", "-o", str(target))
    assert_one_line_error(proc, "exists")


@pytest.mark.slow
def test_llm_lost_after_the_start_keeps_stored_programs(tmp_path: Path) -> None:
    """The server answers the pre-flight probe, then drops every chat request: the run
    stops with one line, keeps its evaluated baselines and is stored as failed.
    (A server unreachable from the start fails before any folder exists: test_preflight.)"""
    from support_fake_openai import FakeOpenAIServer, Reply

    from evolve.runs import open_run

    out = tmp_path / "runs"
    with FakeOpenAIServer() as server:
        server.set_responder("m", lambda body: Reply.reset())
        cfg = tmp_path / "cfg.yaml"
        cfg.write_text(
            f"llm:\n  models: [{{name: m, base_url: '{server.base_url}', api_key_env: NO_SUCH_KEY}}]\n"
            "  retries: 1\n  backoff_s: 0.01\n  timeout_s: 2\n"
            "budget: {iterations: 10}\nevaluation: {workers: 1}\n"
        )
        proc = evolve("run", str(REPO / "problems" / "circle_packing"), "--config", str(cfg),
                      "--out", str(out))
    assert_one_line_error(proc, "llm.models", "cannot reach")
    run = open_run(next(out.iterdir()))
    stored = list(run.store.programs(run.run_id))
    assert stored and all(p.origin == "initial" for p in stored)
    assert run.store.get_run(run.run_id).status == "failed"


def test_missing_api_key_names_the_variable_and_creates_no_run(tmp_path: Path) -> None:
    out = tmp_path / "runs"
    proc = evolve("run", str(REPO / "problems" / "circle_packing"), "--out", str(out),
                  "--set", "llm.models=[{name: gpt-4o, api_key_env: EVOLVE_TEST_MISSING_KEY}]")
    assert_one_line_error(proc, "llm.models[0].api_key_env", "EVOLVE_TEST_MISSING_KEY")
    assert not out.exists()
