"""What crosses from the candidate's process to the trusted side: bounded decoding,
the zygote's clock, answers only when asked, and the trusted evaluator's memory budget."""

from __future__ import annotations

import pickle
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from evolve.evaluation.plain import (
    CandidateDataError,
    DecodeLimits,
    TensorValue,
    dumps_plain,
    loads_candidate,
    to_plain,
)
from evolve.evaluation.runner import run_evaluation
from evolve.evaluation.sandbox import CandidateCall, Sandbox, SandboxLimits
from evolve.evaluation.types import EvaluationContext, EvaluationResult

LIMITS = SandboxLimits(timeout_s=20, memory_mb=1024)


@pytest.fixture(scope="module")
def sandbox():
    box = Sandbox(preload=("numpy",))
    yield box
    box.close()


def write(tmp_path: Path, source: str) -> Path:
    path = tmp_path / "candidate.py"
    path.write_text(textwrap.dedent(source))
    return path


def test_honest_values_decode_including_repeated_strings() -> None:
    value = {"rows": [{"name": "x", "v": np.arange(4)} for _ in range(3)],
             "t": TensorValue("torch.float32", (2,), np.zeros(2, np.float32)), "n": None}
    back = loads_candidate(dumps_plain(to_plain(value)))
    assert back["rows"][2]["name"] == "x" and back["rows"][1]["v"].tolist() == [0, 1, 2, 3]


def test_shared_references_are_refused_before_anything_is_built() -> None:
    bomb = [1]
    for _ in range(60):
        bomb = [bomb, bomb]
    data = pickle.dumps(bomb)
    assert len(data) < 1000
    started = time.perf_counter()
    with pytest.raises(CandidateDataError, match="refused pickle opcode"):
        loads_candidate(data)
    assert time.perf_counter() - started < 5  # a refusal, not a walk of 2**60 leaves


@pytest.mark.parametrize("value, limits, reason", [  # ids: the values are too big to name

    (eval("[" * 100 + "]" * 100), DecodeLimits(), "nested deeper"),
    (list(range(1000)), DecodeLimits(max_objects=500), "more than 500 objects"),
    (np.zeros(1000), DecodeLimits(max_bytes=4000), "limit 4000"),
    ({(1, 2): 3}, DecodeLimits(), "dict key"),
    ({1, 2}, DecodeLimits(), "unexpected type set"),
    (2 ** 70000, DecodeLimits(), "too large"),
], ids=["deep", "many", "big-array", "tuple-key", "set", "huge-int"])
def test_bounds(value: object, limits: DecodeLimits, reason: str) -> None:
    with pytest.raises(CandidateDataError, match=reason):
        loads_candidate(pickle.dumps(value, protocol=5), limits)


def test_array_reconstruction_cannot_allocate_what_the_payload_did_not_carry() -> None:
    class Huge:
        def __reduce__(self):
            return (np._core.multiarray._reconstruct, (np.ndarray, (2 ** 33,), b"b"))

    with pytest.raises(CandidateDataError, match="malformed"):
        loads_candidate(pickle.dumps(Huge(), protocol=2))


def test_timing_comes_from_the_zygote_not_the_candidate(sandbox: Sandbox, tmp_path: Path) -> None:
    """A candidate that freezes every clock it can reach still takes its real time."""
    program = write(tmp_path, """
        import time
        _real_sleep = time.sleep
        for name in ("perf_counter", "perf_counter_ns", "monotonic", "monotonic_ns", "time"):
            setattr(time, name, lambda: 0)
        def work():
            _real_sleep(0.3)
            return 1
    """)
    result = sandbox.run(program, [CandidateCall("work", repeat=2)], LIMITS)
    assert result.ok, result.reason
    assert len(result.calls[0].times_s) == 2 and min(result.calls[0].times_s) >= 0.29
    assert result.calls[0].values == [1, 1]


def test_an_answer_written_before_the_question_is_a_protocol_error(
        sandbox: Sandbox, tmp_path: Path) -> None:
    program = write(tmp_path, """
        import os, pickle, sys
        def _result_fd():
            frame = sys._getframe()
            while frame is not None:
                fds = frame.f_locals.get("fds")
                if isinstance(fds, dict):
                    return fds["result_w"]
                frame = frame.f_back
        def first():
            data = pickle.dumps({"ok": True, "value": 42, "error": "", "memory": False})
            data = (2).to_bytes(8, "little") + data  # numbered as the answer to call 2
            frame = len(data).to_bytes(8, "little") + data
            os.write(_result_fd(), frame)  # an early answer for the *next* call
            return 1
        def second():
            return 2
    """)
    result = sandbox.run(program, [CandidateCall("first"), CandidateCall("second")], LIMITS)
    assert result.status == "protocol_error"
    assert "an answer nobody asked for" in result.reason


