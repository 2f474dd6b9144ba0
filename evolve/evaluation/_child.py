"""The sandbox child: confine itself, import the candidate, run the calls, report.

Runs only in a process freshly forked from the zygote. Everything up to the candidate
import is trusted (it reports the isolation it achieved on the control pipe and then
closes it); everything after is under the candidate's control, so the trusted side
treats the result pipe's bytes as hostile data.
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


def run_child(req: dict[str, Any], workdir: str, fds: dict[str, int], zygote_pid: int,
              pid_namespace: bool) -> None:
    """Entry point right after ``fork`` in the zygote; never returns.

    With ``pid_namespace`` this process is PID 2 of a fresh PID namespace whose init
    the zygote kills on timeout, which takes every process of the namespace with it.
    """
    os.setsid()
    confine.set_parent_death_signal(signal.SIGKILL)
    if os.getppid() != zygote_pid and not pid_namespace:
        os._exit(1)  # the zygote died between fork and prctl
    _close_fds_except(set(fds.values()))  # the zygote's protocol pipes stay behind
    iso: dict[str, bool] = {"pid": pid_namespace}
    if os.geteuid() == 0:
        for name, flag in (("net", confine.CLONE_NEWNET), ("mount", confine.CLONE_NEWNS),
                           ("ipc", confine.CLONE_NEWIPC)):
            iso[name] = confine.unshare(flag)
    else:
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
    if iso.get("mount"):
        stage = os.path.join(os.path.dirname(workdir), "stage")
        iso["interpreter_visible"] = confine.expose_paths(interpreter, stage)
        iso["fs_readonly"] = confine.make_filesystem_readonly(workdir, bool(iso.get("pid")))
    if is_root:
        for root, dirs, files in os.walk(workdir):
            for name in [root, *(os.path.join(root, n) for n in dirs + files)]:
                os.chown(name, confine.NOBODY_UID, confine.NOBODY_UID)
    clean_env = confine.scrub_environment(
        dict(os.environ), req["env"], home=workdir, threads=limits["threads"])
    os.environ.clear()
    os.environ.update(clean_env)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(fds["stdout"], 1)
    os.dup2(fds["stderr"], 2)
    _close_fds_except({fds["result_w"], fds["control_w"]})
    confine.set_limits(limits["memory_mb"], limits["cpu_s"], limits["file_size_mb"])
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # oversize writes fail with EFBIG instead
    # Dropping to nobody is only done when nobody can still reach the interpreter.
    reachable = all(confine.others_can_enter(p) for p in interpreter if os.path.isdir(p))
    iso["setuid_nobody"] = confine.drop_privileges() if is_root and reachable else False
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
        _confine_self(req, workdir, fds, iso)
        calls = pickle.loads(req["calls"])  # trusted bytes from the evaluator
        converters = {c["convert"]: _import_path(c["convert"]) for c in calls if c["convert"]}
    except BaseException as exc:  # noqa: BLE001 - a setup failure must still be reported
        message = json.dumps(_describe(exc))
        os.write(fds["control_w"], f"setup_error {message}\n".encode())
        os._exit(3)
    os.write(fds["control_w"], f"iso {json.dumps(iso)}\n".encode())
    os.close(fds["control_w"])
    clock = __import__("time").perf_counter_ns  # bound before any candidate code runs
    report: dict[str, Any] = {"import_error": None, "memory": False, "calls": []}
    try:
        module = _import_candidate(os.path.join(workdir, req["filename"]))
    except BaseException as exc:  # noqa: BLE001 - SyntaxError, SystemExit, anything
        text = _describe(exc)
        report["import_error"] = text
        report["memory"] = _is_memory_error(exc, text)
        module = None
    if module is not None:
        for call in calls:
            outcome = _run_call(module, call, converters, clock)
            report["memory"] = report["memory"] or outcome.pop("memory")
            report["calls"].append(outcome)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001 - e.g. EFBIG once the output cap is hit
            pass
    try:
        payload = dumps_plain(report)
    except BaseException as exc:  # noqa: BLE001
        payload = dumps_plain({"import_error": None, "memory": False, "calls": [],
                               "encode_error": _describe(exc)})
    _write_all(fds["result_w"], len(payload).to_bytes(8, "little") + payload)
    os._exit(0)


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


def _run_call(module: Any, call: dict[str, Any], converters: dict[str, Any],
              clock: Callable[[], int]) -> dict[str, Any]:
    times: list[float] = []
    try:
        fn: Any = module
        for part in call["function"].split("."):
            fn = getattr(fn, part)
        args, kwargs = call["args"], call["kwargs"]
        for _ in range(call["warmup"]):
            fn(*args, **kwargs)
        value = None
        for _ in range(call["repeat"]):
            _sync_device()
            start = clock()
            value = fn(*args, **kwargs)
            _sync_device()
            times.append((clock() - start) / 1e9)
    except BaseException as exc:  # noqa: BLE001 - the candidate's fault, reported per call
        text = _describe(exc)
        return {"ok": False, "value": None, "error": text, "times_s": times,
                "memory": _is_memory_error(exc, text)}
    try:
        if call["convert"]:
            value = converters[call["convert"]](value)
        plain = to_plain(value)
        dumps_plain(plain)
    except BaseException as exc:  # noqa: BLE001
        text = f"could not convert the return value: {_describe(exc)}"
        return {"ok": False, "value": None, "error": text, "times_s": times,
                "memory": _is_memory_error(exc, text)}
    return {"ok": True, "value": plain, "error": "", "times_s": times, "memory": False}
