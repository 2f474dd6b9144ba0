"""Hostile candidates, through the Sandbox and through LocalExecutor + a toy evaluator.

Every case must end with a specific status/reason, and the machinery must keep working
for the next candidate. Guarantees that depend on Linux namespaces or on running as
root are skipped with a reason elsewhere (docs/security.md).
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import uuid
from pathlib import Path

import pytest

from evolve.evaluation.executor import EvaluationJob, LocalExecutor
from evolve.evaluation.sandbox import CandidateCall, Sandbox, SandboxLimits
from tests.support_evaluation import descendants

HOSTILE = Path(__file__).parent / "hostile"
LIMITS = SandboxLimits(timeout_s=1.5, memory_mb=1024)
SORT_INPUT = ([3, 1, 2],)


@pytest.fixture(scope="module")
def sandbox():
    box = Sandbox(preload=("numpy",))
    yield box
    box.close()


def run(sandbox: Sandbox, fixture: str, function: str = "solve", args: tuple = SORT_INPUT,
        limits: SandboxLimits = LIMITS):
    return sandbox.run(HOSTILE / f"{fixture}.py", [CandidateCall(function, args)], limits)


def assert_still_works(sandbox: Sandbox) -> None:
    result = run(sandbox, "good")
    assert result.ok and result.calls[0].value == [1, 2, 3], result.reason


@pytest.fixture(scope="module")
def isolation(sandbox):
    return run(sandbox, "good").isolation


def test_infinite_loop_times_out(sandbox):
    result = run(sandbox, "infinite_loop")
    assert result.status == "timeout" and "1.5 s wall-clock" in result.reason
    assert_still_works(sandbox)


def test_cpu_limit_is_reported_as_timeout(sandbox):
    limits = SandboxLimits(timeout_s=10, cpu_s=1, memory_mb=1024)
    result = run(sandbox, "infinite_loop", limits=limits)
    assert result.status == "timeout" and "CPU-time" in result.reason


def test_memory_bomb_hits_the_memory_limit(sandbox):
    result = run(sandbox, "memory_bomb", limits=SandboxLimits(timeout_s=20, memory_mb=700))
    assert result.status == "memory" and "700 MB" in result.reason, result.reason
    assert_still_works(sandbox)


def test_fork_bomb_is_refused(sandbox, isolation):
    if not isolation.get("no_fork"):
        pytest.skip("seccomp filter unavailable on this platform")
    result = run(sandbox, "fork_bomb")
    assert result.status == "ok" and not result.calls[0].ok
    assert "PermissionError" in result.calls[0].error
    assert_still_works(sandbox)


def test_process_limit_and_cleanup_when_processes_are_allowed(sandbox, isolation):
    if not (isolation.get("pid") and isolation.get("setuid_nobody")):
        pytest.skip("needs root (PID namespace and an unprivileged uid for RLIMIT_NPROC)")
    limits = SandboxLimits(timeout_s=3, memory_mb=1024, max_processes=3)
    result = run(sandbox, "fork_bomb", "spawn", (3,), limits)
    assert result.ok, result.reason
    assert result.calls[0].value["started"] <= 3
    assert result.calls[0].value["error"] == "BlockingIOError"
    # The sleeping children died with the PID namespace: below the zygote only its fork
    # template is left.
    assert descendants(sandbox.zygote_pid) == {sandbox.template_pid}


@pytest.mark.parametrize("fixture, signal_name", [("segfault", "SIGSEGV"),
                                                  ("sigkill_self", "SIGKILL")])
def test_killed_by_signal_is_a_crash(sandbox, fixture, signal_name):
    result = run(sandbox, fixture)
    assert result.status == "crashed" and signal_name in result.reason
    assert_still_works(sandbox)


def test_exit_without_result_is_a_crash(sandbox):
    result = run(sandbox, "exit_self")
    assert result.status == "crashed" and "exited with code 0" in result.reason


def test_stdout_flood_hits_the_output_limit(sandbox):
    result = run(sandbox, "stdout_flood")
    assert result.status == "output_limit"
    assert len(result.stdout) < LIMITS.output_bytes + 100
    assert_still_works(sandbox)


def test_writes_outside_the_work_dir_are_refused(sandbox, isolation, tmp_path):
    if not isolation.get("fs_readonly"):
        pytest.skip("no private read-only mount namespace (needs root on Linux)")
    marker = uuid.uuid4().hex
    targets = [str(Path(__file__).parent / f"{marker}.txt"), f"/tmp/{marker}",
               str(tmp_path / marker)]
    result = run(sandbox, "write_outside", "write", (targets,))
    assert result.ok
    for target in targets:
        refused = ("OSError", "PermissionError", "FileNotFoundError")  # read-only or not there
        assert result.calls[0].value[target].startswith(refused), target
        assert not os.path.exists(target)
    assert run(sandbox, "write_outside", "write_here", ()).calls[0].value == 2


def test_private_files_are_unreadable(sandbox, isolation, tmp_path):
    if not isolation.get("setuid_nobody"):
        pytest.skip("the child keeps the caller's uid (not root)")
    secret = tmp_path / "holdout.txt"
    secret.write_text("the answers")
    secret.chmod(0o600)
    result = run(sandbox, "read_file", "read", (str(secret),))
    assert result.calls[0].value.startswith(("PermissionError", "FileNotFoundError"))


def test_network_is_unreachable(sandbox, isolation):
    if not isolation.get("net"):
        pytest.skip("no network namespace on this machine")
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    port = server.getsockname()[1]
    got: list[bytes] = []

    def accept() -> None:
        try:
            conn, _ = server.accept()
            got.append(conn.recv(100))
        except OSError:
            pass

    thread = threading.Thread(target=accept)
    thread.start()
    result = run(sandbox, "network", "connect", (port,))
    thread.join()
    server.close()
    assert not result.calls[0].ok and "OSError" in result.calls[0].error or \
        "ConnectionRefused" in result.calls[0].error
    assert got == []


def test_lock_holder_past_timeout_is_killed(sandbox):
    result = run(sandbox, "lock_and_sleep")
    assert result.status == "timeout"
    assert_still_works(sandbox)


def test_hostile_return_values_stay_behind(sandbox):
    calls = [CandidateCall("solve", SORT_INPUT), CandidateCall("array"),
             CandidateCall("shapeshifter"), CandidateCall("bad_str_error")]
    result = sandbox.run(HOSTILE / "hostile_return.py", calls,
                         SandboxLimits(timeout_s=1.5, memory_mb=1024))
    assert result.status == "ok", result.reason
    solved, array, shifter, error = result.calls
    assert type(solved.value) is list and solved.value == [1, 2, 3]
    assert type(array.value).__name__ == "ndarray" and array.value.tolist() == [0, 1, 2, 3]
    assert not shifter.ok and "Shapeshifter" in shifter.error
    assert not error.ok and error.error.startswith("Weird: <unprintable message>")
    assert not os.path.exists("/tmp/evolve-pwned")


# --- through the executor with the toy evaluator ---------------------------------------

@pytest.fixture(scope="module")
def executor():
    pool = LocalExecutor(workers=1)
    yield pool
    pool.shutdown()


def job(fixture: str, problem_dir: Path, **args) -> EvaluationJob:
    return EvaluationJob(program_id=fixture, code=(HOSTILE / f"{fixture}.py").read_text(),
                         problem_dir=problem_dir, evaluator="tests.support_evaluation:ToyEvaluator",
                         evaluator_args=args, timeout_s=1.5, seed=0, preload=["numpy"])


@pytest.mark.parametrize("fixture, reason", [
    ("infinite_loop", "timeout: candidate exceeded the 1.5 s wall-clock limit"),
    ("segfault", "crashed: candidate process was killed by SIGSEGV"),
    ("exit_self", "crashed: candidate process exited with code 0"),
    ("stdout_flood", "output_limit: candidate wrote"),
    ("fork_bomb", "solve raised: PermissionError"),
    ("lock_and_sleep", "timeout:"),
])
def test_executor_gives_invalid_results_and_keeps_working(executor, tmp_path, fixture, reason):
    result = asyncio.run(executor.evaluate(job(fixture, tmp_path)))
    assert not result.valid and result.reason.startswith(reason), result.reason
    follow_up = asyncio.run(executor.evaluate(job("good", tmp_path)))
    assert follow_up.valid and follow_up.score == 1.0


def test_monkeypatching_the_evaluator_has_no_effect(executor, tmp_path):
    result = asyncio.run(executor.evaluate(job("monkeypatch_evaluator", tmp_path)))
    assert result.valid and result.score < 1.0  # judged against the real sorted()


def test_hostile_return_is_scored_on_plain_data(executor, tmp_path):
    result = asyncio.run(executor.evaluate(job("hostile_return", tmp_path)))
    assert result.valid and result.score == 1.0
