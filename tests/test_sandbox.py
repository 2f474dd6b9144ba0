"""Sandbox API: plain data, per-call errors, statuses, restart, environment scrub."""

from __future__ import annotations

import os
import pickle
import textwrap
from pathlib import Path

import numpy as np
import pytest

from evolve.evaluation.plain import TensorValue, dumps_plain, loads_plain, to_plain
from evolve.evaluation.sandbox import CandidateCall, Sandbox, SandboxLimits

LIMITS = SandboxLimits(timeout_s=2, memory_mb=1024)


@pytest.fixture(scope="module")
def sandbox():
    box = Sandbox(preload=("numpy",), env={"EXTRA_SETTING": "1", "MY_API_KEY": "leak"})
    yield box
    box.close()


def write(tmp_path: Path, source: str, name: str = "program.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return path


def test_calls_return_plain_values_and_timings(sandbox, tmp_path):
    prog = write(tmp_path, """
        import numpy as np
        def double(x, scale=2):
            return np.asarray(x) * scale
        def structure():
            return {"a": [1, 2.5, None, True], "b": ("s", b"raw"), "c": np.float32(1.5)}
    """)
    calls = [CandidateCall("double", (np.arange(3),), {"scale": 3}, warmup=1, repeat=4),
             CandidateCall("structure")]
    result = sandbox.run(prog, calls, LIMITS)
    assert result.ok, result.reason
    assert result.calls[0].value.tolist() == [0, 3, 6]
    assert len(result.calls[0].times_s) == 4 and all(t >= 0 for t in result.calls[0].times_s)
    value = result.calls[1].value
    assert value["a"] == [1, 2.5, None, True] and value["b"] == ("s", b"raw")
    assert value["c"] == np.float32(1.5) and value["c"].dtype == np.float32


def test_per_call_exception_does_not_stop_later_calls(sandbox, tmp_path):
    prog = write(tmp_path, """
        def bad():
            raise ValueError("no good")
        def good():
            return 7
    """)
    result = sandbox.run(prog, [CandidateCall("bad"), CandidateCall("good")], LIMITS)
    assert result.status == "ok"
    assert not result.calls[0].ok and result.calls[0].error.startswith("ValueError: no good")
    assert "raise ValueError" in result.calls[0].error  # traceback tail for feedback
    assert result.calls[1].ok and result.calls[1].value == 7
    assert "1 of 2 calls raised" in result.reason


def test_import_error_is_reported_with_message(sandbox, tmp_path):
    prog = write(tmp_path, "def broken(:\n    pass\n")
    result = sandbox.run(prog, [CandidateCall("broken")], LIMITS)
    assert result.status == "import_error"
    assert "SyntaxError" in result.reason


def test_missing_function_is_a_call_error(sandbox, tmp_path):
    prog = write(tmp_path, "x = 1\n")
    result = sandbox.run(prog, [CandidateCall("nope")], LIMITS)
    assert not result.calls[0].ok and "AttributeError" in result.calls[0].error


def test_unconvertible_return_value_names_the_type(sandbox, tmp_path):
    prog = write(tmp_path, """
        class Thing:
            pass
        def make():
            return Thing()
    """)
    result = sandbox.run(prog, [CandidateCall("make")], LIMITS)
    assert "Thing" in result.calls[0].error and "convert" in result.calls[0].error


def test_trusted_converter_runs_in_child(sandbox, tmp_path):
    prog = write(tmp_path, """
        class Plan:
            def __init__(self):
                self.paths = [[0, 1], [1, 2]]
        def plan():
            return Plan()
    """)
    call = CandidateCall("plan", convert="tests.support_evaluation:paths_of")
    result = sandbox.run(prog, [call], LIMITS)
    assert result.ok and result.calls[0].value == {"paths": [[0, 1], [1, 2]]}


def test_files_are_copied_next_to_the_program(sandbox, tmp_path):
    prog = write(tmp_path, """
        def read():
            return open("data/input.txt").read()
    """)
    result = sandbox.run(prog, [CandidateCall("read")], LIMITS,
                         files={"data/input.txt": b"payload"})
    assert result.calls[0].value == "payload"
    with pytest.raises(ValueError):
        sandbox.run(prog, [CandidateCall("read")], LIMITS, files={"../x": b""})


def test_environment_is_scrubbed(sandbox, tmp_path, monkeypatch):
    prog = write(tmp_path, """
        import os
        def env():
            return dict(os.environ)
    """)
    result = sandbox.run(prog, [CandidateCall("env")], SandboxLimits(timeout_s=2, threads=3))
    env = result.calls[0].value
    assert env["EXTRA_SETTING"] == "1" and "MY_API_KEY" not in env
    assert env["OMP_NUM_THREADS"] == "3" and env["MKL_NUM_THREADS"] == "3"
    assert not any("KEY" in k or "TOKEN" in k or k.startswith("OPENAI") for k in env)
    assert env["HOME"] != os.environ.get("HOME")


def test_stdout_and_stderr_are_captured(sandbox, tmp_path):
    prog = write(tmp_path, """
        import sys
        print("to out")
        def f():
            print("to err", file=sys.stderr)
    """)
    result = sandbox.run(prog, [CandidateCall("f")], LIMITS)
    assert result.stdout == "to out\n" and result.stderr == "to err\n"


def test_dead_zygote_is_restarted_transparently(tmp_path):
    prog = write(tmp_path, "def f():\n    return 1\n")
    with Sandbox(preload=()) as box:
        assert box.run(prog, [CandidateCall("f")], LIMITS).ok
        first = box.zygote_pid
        os.kill(first, 9)
        result = box.run(prog, [CandidateCall("f")], LIMITS)
        assert result.ok and box.zygote_pid not in (None, first)


def test_plain_roundtrip_and_restricted_unpickler():
    value = {"t": TensorValue("torch.int64", (2,), np.array([1, 2])), "a": np.eye(2)}
    back = loads_plain(dumps_plain(to_plain(value)))
    assert back["t"].array.tolist() == [1, 2] and back["a"].tolist() == [[1, 0], [0, 1]]
    with pytest.raises(pickle.UnpicklingError):
        loads_plain(pickle.dumps(Path("x")))
    with pytest.raises(pickle.UnpicklingError):
        loads_plain(pickle.dumps(np.array([object()], dtype=object)))
    with pytest.raises(TypeError, match="dtype object"):
        to_plain(np.array([1, "a"], dtype=object))


def test_tensor_value_roundtrip():
    torch = pytest.importorskip("torch")
    tensor = torch.arange(6, dtype=torch.int32).reshape(2, 3)
    plain = to_plain(tensor)
    assert plain.dtype == "torch.int32" and plain.shape == (2, 3)
    assert torch.equal(loads_plain(dumps_plain(plain)).to_torch(), tensor)
