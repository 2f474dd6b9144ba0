"""Run untrusted candidate code in a confined child process.

``Sandbox.run`` sends one request to a warm *zygote* (``_zygote.py``: a clean
interpreter that preloaded e.g. numpy/torch and nothing of the evaluator), which
forks a fresh child per run. The child confines itself (``_confine.py``), imports the
candidate and runs the calls (``_child.py``); only plain data comes back, decoded here
by a restricted unpickler. docs/security.md states what is and is not guaranteed.
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
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from evolve.evaluation import _confine
from evolve.evaluation._zygote import FrameReader, rundir_base, rundir_prefix, write_frame
from evolve.evaluation.plain import dumps_plain, loads_plain

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
    function: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
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
    ok: bool
    value: Any
    error: str
    times_s: list[float]


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
        self.preload_errors = dict(loads_plain(hello)["preload_errors"])

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
        request = {
            "program": program_path.read_bytes(), "filename": program_path.name,
            "files": {str(k): bytes(v) for k, v in (files or {}).items()},
            "limits": asdict(limits), "env": self.env,
            "calls": pickle.dumps([_shallow_fields(c) for c in calls], protocol=5),
        }
        with self._lock:
            response = self._exchange(dumps_plain(request), limits.timeout_s)
        if isinstance(response, SandboxResult):
            return response
        return _interpret(response, limits, list(calls))

    def _exchange(self, request: bytes, timeout_s: float) -> dict[str, Any] | SandboxResult:
        start = time.monotonic()
        for attempt in range(2):  # a zygote found dead is replaced and the run resent once
            if self._proc is None or self._proc.poll() is not None:
                self._kill_zygote()
                self._start()
            assert self._proc is not None and self._proc.stdin is not None and self._reader
            try:
                write_frame(self._proc.stdin.fileno(), request)
                frame = self._reader.read_frame(time.monotonic() + timeout_s + _RESPONSE_GRACE_S)
            except TimeoutError:
                self._kill_zygote()
                return SandboxResult("timeout", "the sandbox process stopped answering; it "
                                     "was restarted", [], "", "", time.monotonic() - start)
            except BrokenPipeError:
                frame = None
            if frame is not None:
                response: dict[str, Any] = loads_plain(frame)
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
    for path in glob.glob(os.path.join(rundir_base(), glob.escape(rundir_prefix(zygote_pid)) + "*")):
        shutil.rmtree(path, ignore_errors=True)


def _decode_report(payload: bytes, expected_calls: int) -> tuple[dict[str, Any] | None, str]:
    """Parse the child's result bytes; returns (report, problem)."""
    if len(payload) < 8 or int.from_bytes(payload[:8], "little") != len(payload) - 8:
        return None, f"the result stream is malformed ({len(payload)} bytes)"
    try:
        report = loads_plain(payload[8:])
    except Exception as exc:  # noqa: BLE001 - any decoding failure is the candidate's
        return None, f"the result could not be decoded ({type(exc).__name__}: {exc})"
    if type(report) is not dict or not isinstance(report.get("calls"), list):
        return None, "the result has the wrong structure"
    if report.get("encode_error"):
        return None, f"the result could not be encoded: {report['encode_error']}"
    calls = report["calls"]
    if report.get("import_error") is None and len(calls) != expected_calls:
        return None, f"expected {expected_calls} call results, got {len(calls)}"
    for item in calls:
        if (type(item) is not dict or type(item.get("ok")) is not bool
                or type(item.get("error")) is not str or type(item.get("times_s")) is not list
                or not all(type(t) is float for t in item["times_s"])):
            return None, "a call result has the wrong structure"
    return report, ""


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
    report, problem = (None, "")
    if resp["payload"]:
        report, problem = _decode_report(resp["payload"], len(calls))
    outcomes = [CallOutcome(c["ok"], c.get("value"), c["error"], c["times_s"])
                for c in (report or {}).get("calls", [])]
    status, reason = _status(resp, limits, calls, report, problem)
    return SandboxResult(status, reason, outcomes, stdout, stderr, float(resp["wall_s"]),
                         dict(resp["isolation"]))


def _status(resp: dict[str, Any], limits: SandboxLimits, calls: list[CandidateCall],
            report: dict[str, Any] | None, problem: str) -> tuple[str, str]:
    sig, memory = resp["signal"], f"{limits.memory_mb} MB address space"
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
    if sig:
        hint = _SIGNAL_HINTS.get(sig, "")
        return "crashed", f"candidate process was killed by {_signal_name(sig)}{hint}"
    if resp["oversize"]:
        return "protocol_error", "candidate returned more than 512 MB of result data"
    if report is None and not problem:
        return "crashed", (f"candidate process exited with code {resp['exit_code']} "
                           "before returning results")
    if report is None:
        return "protocol_error", problem
    if report.get("import_error"):
        if report.get("memory"):
            return "memory", f"candidate ran out of memory ({memory}) while importing"
        return "import_error", f"candidate failed to import: {report['import_error']}"
    failed = [(c, o) for c, o in zip(calls, report["calls"]) if not o["ok"]]
    if report.get("memory"):
        name = failed[0][0].function if failed else "?"
        return "memory", f"candidate ran out of memory ({memory}) in call '{name}'"
    if failed:
        call, outcome = failed[0]
        first = outcome["error"].splitlines()[0] if outcome["error"] else "error"
        return "ok", f"{len(failed)} of {len(calls)} calls raised; first '{call.function}': {first}"
    return "ok", f"all {len(calls)} calls returned"


def _shallow_fields(obj: object) -> dict[str, Any]:
    """Field mapping without ``asdict``'s deep copy: arguments can be large graphs/tensors."""
    return {f.name: getattr(obj, f.name) for f in fields(obj)}  # type: ignore[arg-type]
