"""The sandbox zygote: a clean interpreter that forks one child per candidate run.

Started by :class:`evolve.evaluation.sandbox.Sandbox` as
``python -m evolve.evaluation._zygote --preload numpy,torch``. It imports the preload
modules once (so each child starts warm) and nothing of the evaluator, then serves
length-prefixed requests on stdin/stdout. It never imports or unpickles candidate
output: the child's answer frames are relayed to the trusted parent as they are.

The zygote is also the clock. It hands the child one call at a time and times each
from sending the request to receiving the complete answer, so the candidate's process
neither holds a call before it is timed nor measures anything itself.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pickle
import resource
import select
import shutil
import signal
import socket
import sys
import tempfile
import time
from typing import Any

from evolve.evaluation import _template
from evolve.evaluation._template import FD_NAMES
from evolve.evaluation.frames import FrameReader, FrameTooLarge, write_frame
from evolve.evaluation.plain import dumps_plain, loads_plain

__all__ = [
    "MAX_RESULT_BYTES",
    "FrameReader",
    "main",
    "run_one",
    "rundir_base",
    "rundir_prefix",
    "write_frame",
]

MAX_RESULT_BYTES = 512 * 1024 * 1024


def _read_capped(path: str, cap: int) -> tuple[str, int]:
    size = os.path.getsize(path)
    with open(path, "rb") as fh:
        data = fh.read(cap)
    return data.decode("utf-8", errors="replace"), size


def _kill(pid: int, pgid: int | None, init_pid: int | None) -> None:
    targets = [(os.kill, init_pid)] if init_pid else []
    targets += [(os.killpg, pgid)] if pgid else []
    targets += [(os.kill, pid)]
    for kill, target in targets:
        try:
            kill(target, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def rundir_base() -> str:
    base = tempfile.gettempdir()
    if not os.stat(base).st_mode & 0o001 and os.path.isdir("/tmp"):
        base = "/tmp"  # a child running as nobody must be able to traverse the base
    return base


def rundir_prefix(zygote_pid: int) -> str:
    """Run folders carry the zygote's pid: whoever SIGKILLs a zygote mid-run removes them."""
    return f"evolve-sandbox-{zygote_pid}-"


def _prepare_workdir(req: dict[str, Any]) -> tuple[str, str]:
    rundir = tempfile.mkdtemp(prefix=rundir_prefix(os.getpid()), dir=rundir_base())
    os.chmod(rundir, 0o711)  # a child running as nobody may traverse, not list
    workdir = os.path.join(rundir, "work")
    os.mkdir(workdir)
    items = {req["filename"]: req["program"], **req["files"]}
    for name, data in items.items():
        target = os.path.realpath(os.path.join(workdir, name))
        if not target.startswith(workdir + os.sep):
            raise ValueError(f"file name {name!r} escapes the sandbox directory")
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as fh:
            fh.write(data)
    return rundir, workdir


class TemplateGone(RuntimeError):
    """The fork template died or hung; only a new zygote can make a clean one."""


class Template:
    """The zygote's end of the fork template's socket."""

    def __init__(self, sock: socket.socket, pid: int) -> None:
        self.sock = sock
        self.pid = pid

    def fork(self, workdir: str, fds: dict[str, int]) -> tuple[int, int | None]:
        command = {"workdir": workdir, "pid_namespace": os.geteuid() == 0}
        try:
            socket.send_fds(self.sock, [json.dumps(command).encode()],
                            [fds[name] for name in FD_NAMES])
        except OSError as exc:
            raise TemplateGone(f"the sandbox's fork template is gone ({exc.strerror})") from None
        reply = self._receive(time.monotonic() + _TEMPLATE_TIMEOUT_S)
        return int(reply["forked"]), reply["init"]

    def exited(self) -> tuple[int, float]:
        """(wait status, CPU seconds) of the child once the template has reaped it."""
        reply = self._receive(time.monotonic() + _TEMPLATE_TIMEOUT_S)
        return int(reply["status"]), float(reply["cpu_s"])

    def _receive(self, deadline: float) -> dict[str, Any]:
        try:
            ready, _, _ = select.select([self.sock], [], [],
                                        max(0.0, deadline - time.monotonic()))
            message = self.sock.recv(65536) if ready else b""
        except OSError:  # e.g. reset: the template died with our request unread
            message = b""
        if not message:
            raise TemplateGone("the sandbox's fork template stopped answering")
        reply: dict[str, Any] = json.loads(message)
        return reply


