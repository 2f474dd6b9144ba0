"""The sandbox zygote: a clean interpreter that forks one child per candidate run.

Started by :class:`evolve.evaluation.sandbox.Sandbox` as
``python -m evolve.evaluation._zygote --preload numpy,torch``. It imports the preload
modules once (so each child starts warm) and nothing of the evaluator, then serves
length-prefixed requests on stdin/stdout. It never imports or unpickles candidate
output: the child's result bytes are relayed to the trusted parent as they are.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import select
import shutil
import signal
import sys
import tempfile
import time
from typing import Any

from evolve.evaluation._child import run_child
from evolve.evaluation._confine import CLONE_NEWPID, setns, unshare
from evolve.evaluation.plain import dumps_plain, loads_plain

MAX_RESULT_BYTES = 512 * 1024 * 1024
_HEADER = 8


def write_frame(fd: int, data: bytes) -> None:
    view = memoryview(len(data).to_bytes(_HEADER, "little") + data)
    while view:
        view = view[os.write(fd, view):]


class FrameReader:
    """Reads length-prefixed frames from a pipe with a deadline (``None``: no deadline)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buffer = bytearray()
        self.eof = False

    def fill(self, timeout: float | None) -> bool:
        """Read what is available (waiting up to ``timeout``); False on timeout."""
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return False
        chunk = os.read(self.fd, 1 << 20)
        if not chunk:
            self.eof = True
        self.buffer += chunk
        return True

    def read_frame(self, deadline: float | None = None) -> bytes | None:
        """The next frame; ``None`` at EOF. Raises TimeoutError past ``deadline``."""
        while True:
            if len(self.buffer) >= _HEADER:
                size = int.from_bytes(self.buffer[:_HEADER], "little")
                if len(self.buffer) >= _HEADER + size:
                    frame = bytes(self.buffer[_HEADER:_HEADER + size])
                    del self.buffer[:_HEADER + size]
                    return frame
            if self.eof:
                return None
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not self.fill(timeout) and deadline is not None:
                raise TimeoutError("no frame before the deadline")


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


def run_one(req: dict[str, Any], zygote_pid: int) -> dict[str, Any]:
    """Fork one child for ``req``, supervise it, and describe how it ended."""
    rundir, workdir = _prepare_workdir(req)
    out_path, err_path = os.path.join(rundir, "stdout"), os.path.join(rundir, "stderr")
    result_r, result_w = os.pipe()
    control_r, control_w = os.pipe()
    fds = {"result_w": result_w, "control_w": control_w,
           "stdout": os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
           "stderr": os.open(err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)}
    start = time.monotonic()
    init_pid, init_w = _start_pid_namespace()
    pid = os.fork()
    if init_pid is not None:
        _reset_pid_namespace()
    if pid == 0:
        try:
            if init_w is not None:
                os.close(init_w)
            run_child(req, workdir, fds, zygote_pid, init_pid is not None)
        finally:
            os._exit(70)
    for fd in fds.values():
        os.close(fd)
    try:
        return _supervise(req, pid, init_pid, result_r, control_r, start, out_path, err_path)
    finally:
        os.close(result_r)
        os.close(control_r)
        if init_pid is not None and init_w is not None:
            os.close(init_w)  # its init reads EOF and exits: the namespace dies with it
            _kill(init_pid, None, None)
            os.waitpid(init_pid, 0)
        shutil.rmtree(rundir, ignore_errors=True)


_INIT_PROGRAM = shutil.which("cat")
_OWN_PID_NS = os.open("/proc/self/ns/pid", os.O_RDONLY) if os.path.exists("/proc/self/ns/pid") \
    else None


def _reset_pid_namespace() -> None:
    """Point the zygote's future children back at its own PID namespace.

    ``unshare(CLONE_NEWPID)`` refuses to run again while the previous namespace is still
    set for children; ``setns`` to our own namespace clears that for the next run.
    """
    if _OWN_PID_NS is not None:
        setns(_OWN_PID_NS, CLONE_NEWPID)


