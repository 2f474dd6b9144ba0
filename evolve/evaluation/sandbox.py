"""Run untrusted candidate code in a confined child process.

``Sandbox.run`` sends one request to a warm *zygote* (``_zygote.py``: a clean
interpreter that preloaded e.g. numpy/torch and nothing of the evaluator), which
forks a fresh child per run. The child confines itself (``_confine.py``, its file
view ``_fileview.py``), imports the candidate and answers the calls the zygote hands
it one at a time (``_child.py``); the zygote times every call on its own clock. Only
plain data comes back, decoded here with bounds (``plain.loads_candidate``).
docs/security.md states what is and is not guaranteed.
"""

from __future__ import annotations

import glob
import os
import pickle
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from evolve.evaluation import _confine
from evolve.evaluation._zygote import rundir_base, rundir_prefix
from evolve.evaluation.frames import FrameReader, write_frame
from evolve.evaluation.plain import CandidateDataError, dumps_plain, loads_candidate, loads_plain

STATUSES = ("ok", "timeout", "memory", "crashed", "import_error", "output_limit",
            "protocol_error")
_STARTUP_TIMEOUT_S = 180.0  # importing torch on a cold disk can take a while
_RESPONSE_GRACE_S = 30.0  # zygote bookkeeping on top of the candidate's wall timeout


@dataclass
class SandboxLimits:
    timeout_s: float = 60
    memory_mb: int = 4096  # address space (RLIMIT_AS); <= 0: unlimited (needed for CUDA)
    cpu_s: float | None = None
    file_size_mb: int = 64
    max_processes: int = 0  # 0: the candidate cannot create processes
    output_bytes: int = 1_000_000
    threads: int = 1


@dataclass
class CandidateCall:
    """One function call into the candidate module, made ``warmup + repeat`` times.

    Each execution is a separate request to the child, timed by the zygote from sending
    it to receiving the whole answer, and every timed execution's value comes back
    (``CallOutcome.values``), so an evaluator can check each one. The child cannot tell
    a warm-up from a timed execution.
    """

    function: str
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    warmup: int = 0
    repeat: int = 1
    # "module:function" of a trusted converter applied to the return value inside the
    # child before plain-data conversion (e.g. a result object -> dict of paths).
    convert: str | None = None

    def __post_init__(self) -> None:
        if self.repeat < 1 or self.warmup < 0:
            raise ValueError("CandidateCall needs repeat >= 1 and warmup >= 0")


@dataclass
class CallOutcome:
    ok: bool  # every timed execution returned
    value: Any  # the last execution's value
    error: str  # the first error
    times_s: list[float]  # per timed execution, measured by the zygote
    values: list[Any] = field(default_factory=list)  # every timed execution's value


@dataclass
class SandboxResult:
    status: str
    reason: str
    calls: list[CallOutcome]
    stdout: str
    stderr: str
    wall_s: float
    # Which confinement measures took effect for this run (see docs/security.md).
    isolation: dict[str, bool] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


_SIGNAL_HINTS = {
    signal.SIGSEGV: " (segmentation fault)", signal.SIGBUS: " (bus error)",
    signal.SIGABRT: " (aborted)", signal.SIGFPE: " (arithmetic fault)",
    signal.SIGKILL: " (killed by the candidate itself or the system out-of-memory killer)",
}


def _signal_name(sig: int) -> str:
    try:
        return signal.Signals(sig).name
    except ValueError:
        return f"signal {sig}"


def _zygote_env(extra_paths: Sequence[str], extra_env: dict[str, str]) -> dict[str, str]:
    """The zygote's environment: scrubbed, plus the sandbox's own variables, so that
    preloaded modules see them at import time (e.g. TRITON_INTERPRET=1)."""
    env = _confine.scrub_environment(os.environ, None, home=os.environ.get("HOME", "/"),
                                     threads=1)
    env.update(extra_env)
    env["TMPDIR"] = tempfile.gettempdir()
    paths = [p or os.getcwd() for p in (*extra_paths, *sys.path)]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(p for p in paths if os.path.isdir(p)))
    return env