_TEMPLATE_TIMEOUT_S = 30.0


def run_one(req: dict[str, Any], template: Template) -> dict[str, Any]:
    """Have the template fork one child for ``req``, feed it its calls, time them, and
    describe how it ended."""
    rundir, workdir = _prepare_workdir(req)
    out_path, err_path = os.path.join(rundir, "stdout"), os.path.join(rundir, "stderr")
    setup_r, setup_w = os.pipe()
    call_r, call_w = os.pipe()
    result_r, result_w = os.pipe()
    control_r, control_w = os.pipe()
    fds = {"setup_r": setup_r, "call_r": call_r, "result_w": result_w, "control_w": control_w,
           "stdout": os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
           "stderr": os.open(err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)}
    start = time.monotonic()
    try:
        try:
            pid, init_pid = template.fork(workdir, fds)
        finally:
            for fd in fds.values():
                os.close(fd)
        setup = {k: req[k] for k in ("limits", "env", "converters", "filename")}
        write_frame(setup_w, pickle.dumps(setup, protocol=5))
        return _supervise(req, template, pid, init_pid, result_r, control_r, call_w, start,
                          out_path, err_path)
    finally:
        for fd in (result_r, control_r, call_w, setup_w):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(rundir, ignore_errors=True)


class _Feed:
    """Drives one child: the import answer, then one answer per call sent."""

    def __init__(self, result_r: int, call_w: int, deadline: float) -> None:
        self.reader = FrameReader(result_r, max_frame=MAX_RESULT_BYTES)
        self.call_w = call_w
        self.deadline = deadline
        self.received = 0
        self.asked = 0  # requests sent; answers carry the number of the one they answer
        self.problem = ""  # "timeout" | "oversize" | "unsolicited" | "closed"

    def answer(self) -> bytes | None:
        try:
            frame = self.reader.read_frame(self.deadline)
        except TimeoutError:
            self.problem = "timeout"
            return None
        except FrameTooLarge:
            self.problem = "oversize"
            return None
        if frame is None:
            self.problem = "closed"
            return None
        self.received += len(frame)
        if self.received > MAX_RESULT_BYTES:
            self.problem = "oversize"
            return None
        if len(frame) < 8 or int.from_bytes(frame[:8], "little") != self.asked:
            self.problem = "unsolicited"  # an extra answer, or one written before the question
            return None
        return frame[8:]

    def call(self, spec: bytes) -> tuple[bytes | None, float]:
        """Send one call and wait for its answer; (frame, seconds on the zygote's clock)."""
        if self.reader.pending():
            self.problem = "unsolicited"  # an answer written before the question
            return None, 0.0
        self.asked += 1
        started = time.perf_counter_ns()
        try:
            write_frame(self.call_w, spec)
        except BrokenPipeError:
            self.problem = "closed"
            return None, 0.0
        frame = self.answer()
        return frame, (time.perf_counter_ns() - started) / 1e9


def _feed_calls(req: dict[str, Any], feed: _Feed) -> dict[str, Any]:
    answers: list[list[bytes]] = []
    times: list[list[float]] = []
    imported = feed.answer()
    if imported is not None:
        for call in req["calls"]:
            frames, seconds = [], []
            for number in range(call["warmup"] + call["repeat"]):
                frame, elapsed = feed.call(call["spec"])
                if frame is None:
                    break
                if number >= call["warmup"]:
                    frames.append(frame)
                    seconds.append(elapsed)
            answers.append(frames)
            times.append(seconds)
            if feed.problem:
                break
    return {"import_frame": imported, "frames": answers, "times_s": times}


