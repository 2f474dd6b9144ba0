"""Folder programs on the trusted side: the work folder and the build step.

A folder program reaches its evaluator as a folder (``candidate_path`` is a directory).
When the problem has a ``build`` command, it first runs inside the sandbox, under its
own limits and with new processes allowed (compilers start several), in a copy of the
folder; what it made or changed (a shared library, a binary) is written into the folder
before the evaluator sees it. A failed build makes the candidate invalid with the
compiler's first error as the reason and its output as the ``build_output`` artifact,
which the model is shown.

Evaluators hand the folder to the sandbox with ``files=folder_files(folder)``: the
sandbox child sees only its work folder, so everything the program needs must be in it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evolve.codebase import RESERVED_NAMES, safe_relative
from evolve.evaluation.sandbox import CandidateCall, Sandbox, SandboxLimits
from evolve.evaluation.types import EvaluationResult

DRIVER = Path(__file__).with_name("_build_driver.py")
DRIVER_NAME = "_evolve_build.py"
MAX_FOLDER_BYTES = 512 * 1024 * 1024  # what a work folder (sources + build outputs) may hold
_GRACE_S = 10.0  # the sandbox's own limit, on top of the build command's


@dataclass(frozen=True)
class BuildStep:
    """The problem's ``build`` section (see docs/authoring.md, "Compile steps")."""

    command: tuple[str, ...]
    timeout_s: float = 120.0
    output_chars: int = 20_000
    max_processes: int = 64
    memory_mb: int = 4096

    @classmethod
    def from_config(cls, data: Mapping[str, Any] | None) -> BuildStep | None:
        """The step from ``asdict(BuildConfig)``; None when there is no command."""
        if not data or not data.get("command"):
            return None
        return cls(command=tuple(str(part) for part in data["command"]),
                   timeout_s=float(data.get("timeout_s", 120.0)),
                   output_chars=int(data.get("output_chars", 20_000)),
                   max_processes=int(data.get("max_processes", 64)),
                   memory_mb=int(data.get("memory_mb", 4096)))


@dataclass
class BuildOutcome:
    ok: bool
    reason: str = ""  # one line, when not ok
    output: str = ""  # the head of the build's output
    files: dict[str, bytes] = field(default_factory=dict)  # made or changed by the build

    def failure(self) -> EvaluationResult:
        return EvaluationResult.invalid(self.reason, build_output=self.output)


def write_program(folder: Path, files: Mapping[str, str]) -> None:
    """Write a folder program's files (relative paths checked) under ``folder``."""
    write_files(folder, {path: text.encode("utf-8") for path, text in files.items()})


def write_files(folder: Path, files: Mapping[str, bytes]) -> None:
    for path, data in files.items():
        if not safe_relative(path):
            raise ValueError(f"file name {path!r} must be relative, without '..'")
        target = folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def folder_files(folder: Path, skip: tuple[str, ...] = ()) -> dict[str, bytes]:
    """Every regular file under ``folder`` by relative posix path (for ``Sandbox.run``'s
    ``files``); ``skip`` names paths to leave out (e.g. the program file itself)."""
    found: dict[str, bytes] = {}
    total = 0
    for base, dirs, names in os.walk(folder):
        dirs.sort()
        for name in sorted(names):
            path = Path(base) / name
            relative = path.relative_to(folder).as_posix()
            if relative in skip or path.is_symlink() or not path.is_file():
                continue
            total += path.stat().st_size
            if total > MAX_FOLDER_BYTES:
                raise ValueError(f"the work folder holds more than {MAX_FOLDER_BYTES} bytes")
            found[relative] = path.read_bytes()
    return found


def first_error(output: str, limit: int = 240) -> str:
    """The line of a compiler's output worth putting in a one-line reason."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    chosen = next((line for line in lines if "error" in line.lower()), lines[0] if lines else "")
    return chosen if len(chosen) <= limit else chosen[:limit] + " ..."


def run_build(folder: Path, step: BuildStep, sandbox: Sandbox) -> BuildOutcome:
    """Run ``step`` in the sandbox on a copy of ``folder`` and write what it made into
    ``folder``. Never raises for what the program or its build files do."""
    shown = " ".join(step.command)
    inputs = folder_files(folder)
    clash = sorted(RESERVED_NAMES.intersection(inputs))
    if clash:
        return BuildOutcome(False, f"build: a program file may not be named {clash[0]}")
    limits = SandboxLimits(timeout_s=step.timeout_s + _GRACE_S, memory_mb=step.memory_mb,
                           max_processes=step.max_processes, file_size_mb=256)
    call = CandidateCall("build", args=(list(step.command), step.timeout_s, step.output_chars))
    result = sandbox.run(DRIVER, [call], limits, files=inputs)
    if result.status == "timeout":
        return BuildOutcome(False, f"build `{shown}` exceeded its {step.timeout_s:g} s limit")
    if not result.ok or not result.calls or not result.calls[0].ok:
        detail = result.calls[0].error if result.ok and result.calls else result.reason
        return BuildOutcome(False, f"build `{shown}` failed in the sandbox: "
                            f"{first_error(detail)}", output=detail[: step.output_chars])
    return _outcome(result.calls[0].value, step, shown)


def _outcome(value: Any, step: BuildStep, shown: str) -> BuildOutcome:
    """Check what the build process returned (it ran candidate-written build files)."""
    malformed = BuildOutcome(False, f"build `{shown}`: the build process returned malformed data")
    if type(value) is not dict:
        return malformed
    status, note, output, made = (value.get(k) for k in ("status", "note", "output", "files"))
    if (status is not None and type(status) is not int) or type(note) is not str \
            or type(output) is not str or type(made) is not dict:
        return malformed
    output = output[: step.output_chars]
    size = value.get("output_bytes")
    if type(size) is int and size > step.output_chars:
        output += f"\n[... output cut at {step.output_chars} of {size} bytes]"
    if note or status != 0:
        why = note or f"exited with status {status}"
        error = first_error(output)
        return BuildOutcome(False, f"build `{shown}` {why}" + (f": {error}" if error else ""),
                            output=output)
    total = 0
    for path, data in made.items():
        if type(path) is not str or type(data) is not bytes or not safe_relative(path) \
                or path in RESERVED_NAMES:
            return malformed
        total += len(data)
    if total > MAX_FOLDER_BYTES:
        return BuildOutcome(False, f"build `{shown}` made more than {MAX_FOLDER_BYTES} bytes")
    return BuildOutcome(True, output=output, files=dict(made))


def prepare_folder(folder: Path, files: Mapping[str, str], step: BuildStep | None,
                   sandbox: Sandbox) -> EvaluationResult | None:
    """Write a folder program and run its build step: None when it is ready to be
    evaluated, else the invalid result to report (the build failed)."""
    write_program(folder, files)
    if step is None:
        return None
    outcome = run_build(folder, step, sandbox)
    if not outcome.ok:
        return outcome.failure()
    write_files(folder, outcome.files)
    return None
