"""Regression tests for bugs found in review: each test is named after what broke."""

from __future__ import annotations

import asyncio
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import pytest

from evolve.edits import apply_response
from evolve.errors import UserError
from evolve.evaluation import sandbox as sandbox_module
from evolve.evaluation.executor import EvaluationJob, LocalExecutor
from evolve.evaluation.sandbox import CandidateCall, Sandbox, SandboxLimits
from evolve.evaluation.tempdirs import JOB_PREFIX, SANDBOX_PREFIX, sweep_stale

REPO = Path(__file__).resolve().parent.parent
CIRCLES = REPO / "problems" / "circle_packing"


def _job(code: str, problem_dir: Path, evaluator: str, timeout_s: float = 5.0,
         **args: object) -> EvaluationJob:
    return EvaluationJob(program_id="p", code=code, problem_dir=problem_dir, evaluator=evaluator,
                         evaluator_args=dict(args), timeout_s=timeout_s, seed=0,
                         preload=["numpy"])


def test_evaluator_that_cannot_be_built_is_one_user_error_not_a_dead_worker(tmp_path):
    """A bad evaluator_args value made the evaluator's constructor raise TypeError: the
    worker died with a traceback on every job and the run said 'evaluation worker died'."""
    executor = LocalExecutor(workers=1)
    try:
        with pytest.raises(UserError, match="could not be created: TypeError") as caught:
            asyncio.run(executor.evaluate(_job("x = 1\n", CIRCLES, "circle_packing", n="x")))
        assert caught.value.where == "evaluator_args"
    finally:
        executor.shutdown()


def test_an_island_seeded_with_an_invalid_baseline_gets_a_valid_copy(tmp_path):
    """With two baselines, one broken, the broken one's island held no valid program and
    sampled its latest failure as the parent for ever."""
    from evolve.controller import Controller
    from evolve.problem import load_problem
    from evolve.runs import create_run

    problem_dir = tmp_path / "two_baselines"
    shutil.copytree(CIRCLES, problem_dir)
    (problem_dir / "broken.py").write_text(
        "# EVOLVE-BLOCK-START\nraise RuntimeError('broken baseline')\n# EVOLVE-BLOCK-END\n")
    spec = (problem_dir / "problem.yaml").read_text()
    (problem_dir / "problem.yaml").write_text(spec.replace(
        "initial_programs: [initial_program.py]", "initial_programs: [initial_program.py, broken.py]"))
    problem = load_problem(problem_dir, overrides=[
        "database.num_islands=2", "budget.iterations=4", "evaluation.workers=1"])
    run = create_run(problem, tmp_path / "runs", "seed")
    asyncio.run(Controller(problem, run.store, run.run_id, run.run_dir).run())
    programs = {p.id: p for p in run.store.programs(run.run_id)}
    assert any(p.valid for p in programs.values() if p.island == 1)
    children = [p for p in programs.values() if p.origin == "llm"]
    assert {p.island for p in children} == {0, 1}
    assert all(programs[p.parent_id].valid for p in children)


def test_noop_edit_of_a_crlf_parent_is_reported_unchanged():
    """Results are joined with '\\n', so a SEARCH/REPLACE that changes nothing in a CRLF
    parent differed in bytes only and was evaluated as a new program."""
    parent = "# EVOLVE-BLOCK-START\r\ndef f():\r\n    return 1\r\n# EVOLVE-BLOCK-END\r\n"
    same = "<<<<<<< SEARCH\n    return 1\n=======\n    return 1\n>>>>>>> REPLACE\n"
    result = apply_response(parent, same, "diff")
    assert not result.ok and result.error == "edit leaves the program unchanged"
    changed = apply_response(parent, same.replace("=======\n    return 1", "=======\n    return 2"),
                             "diff")
    assert changed.ok and changed.changed_lines == 1


