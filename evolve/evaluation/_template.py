"""The fork template: the only process that forks sandbox children.

The zygote forks it once, right after importing the preload modules and before reading
any request, and never again. It therefore holds the warm modules and nothing of any
evaluation: no program, no arguments, no earlier run's inputs, not even in freed
memory. A candidate's process is a fork of this template, so scanning its own memory
finds no hidden input of its own run or of earlier runs (the zygote, which does hold
them, is never forked after it has seen one).

Protocol on a SOCK_SEQPACKET socket pair with the zygote: the zygote sends
``{"workdir", "pid_namespace"}`` with the child's pipe ends attached (SCM_RIGHTS); the
template forks, answers ``{"forked": pid, "init": init_pid}``, and when the child has
exited answers ``{"exited": pid, "status": wait_status, "cpu_s": seconds}``.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import socket
from typing import Any

from evolve.evaluation import _confine as confine
from evolve.evaluation._child import run_child

FD_NAMES = ("setup_r", "call_r", "result_w", "control_w", "stdout", "stderr")
_INIT_PROGRAM = shutil.which("cat")


def start(sock: socket.socket, keep_closed: list[int]) -> int:
    """Fork the template (in the zygote); returns its pid."""
    pid = os.fork()
    if pid == 0:
        try:
            for fd in keep_closed:
                os.close(fd)
            confine.set_parent_death_signal(signal.SIGKILL)
            _serve(sock)
        finally:
            os._exit(0)
    return pid


def _serve(sock: socket.socket) -> None:
    own_ns = os.open("/proc/self/ns/pid", os.O_RDONLY) if os.path.exists(
        "/proc/self/ns/pid") else None
    running: dict[int, tuple[int, int | None, int | None]] = {}  # pidfd -> pid, init, its pipe
    listen = sock.fileno()
    while True:
        ready, _, _ = select.select([listen, *running], [], [])
        for fd in ready:
            if fd == listen:
                message, fds, _flags, _addr = socket.recv_fds(sock, 65536, len(FD_NAMES))
                if not message:
                    return  # the zygote is gone
                pid, init_pid, init_w = _fork(json.loads(message), dict(zip(FD_NAMES, fds)),
                                              own_ns)
                running[os.pidfd_open(pid)] = (pid, init_pid, init_w)
                sock.send(json.dumps({"forked": pid, "init": init_pid}).encode())
            else:
                pid, init_pid, init_w = running.pop(fd)
                os.close(fd)
                _, status, usage = os.wait4(pid, 0)
                if init_pid is not None and init_w is not None:  # the namespace dies with it
                    os.close(init_w)
                    _kill(init_pid)
                    os.waitpid(init_pid, 0)
                sock.send(json.dumps({"exited": pid, "status": status,
                                      "cpu_s": usage.ru_utime + usage.ru_stime}).encode())


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _fork(command: dict[str, Any], fds: dict[str, int], own_ns: int | None
          ) -> tuple[int, int | None, int | None]:
    init_pid, init_w = _start_pid_namespace(own_ns) if command["pid_namespace"] else (None, None)
    pid = os.fork()
    if init_pid is not None and own_ns is not None:
        confine.setns(own_ns, confine.CLONE_NEWPID)  # later children: our own namespace
    if pid == 0:
        try:
            run_child(command["workdir"], fds, os.getppid(), init_pid is not None)
        finally:
            os._exit(70)
    for fd in fds.values():
        os.close(fd)
    return pid, init_pid, init_w


def _start_pid_namespace(own_ns: int | None) -> tuple[int | None, int | None]:
    """Give the next child a fresh PID namespace whose init is a tiny ``cat``.

    ``unshare(CLONE_NEWPID)`` affects this process's *next* children: the spawned
    ``cat`` (cheap: no page-table copy, unlike forking this interpreter) becomes PID 1,
    the candidate PID 2. Killing the init kills the namespace; the init also exits on
    EOF when the template dies, so nothing outlives it.
    """
    if os.geteuid() != 0 or _INIT_PROGRAM is None or not confine.unshare(confine.CLONE_NEWPID):
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
        if own_ns is not None:
            confine.setns(own_ns, confine.CLONE_NEWPID)
        return None, None
    finally:
        os.close(init_r)
    return init_pid, init_w  # the init reads EOF (and exits) once init_w is closed