def _start_pid_namespace() -> tuple[int | None, int | None]:
    """Give the next child a fresh PID namespace whose init is a tiny ``cat``.

    ``unshare(CLONE_NEWPID)`` affects the zygote's *next* children: the spawned ``cat``
    (cheap: no page-table copy, unlike forking this interpreter) becomes PID 1, the
    candidate PID 2. Killing the init kills the namespace; the init also exits on EOF
    when the zygote dies, so nothing outlives it.
    """
    if os.geteuid() != 0 or _INIT_PROGRAM is None or not unshare(CLONE_NEWPID):
        return None, None
    init_r, init_w = os.pipe()
    try:
        init_pid = os.posix_spawn(
            _INIT_PROGRAM, ["cat"], {},
            file_actions=[(os.POSIX_SPAWN_DUP2, init_r, 0),
                          (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0)],
            setsid=True)
    except OSError:
        os.close(init_w)
        _reset_pid_namespace()
        return None, None
    finally:
        os.close(init_r)
    return init_pid, init_w


def _supervise(req: dict[str, Any], pid: int, init_pid: int | None, result_r: int,
               control_r: int, start: float, out_path: str, err_path: str) -> dict[str, Any]:
    deadline = start + float(req["limits"]["timeout_s"])
    pidfd = os.pidfd_open(pid)
    payload, control = bytearray(), bytearray()
    open_fds = {result_r, control_r}
    timed_out = oversize = False
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                timed_out = True
                break
            ready, _, _ = select.select([pidfd, *open_fds], [], [], remaining)
            for fd in ready:
                if fd == pidfd:
                    continue
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    open_fds.discard(fd)
                elif fd == result_r:
                    payload += chunk
                    if len(payload) > MAX_RESULT_BYTES + _HEADER:
                        oversize = True
                else:
                    control += chunk
            if oversize or pidfd in ready:
                break  # what the child wrote before exiting is drained below
        _kill_stragglers(pid, init_pid, hard=timed_out or oversize)
        _, status, usage = os.wait4(pid, 0)
    finally:
        os.close(pidfd)
    _drain(result_r, payload)
    _drain(control_r, control)
    control_info = {k: _control_value(control, k) for k in ("iso", "setup_error")}
    stdout, out_size = _read_capped(out_path, req["limits"]["output_bytes"])
    stderr, err_size = _read_capped(err_path, req["limits"]["output_bytes"])
    return {
        "timed_out": timed_out, "oversize": oversize,
        "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0,
        "exit_code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
        "cpu_s": usage.ru_utime + usage.ru_stime, "wall_s": time.monotonic() - start,
        "payload": bytes(payload), "stdout": stdout, "stderr": stderr,
        "stdout_size": out_size, "stderr_size": err_size,
        "isolation": control_info["iso"] or {}, "setup_error": control_info["setup_error"],
    }


def _kill_stragglers(pid: int, init_pid: Any, hard: bool) -> None:
    """Kill the child's process group (and PID-namespace init) before reaping."""
    if hard:
        _kill(pid, pid, init_pid)
    else:
        try:
            os.killpg(pid, signal.SIGKILL)  # leftovers of a finished run
        except (ProcessLookupError, PermissionError):
            pass


def _drain(fd: int, payload: bytearray) -> None:
    os.set_blocking(fd, False)
    while len(payload) <= MAX_RESULT_BYTES + _HEADER:
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
    write_frame(proto_out, dumps_plain({"pid": os.getpid(), "preload_errors": errors}))
    reader = FrameReader(proto_in)
    while True:
        frame = reader.read_frame()
        if frame is None:
            return 0
        req = loads_plain(frame)
        if req.get("op") == "exit":
            return 0
        try:
            response = run_one(req, os.getpid())
        except Exception as exc:  # noqa: BLE001 - e.g. a bad file name; the parent reports it
            response = {"sandbox_error": f"{type(exc).__name__}: {exc}"}
        try:
            write_frame(proto_out, dumps_plain(response))
        except BrokenPipeError:  # the parent was killed mid-run: nobody to answer (no traceback)
            return 0


if __name__ == "__main__":
    sys.exit(main())
