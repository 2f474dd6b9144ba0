"""The sandbox child: confine itself, import the candidate, answer calls one by one.

Runs only in a process freshly forked from the fork template (``_template.py``).
Everything up to the candidate import is trusted (it reports the isolation it achieved
on the control pipe and then closes it); everything after is under the candidate's
control, so the trusted side treats the result pipe's bytes as hostile data.

After the import the child writes one frame (the import outcome), then waits for call
frames on its call pipe and answers each with one result frame. It never holds a call
before the zygote sends it, and it measures nothing: the zygote times each call from
sending the request to receiving the complete answer.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import pickle
import signal
import sys
import traceback
from collections.abc import Callable
from typing import Any

from evolve.evaluation import _confine as confine
from evolve.evaluation import _fileview as fileview
from evolve.evaluation.frames import read_frame_blocking, write_frame
from evolve.evaluation.plain import dumps_plain, to_plain

_MEMORY_HINTS = ("can't allocate memory", "bad_alloc", "cannot allocate memory", "out of memory")


_OWN_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the evolve package


def _describe(exc: BaseException) -> str:
    """One line ``ExcType: message (at file:line in function)``, then the last traceback
    lines of real files (no interpreter-internal frames); robust to hostile ``__str__``."""
    try:
        head = f"{type(exc).__name__}: {exc}"
    except BaseException:  # noqa: BLE001 - the message itself may be hostile
        head = f"{type(exc).__name__}: <unprintable message>"
    head = " ".join(str.__str__(head).split())
    try:
        frames = [f for f in traceback.extract_tb(exc.__traceback__)
                  if not f.filename.startswith(("<", _OWN_DIR))]
        if frames:
            last = frames[-1]
            head += f" (at {os.path.basename(last.filename)}:{last.lineno} in {last.name})"
        tail = "".join(traceback.format_list(frames[-3:])).rstrip()
    except BaseException:  # noqa: BLE001
        tail = ""
    text = head if not tail else f"{head}\n{tail}"
    return str.__str__(text[:4000])


def _is_memory_error(exc: BaseException, text: str) -> bool:
    return isinstance(exc, MemoryError) or any(h in text.lower() for h in _MEMORY_HINTS)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _close_fds_except(keep: set[int]) -> None:
    for fd in range(3, 1024):
        if fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


def run_child(workdir: str, fds: dict[str, int], parent_pid: int, pid_namespace: bool) -> None:
    """Entry point right after ``fork`` in the fork template; never returns.

    The run's settings arrive on ``fds["setup_r"]`` after the fork, so nothing of the run
    was in the template's memory. With ``pid_namespace`` this process is PID 2 of a fresh
    PID namespace whose init is killed on timeout, taking every process of the namespace
    with it.
    """
    os.setsid()
    confine.set_parent_death_signal(signal.SIGKILL)
    if os.getppid() != parent_pid and not pid_namespace:
        os._exit(1)  # the template died between fork and prctl
    _close_fds_except(set(fds.values()))  # the template's socket and pipes stay behind
    setup = read_frame_blocking(fds["setup_r"])
    os.close(fds.pop("setup_r"))
    if setup is None:
        os._exit(1)
    req: dict[str, Any] = pickle.loads(setup)  # trusted bytes from the zygote
    iso: dict[str, bool] = {"pid": pid_namespace}
    if os.geteuid() == 0:
        for name, flag in (("net", confine.CLONE_NEWNET), ("mount", confine.CLONE_NEWNS),
                           ("ipc", confine.CLONE_NEWIPC)):
            iso[name] = confine.unshare(flag)
    else:
        uid, gid = os.geteuid(), os.getegid()
        flags = confine.CLONE_NEWUSER | confine.CLONE_NEWNET | confine.CLONE_NEWNS
        iso["user_namespace"] = confine.unshare(flags) and fileview.map_own_ids(uid, gid)
        iso["net"] = iso["mount"] = iso["user_namespace"]
        if not iso["user_namespace"]:
            iso["net"] = confine.unshare(confine.CLONE_NEWUSER | confine.CLONE_NEWNET)
    _run_candidate(req, workdir, fds, iso)


def _confine_self(req: dict[str, Any], workdir: str, fds: dict[str, int],
                  iso: dict[str, bool]) -> None:
    limits = req["limits"]
    is_root = os.geteuid() == 0
    # Counted before /proc is replaced by the namespace's own (which would hide them).
    nobody_tasks = (confine.count_tasks_of_uid(confine.NOBODY_UID)
                    if is_root and limits["max_processes"] > 0 else 0)
    interpreter = [*sys.path, sys.prefix, sys.base_prefix,
                   os.path.dirname(os.path.realpath(sys.executable))]
    if is_root:
        for root, dirs, files in os.walk(workdir):
            for name in [root, *(os.path.join(root, n) for n in dirs + files)]:
                os.chown(name, confine.NOBODY_UID, confine.NOBODY_UID)
    iso["file_view"] = bool(iso.get("mount")) and fileview.enter_file_view(
        workdir, os.path.dirname(workdir), mount_proc=bool(iso.get("pid")))
    if iso.get("mount") and is_root and not iso["file_view"]:
        # Fallback: the whole tree stays visible, but read-only.
        stage = os.path.join(os.path.dirname(workdir), "stage")
        iso["interpreter_visible"] = confine.expose_paths(interpreter, stage)
        iso["fs_readonly"] = confine.make_filesystem_readonly(workdir, bool(iso.get("pid")))
    elif iso["file_view"]:
        iso["interpreter_visible"] = iso["fs_readonly"] = True
    clean_env = confine.scrub_environment(
        dict(os.environ), req["env"], home=workdir, threads=limits["threads"])
    os.environ.clear()
    os.environ.update(clean_env)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(fds["stdout"], 1)
    os.dup2(fds["stderr"], 2)
    _close_fds_except({fds["result_w"], fds["control_w"], fds["call_r"]})
    confine.set_limits(limits["memory_mb"], limits["cpu_s"], limits["file_size_mb"])
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # oversize writes fail with EFBIG instead
    # Dropping to nobody is only done when nobody can still reach the interpreter.
    reachable = all(confine.others_can_enter(p) for p in interpreter if os.path.isdir(p))
    iso["setuid_nobody"] = confine.drop_privileges() if is_root and reachable else False
    if iso.get("user_namespace"):
        iso["no_capabilities"] = confine.drop_capabilities()
    own_tasks = nobody_tasks + 1 if iso["setuid_nobody"] else \
        confine.count_tasks_of_uid(os.getuid()) if limits["max_processes"] > 0 else 0
    iso["nproc_limit"] = confine.limit_processes(limits["max_processes"], os.getuid(), own_tasks)
    iso["no_fork"] = confine.forbid_new_processes() if limits["max_processes"] <= 0 else False
    os.chdir(workdir)
    sys.path.insert(0, workdir)
    sys.dont_write_bytecode = True
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(max(1, int(limits["threads"])))


def _run_candidate(req: dict[str, Any], workdir: str, fds: dict[str, int],
                   iso: dict[str, bool]) -> None:
    try:
        # Trusted converters come from the project tree, which the file view hides.
        converters = {path: _import_path(path) for path in req["converters"]}
        _confine_self(req, workdir, fds, iso)
    except BaseException as exc:  # noqa: BLE001 - a setup failure must still be reported
        message = json.dumps(_describe(exc))
        os.write(fds["control_w"], f"setup_error {message}\n".encode())
        os._exit(3)
    os.write(fds["control_w"], f"iso {json.dumps(iso)}\n".encode())
    os.close(fds["control_w"])
    imported: dict[str, Any] = {"import_error": None, "memory": False}
    try:
        module = _import_candidate(os.path.join(workdir, req["filename"]))
    except BaseException as exc:  # noqa: BLE001 - SyntaxError, SystemExit, anything
        text = _describe(exc)
        imported = {"import_error": text, "memory": _is_memory_error(exc, text)}
        module = None
    _answer(fds["result_w"], 0, imported)
    number = 0
    while module is not None:
        spec = read_frame_blocking(fds["call_r"])
        if spec is None:
            break
        number += 1
        _answer(fds["result_w"], number, _run_call(module, pickle.loads(spec), converters))
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001 - e.g. EFBIG once the output cap is hit
            pass
    os._exit(0)


def _answer(fd: int, number: int, message: dict[str, Any]) -> None:
    """Answer frame: the request's number (8 bytes; 0 for the import), then the message."""
    try:
        payload = dumps_plain(message)
    except BaseException as exc:  # noqa: BLE001
        payload = dumps_plain({"ok": False, "value": None, "memory": False,
                               "error": f"could not encode the result: {_describe(exc)}"})
    write_frame(fd, number.to_bytes(8, "little") + payload)