class Sandbox:
    """Runs candidate programs in children forked from a warm zygote process."""

    def __init__(self, preload: Sequence[str] = ("numpy",), env: dict[str, str] | None = None):
        self.preload = tuple(preload)
        self.env = dict(env or {})
        self.preload_errors: dict[str, str] = {}
        self.template_pid: int | None = None  # the zygote's fork template (see _template.py)
        self._proc: subprocess.Popen[bytes] | None = None
        self._reader: FrameReader | None = None
        self._lock = threading.Lock()

    @property
    def zygote_pid(self) -> int | None:
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    def _start(self) -> None:
        here = str(Path(__file__).resolve().parents[2])
        cmd = [sys.executable, "-m", "evolve.evaluation._zygote",
               "--preload", ",".join(self.preload)]
        self._proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=_zygote_env([here], self.env),
            start_new_session=True, close_fds=True,
        )
        assert self._proc.stdout is not None
        self._reader = FrameReader(self._proc.stdout.fileno())
        try:
            hello = self._reader.read_frame(time.monotonic() + _STARTUP_TIMEOUT_S)
        except TimeoutError:
            hello = None
        if hello is None:
            self._kill_zygote()
            raise RuntimeError("the sandbox zygote failed to start (see stderr)")
        greeting = loads_plain(hello)
        self.preload_errors = dict(greeting["preload_errors"])
        self.template_pid = int(greeting["template_pid"])

    def _kill_zygote(self) -> None:
        proc, self._proc, self._reader = self._proc, None, None
        if proc is None:
            return
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        proc.wait()
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                stream.close()
        remove_run_folders(proc.pid)

    def run(self, program_path: Path, calls: Sequence[CandidateCall], limits: SandboxLimits,
            files: dict[str, bytes] | None = None) -> SandboxResult:
        """Run ``calls`` against a fresh child that imported ``program_path``."""
        program_path = Path(program_path)
        for name in files or {}:
            if Path(name).is_absolute() or ".." in Path(name).parts:
                raise ValueError(f"sandbox file name {name!r} must be relative, without '..'")
        request = build_request(program_path, calls, limits, files or {}, self.env)
        with self._lock:
            response = self._exchange(dumps_plain(request), limits.timeout_s)
        if isinstance(response, SandboxResult):
            return response
        return _interpret(response, limits, list(calls))

    def _exchange(self, request: bytes, timeout_s: float) -> dict[str, Any] | SandboxResult:
        start = time.monotonic()
        for _attempt in range(2):  # a zygote found dead is replaced and the run resent once
            if self._proc is None or self._proc.poll() is not None:
                self._kill_zygote()
                self._start()
            assert self._proc is not None and self._proc.stdin is not None and self._reader
            try:
                write_frame(self._proc.stdin.fileno(), request)
                frame = self._reader.read_frame(time.monotonic() + timeout_s + _RESPONSE_GRACE_S)
                response: dict[str, Any] | None = None if frame is None else loads_plain(frame)
            except MemoryError:
                self._kill_zygote()  # half a response may still sit in the pipe
                raise
            except TimeoutError:
                self._kill_zygote()
                return SandboxResult("timeout", "the sandbox process stopped answering; it "
                                     "was restarted", [], "", "", time.monotonic() - start)
            except BrokenPipeError:
                frame = None
            if response is not None:
                return response
            self._kill_zygote()
        return SandboxResult("crashed", "the sandbox process died during the run (twice); it "
                             "will be restarted", [], "", "", time.monotonic() - start)

    def close(self) -> None:
        with self._lock:
            if self._proc is not None and self._proc.poll() is None and self._proc.stdin:
                try:
                    write_frame(self._proc.stdin.fileno(), dumps_plain({"op": "exit"}))
                    self._proc.wait(timeout=2)
                except (BrokenPipeError, subprocess.TimeoutExpired):
                    pass
            self._kill_zygote()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self._kill_zygote()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass


def remove_run_folders(zygote_pid: int) -> None:
    """Remove what a zygote killed mid-run could not (it removes its run folders itself
    after each run, so this finds something only then)."""
    pattern = os.path.join(rundir_base(), glob.escape(rundir_prefix(zygote_pid)) + "*")
    for path in glob.glob(pattern):
        shutil.rmtree(path, ignore_errors=True)


def _decode(frame: bytes, what: str) -> tuple[dict[str, Any] | None, str]:
    """One answer frame from the child; returns (message, problem)."""
    try:
        message = loads_candidate(frame)
    except CandidateDataError as exc:
        return None, f"the {what} could not be decoded: {exc}"
    if type(message) is not dict:
        return None, f"the {what} has the wrong structure"
    return message, ""


def _outcome(frames: list[bytes], expected: int) -> tuple[CallOutcome | None, str, bool]:
    """(outcome, problem, ran out of memory) for one call's answer frames."""
    values, errors, memory = [], [], False
    for frame in frames:
        answer, problem = _decode(frame, "call result")
        if answer is None:
            return None, problem, memory
        if (type(answer.get("ok")) is not bool or type(answer.get("error")) is not str
                or type(answer.get("memory")) is not bool):
            return None, "a call result has the wrong structure", memory
        memory = memory or answer["memory"]
        values.append(answer.get("value"))
        if not answer["ok"]:
            errors.append(answer["error"])
    if len(frames) < expected:
        return None, "", memory
    return CallOutcome(not errors, values[-1] if values else None,
                       errors[0] if errors else "", [], values), "", memory