def _supervise(req: dict[str, Any], template: Template, pid: int, init_pid: int | None,
               result_r: int, control_r: int, call_w: int, start: float, out_path: str,
               err_path: str) -> dict[str, Any]:
    deadline = start + float(req["limits"]["timeout_s"])
    os.set_blocking(call_w, True)
    feed = _Feed(result_r, call_w, deadline)
    # A write to a child that stopped reading must not outlast the deadline.
    signal.setitimer(signal.ITIMER_REAL, max(0.001, deadline - time.monotonic()) + 1.0)
    try:
        exchange = _feed_calls(req, feed)
    except _Deadline:
        feed.problem = "timeout"
        exchange = {"import_frame": None, "frames": [], "times_s": []}
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    os.close(call_w)  # the child sees EOF, flushes its output and exits
    timed_out = feed.problem == "timeout"
    oversize = feed.problem == "oversize"
    if not feed.problem:
        timed_out = not _wait_exit(pid, deadline)
    _kill_stragglers(pid, init_pid, hard=timed_out or oversize or bool(feed.problem))
    status, cpu_s = template.exited()
    control = bytearray()
    _drain(control_r, control)
    control_info = {k: _control_value(control, k) for k in ("iso", "setup_error")}
    stdout, out_size = _read_capped(out_path, req["limits"]["output_bytes"])
    stderr, err_size = _read_capped(err_path, req["limits"]["output_bytes"])
    return {
        "timed_out": timed_out, "oversize": oversize,
        "unsolicited": feed.problem == "unsolicited",
        "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0,
        "exit_code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
        "cpu_s": cpu_s, "wall_s": time.monotonic() - start,
        **exchange, "stdout": stdout, "stderr": stderr,
        "stdout_size": out_size, "stderr_size": err_size,
        "isolation": control_info["iso"] or {}, "setup_error": control_info["setup_error"],
    }


class _Deadline(Exception):
    pass


def _on_alarm(_sig: int, _frame: object) -> None:
    raise _Deadline


def _wait_exit(pid: int, deadline: float) -> bool:
    """Wait for the child to exit on its own until ``deadline``; False on timeout."""
    pidfd = os.pidfd_open(pid)
    try:
        ready, _, _ = select.select([pidfd], [], [], max(0.0, deadline - time.monotonic()))
        return bool(ready)
    finally:
        os.close(pidfd)


def _kill_stragglers(pid: int, init_pid: Any, hard: bool) -> None:
    """Kill the child's process group (and PID-namespace init) before reaping."""
    if hard:
        _kill(pid, pid, init_pid)
    else:
        try:
            os.killpg(pid, signal.SIGKILL)  # leftovers of a finished run
        except (ProcessLookupError, PermissionError):
            pass


def _drain(fd: int, payload: bytearray, cap: int = 1 << 16) -> None:
    os.set_blocking(fd, False)
    while len(payload) <= cap:
        try:
            chunk = os.read(fd, 1 << 20)
        except BlockingIOError:
            return
        if not chunk:
            return
        payload += chunk


def _control_value(control: bytearray, key: str) -> Any:
    for line in bytes(control).decode(errors="replace").splitlines():
        name, _, value = line.partition(" ")
        if name == key:
            try:
                return json.loads(value)
            except ValueError:
                return None
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--preload", default="")
    opts = parser.parse_args(argv)
    # An evaluator may have capped its own address space when it started us; children
    # set their own limit (memory_mb), and CUDA (memory_mb=0) needs none.
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (hard, hard))
    proto_in, proto_out = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)  # a stray print in a preload module cannot corrupt the protocol
    errors = {}
    for name in filter(None, opts.preload.split(",")):
        try:
            importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - reported to the parent, not fatal
            errors[name] = f"{type(exc).__name__}: {exc}"
    # The template is forked now, before any request is read: it never holds one.
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    template = Template(ours, _template.start(theirs, [proto_in, proto_out, ours.fileno()]))
    theirs.close()
    signal.signal(signal.SIGALRM, _on_alarm)
    write_frame(proto_out, dumps_plain({"pid": os.getpid(), "template_pid": template.pid,
                                        "preload_errors": errors}))
    reader = FrameReader(proto_in)
    while True:
        frame = reader.read_frame()
        if frame is None:
            return 0
        req = loads_plain(frame)
        if req.get("op") == "exit":
            return 0
        gone = False
        try:
            response = run_one(req, template)
        except TemplateGone as exc:  # answered, then exit: the Sandbox starts a fresh zygote
            response, gone = {"sandbox_error": str(exc)}, True
        except Exception as exc:  # noqa: BLE001 - e.g. a bad file name; the parent reports it
            response = {"sandbox_error": f"{type(exc).__name__}: {exc}"}
        try:
            write_frame(proto_out, dumps_plain(response))
        except BrokenPipeError:  # the parent was killed mid-run: nobody to answer (no traceback)
            return 0
        if gone:
            return 1


if __name__ == "__main__":
    sys.exit(main())