def _import_path(path: str) -> Callable[..., Any]:
    module_name, _, attr = path.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj  # type: ignore[no-any-return]


def _import_candidate(path: str) -> Any:
    spec = importlib.util.spec_from_file_location("candidate", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {os.path.basename(path)}")
    module = importlib.util.module_from_spec(spec)
    sys.modules["candidate"] = module
    spec.loader.exec_module(module)
    return module


def _sync_device() -> None:
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_initialized():
        torch.cuda.synchronize()


def _run_call(module: Any, call: dict[str, Any], converters: dict[str, Any]) -> dict[str, Any]:
    """One execution of one call; the answer frame is what the zygote's clock waits for."""
    try:
        fn: Any = module
        for part in call["function"].split("."):
            fn = getattr(fn, part)
        value = fn(*call["args"], **call["kwargs"])
        _sync_device()
    except BaseException as exc:  # noqa: BLE001 - the candidate's fault, reported per call
        text = _describe(exc)
        return {"ok": False, "value": None, "error": text, "memory": _is_memory_error(exc, text)}
    try:
        if call["convert"]:
            value = converters[call["convert"]](value)
        plain = to_plain(value)
    except BaseException as exc:  # noqa: BLE001
        text = f"could not convert the return value: {_describe(exc)}"
        return {"ok": False, "value": None, "error": text, "memory": _is_memory_error(exc, text)}
    return {"ok": True, "value": plain, "error": "", "memory": False}