def _interpret(resp: dict[str, Any], limits: SandboxLimits,
               calls: list[CandidateCall]) -> SandboxResult:
    if "sandbox_error" in resp:
        return SandboxResult("crashed", f"sandbox error: {resp['sandbox_error']}", [], "", "",
                             0.0)
    stdout, stderr = resp["stdout"], resp["stderr"]
    cap = limits.output_bytes
    if resp["stdout_size"] > cap:
        stdout += f"\n[... {resp['stdout_size'] - cap} more bytes cut]"
    if resp["stderr_size"] > cap:
        stderr += f"\n[... {resp['stderr_size'] - cap} more bytes cut]"
    report: dict[str, Any] | None = None
    problem = ""
    if resp["import_frame"] is not None:
        report, problem = _decode(resp["import_frame"], "import result")
    outcomes: list[CallOutcome] = []
    failed: list[tuple[CandidateCall, CallOutcome]] = []
    memory = bool(report and report.get("memory") is True)
    for call, frames, times in zip(calls, resp["frames"], resp["times_s"]):
        outcome, trouble, ran_out = _outcome(frames, call.repeat)
        memory = memory or ran_out
        if outcome is None:
            problem = problem or trouble
            break
        outcome.times_s = [float(t) for t in times]
        outcomes.append(outcome)
        if not outcome.ok:
            failed.append((call, outcome))
    status, reason = _status(resp, limits, calls, report, problem, failed, memory,
                             len(outcomes))
    return SandboxResult(status, reason, outcomes, stdout, stderr, float(resp["wall_s"]),
                         dict(resp["isolation"]))


def _status(resp: dict[str, Any], limits: SandboxLimits, calls: list[CandidateCall],
            report: dict[str, Any] | None, problem: str,
            failed: list[tuple[CandidateCall, CallOutcome]], memory: bool,
            answered: int) -> tuple[str, str]:
    sig, budget = resp["signal"], f"{limits.memory_mb} MB address space"
    if resp["timed_out"]:
        return "timeout", (f"candidate exceeded the {limits.timeout_s:g} s wall-clock limit; "
                           "its processes were killed")
    if resp["setup_error"]:
        return "crashed", f"sandbox setup failed: {resp['setup_error']}"
    big = max(resp["stdout_size"], resp["stderr_size"])
    if big > limits.output_bytes:
        return "output_limit", (f"candidate wrote {big} bytes to stdout/stderr "
                                f"(limit {limits.output_bytes})")
    cpu_hit = limits.cpu_s is not None and resp["cpu_s"] >= limits.cpu_s
    if sig == signal.SIGXCPU or (sig == signal.SIGKILL and cpu_hit):
        return "timeout", f"candidate exceeded the {limits.cpu_s:g} s CPU-time limit"
    if resp["oversize"]:
        return "protocol_error", "candidate returned more than 512 MB of result data"
    if resp["unsolicited"]:
        return "protocol_error", ("candidate wrote to the result channel an answer nobody "
                                  "asked for (before it was asked, or a second one)")
    importing = report is not None and report.get("import_error") is not None
    if sig and not importing:
        hint = _SIGNAL_HINTS.get(sig, "")
        which = f" in call '{calls[answered].function}'" if answered < len(calls) else ""
        return "crashed", f"candidate process was killed by {_signal_name(sig)}{hint}{which}"
    if report is None and not problem:
        return "crashed", (f"candidate process exited with code {resp['exit_code']} "
                           "before returning results")
    if problem:
        return "protocol_error", problem
    assert report is not None
    if importing:
        if report.get("memory"):
            return "memory", f"candidate ran out of memory ({budget}) while importing"
        return "import_error", f"candidate failed to import: {report['import_error']}"
    if answered < len(calls):
        return "crashed", (f"candidate process exited with code {resp['exit_code']} in "
                           f"call '{calls[answered].function}'")
    if memory:
        name = failed[0][0].function if failed else "?"
        return "memory", f"candidate ran out of memory ({budget}) in call '{name}'"
    if failed:
        call, outcome = failed[0]
        first = outcome.error.splitlines()[0] if outcome.error else "error"
        return "ok", f"{len(failed)} of {len(calls)} calls raised; first '{call.function}': {first}"
    return "ok", f"all {len(calls)} calls returned"


def build_request(program_path: Path, calls: Sequence[CandidateCall], limits: SandboxLimits,
                  files: dict[str, bytes], env: dict[str, str]) -> dict[str, Any]:
    """The zygote's request for one run (trusted data; the child gets one call at a time)."""
    return {
        "program": Path(program_path).read_bytes(), "filename": Path(program_path).name,
        "files": {str(k): bytes(v) for k, v in files.items()},
        "limits": asdict(limits), "env": env,
        "converters": sorted({c.convert for c in calls if c.convert}),
        "calls": [{"spec": pickle.dumps(_call_spec(c), protocol=5), "warmup": c.warmup,
                   "repeat": c.repeat} for c in calls],
    }


def _call_spec(call: CandidateCall) -> dict[str, Any]:
    """What the child needs for one execution (no deep copy: arguments can be large)."""
    return {"function": call.function, "args": call.args, "kwargs": call.kwargs,
            "convert": call.convert}