MEMORY_SCANNER = """
    import ctypes, re
    PATTERN = re.compile(rb"EVOLVE-MARKER-[0-9a-f]{32}")
    ctypes.CDLL(None).prctl(4, 1, 0, 0, 0)  # PR_SET_DUMPABLE: /proc/self/mem readable again

    def _scan():
        found = set()
        with open("/proc/self/maps") as maps, open("/proc/self/mem", "rb", 0) as mem:
            for line in maps:
                fields = line.split()
                if not fields[1].startswith("rw"):
                    continue
                start, end = (int(x, 16) for x in fields[0].split("-"))
                try:
                    mem.seek(start)
                    found.update(m.decode() for m in PATTERN.findall(mem.read(end - start)))
                except (OSError, ValueError, OverflowError):
                    pass
        return sorted(found)

    AT_IMPORT = _scan()

    def scan(_marker):
        return {"import": AT_IMPORT, "call": _scan()}

    def later(marker):
        return marker
"""


def test_no_hidden_input_is_in_the_candidates_memory(sandbox: Sandbox, tmp_path: Path) -> None:
    """The child is forked from a template that never held any run's data: neither an
    earlier run's arguments nor a later call of its own run are anywhere in its memory."""
    import uuid

    if not Path("/proc/self/mem").exists():
        pytest.skip("no /proc")
    earlier, own, later = (f"EVOLVE-MARKER-{uuid.uuid4().hex}" for _ in range(3))
    program = write(tmp_path, MEMORY_SCANNER)
    first = sandbox.run(program, [CandidateCall("later", (earlier,))], LIMITS)
    assert first.ok and first.calls[0].value == earlier
    calls = [CandidateCall("scan", (own,)), CandidateCall("later", (later,))]
    result = sandbox.run(program, calls, LIMITS)
    assert result.ok, result.reason
    if not (result.isolation.get("pid") or result.isolation.get("file_view") is False):
        pytest.skip("no readable /proc in the child")
    seen = result.calls[0].value
    assert earlier not in seen["import"] + seen["call"]
    assert later not in seen["import"] + seen["call"]
    assert own in seen["call"] and own not in seen["import"]  # the scan does see its own call


class _Greedy:
    """A trusted evaluator that builds something large from a candidate's output."""

    def evaluate(self, candidate_path: Path, context: EvaluationContext) -> EvaluationResult:
        block = np.ones(300 * 1024 * 1024 // 8)  # 300 MB
        return EvaluationResult(valid=True, score=float(block[0]))


def test_the_trusted_evaluator_runs_under_its_own_memory_budget(tmp_path: Path) -> None:
    context = EvaluationContext(problem_dir=tmp_path, sandbox=None,  # type: ignore[arg-type]
                                trusted_memory_mb=64)
    result = run_evaluation(_Greedy(), tmp_path / "x.py", context)
    assert not result.valid and "memory budget (64 MB)" in result.reason
    roomy = EvaluationContext(problem_dir=tmp_path, sandbox=None,  # type: ignore[arg-type]
                              trusted_memory_mb=2048)
    assert run_evaluation(_Greedy(), tmp_path / "x.py", roomy).valid  # the limit was lifted


def test_a_dead_fork_template_is_replaced_with_a_fresh_zygote(tmp_path: Path) -> None:
    import os
    import signal

    program = write(tmp_path, "def work():\n    return 7\n")
    with Sandbox(preload=("numpy",)) as box:
        assert box.run(program, [CandidateCall("work")], LIMITS).ok
        first_zygote, template = box.zygote_pid, box.template_pid
        assert template is not None
        os.kill(template, signal.SIGKILL)
        failed = box.run(program, [CandidateCall("work")], LIMITS)
        assert failed.status == "crashed" and "fork template" in failed.reason
        again = box.run(program, [CandidateCall("work")], LIMITS)
        assert again.ok and again.calls[0].value == 7
        assert box.zygote_pid != first_zygote and box.template_pid != template
