"""The build step's program inside the sandbox: run the build command in the work folder.

Copied into the sandbox work folder as ``_evolve_build.py`` (``evolve.evaluation.build``)
and imported there like a candidate, so it may use the standard library only. It returns
the command's exit status, the head of its output and every file the build made or
changed. The trusted side checks all of it: the build runs candidate-written files
(a Makefile, a build script), so this process is no more trusted than a candidate.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
from typing import Any

OUTPUT_FILE = "_evolve_build_output.txt"
SELF = "_evolve_build.py"


def _digests(root: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for base, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in names:
            path = os.path.join(base, name)
            relative = os.path.relpath(path, root).replace(os.sep, "/")
            if relative in (SELF, OUTPUT_FILE) or os.path.islink(path) or not os.path.isfile(path):
                continue
            with open(path, "rb") as fh:
                found[relative] = hashlib.sha256(fh.read()).hexdigest()
    return found


def _run(command: list[str], timeout_s: float, out: Any) -> tuple[int | None, str]:
    try:
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    except FileNotFoundError:
        return None, f"command not found: {command[0]}"
    except OSError as exc:
        return None, f"cannot run {command[0]}: {exc.strerror}"
    try:
        return proc.wait(timeout=timeout_s), ""
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # make's compilers too, not only make
        except OSError:
            pass
        proc.wait()
        return None, f"the build did not finish within {timeout_s:g} s"


def build(command: list[str], timeout_s: float, output_limit: int) -> dict[str, Any]:
    root = os.getcwd()
    before = _digests(root)
    with open(OUTPUT_FILE, "w+b") as out:
        status, note = _run(command, timeout_s, out)
        out.seek(0)
        head = out.read(output_limit + 1)
        size = out.seek(0, os.SEEK_END)
    made: dict[str, bytes] = {}
    for relative, digest in _digests(root).items():
        if before.get(relative) != digest:
            with open(os.path.join(root, relative), "rb") as fh:
                made[relative] = fh.read()
    return {"status": status, "note": note, "output": head.decode("utf-8", "replace"),
            "output_bytes": size, "files": made}