def test_a_worker_killed_at_the_hard_limit_leaves_no_temp_folder(tmp_path, monkeypatch):
    """The worker made the job's folder itself, so killing it at the hard limit left an
    evolve-eval-* folder behind in the temp dir for every such job."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    executor = LocalExecutor(workers=1, grace_s=0.5)
    try:
        result = asyncio.run(executor.evaluate(_job(
            "x = 1\n", tmp_path, "tests.support_evaluation:SleepyEvaluator", timeout_s=0.2)))
        assert not result.valid and "time limit" in result.reason
    finally:
        executor.shutdown()
    assert not list(tmp.glob("evolve-eval-*"))


def test_a_zygote_killed_mid_run_leaves_no_run_folder(tmp_path, monkeypatch):
    """A zygote that stopped answering was SIGKILLed mid-run and its evolve-sandbox-* run
    folder (program copy, stdout, stderr) stayed in the temp dir."""
    monkeypatch.setattr(sandbox_module, "_RESPONSE_GRACE_S", -1.0)  # give up before the child
    program = tmp_path / f"slow_{uuid.uuid4().hex}.py"  # a name no other run folder holds
    program.write_text("import time\ndef main():\n    time.sleep(30)\n")
    sandbox = Sandbox(preload=())
    try:
        result = sandbox.run(program, [CandidateCall("main")], SandboxLimits(timeout_s=1.5))
        assert result.status == "timeout" and "stopped answering" in result.reason
    finally:
        sandbox.close()
    base = tempfile.gettempdir()
    bases = {base, "/tmp"} if not os.stat(base).st_mode & 0o001 else {base}
    left = [glob.glob(os.path.join(b, "evolve-sandbox-*", "work", program.name)) for b in bases]
    assert not any(left), left


def test_billed_empty_answers_count_toward_tokens_and_usd(tmp_path, monkeypatch):
    """An empty answer is billed (its usage says so) but was counted as 0 tokens and 0 USD,
    so a reasoning model spending max_tokens on thinking could overrun budget.usd."""
    from evolve.controller import Controller
    from evolve.problem import load_problem
    from evolve.runs import create_run
    from tests.support_fake_openai import FakeOpenAIServer, Reply

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    answer = "no edit in this answer"
    with FakeOpenAIServer(default_text=answer) as server:
        # Iteration 1: empty three times (1 + retries), fails; iteration 2: empty, then text.
        server.enqueue(Reply.empty(), Reply.empty(), Reply.empty(), Reply.empty())
        problem = load_problem(CIRCLES, overrides=[
            (f"llm.models=[{{name: m, base_url: '{server.base_url}', price_in_per_mtok: 2.0, "
             "price_out_per_mtok: 8.0}]"),
            "llm.retries=2", "llm.backoff_s=0.01", "llm.concurrency=1", "budget.iterations=2",
            "evaluation.workers=1", "database.num_islands=1"])
        run = create_run(problem, tmp_path / "runs", "empty")
        asyncio.run(Controller(problem, run.store, run.run_id, run.run_dir).run())
        requests = [r["body"] for r in server.requests]
    assert len(requests) == 5
    prompt = sum(max(1, sum(len(m["content"]) for m in b["messages"]) // 4) for b in requests)
    completion = 4 * 1 + max(1, len(answer) // 4)  # the fake bills 1 token for no content
    counters = run.store.counters(run.run_id)
    assert (counters.prompt_tokens, counters.completion_tokens) == (prompt, completion)
    assert counters.usd == pytest.approx((prompt * 2.0 + completion * 8.0) / 1e6)
    failed = [c for c in run.store.llm_calls(run.run_id) if not c.ok]
    assert len(failed) == 1 and failed[0].cost_usd > 0


def test_a_zygote_whose_parent_died_mid_run_exits_without_a_traceback(tmp_path):
    """When an evaluation worker is killed at the hard limit, its zygote finishes the run
    and then wrote the answer into a closed pipe: a BrokenPipeError traceback on the
    user's terminal (the zygote's stderr is the controller's)."""
    import subprocess
    import sys

    from evolve.evaluation.frames import FrameReader, write_frame
    from evolve.evaluation.plain import dumps_plain
    from evolve.evaluation.sandbox import build_request

    program = tmp_path / "slow.py"
    program.write_text("import time\ndef main():\n    time.sleep(0.5)\n")
    request = build_request(program, [CandidateCall("main")], SandboxLimits(timeout_s=10), {}, {})
    zygote = subprocess.Popen([sys.executable, "-m", "evolve.evaluation._zygote"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              cwd=REPO)
    try:
        assert FrameReader(zygote.stdout.fileno()).read_frame() is not None  # hello
        write_frame(zygote.stdin.fileno(), dumps_plain(request))
        zygote.stdout.close()  # the parent is gone while the child sleeps
        zygote.stdin.close()
        stderr = zygote.stderr.read().decode()
        zygote.wait(timeout=30)
    finally:
        if zygote.poll() is None:
            zygote.kill()
            zygote.wait()
        zygote.stderr.close()
    assert "Traceback" not in stderr, stderr


def test_folders_of_killed_evaluations_are_swept_by_the_next_executor(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    pid = int(dead.stdout)  # a process that has exited
    stale = [tmp_path / f"{JOB_PREFIX}{pid}-abc", tmp_path / f"{SANDBOX_PREFIX}{pid}-def"]
    live = tmp_path / f"{JOB_PREFIX}{os.getpid()}-mine"
    for folder in (*stale, live):
        folder.mkdir()
        (folder / "program.py").write_text("x = 1\n")
    assert sweep_stale((str(tmp_path),)) == 2
    assert not any(p.exists() for p in stale) and live.exists()
    LocalExecutor(1).shutdown()  # sweeps the real temp folder on start; must not fail
