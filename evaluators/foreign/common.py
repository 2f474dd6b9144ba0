"""What the OpenEvolve and ShinkaEvolve evaluators share: shipping the problem folder into
the sandbox beside the candidate, running ``driver.py`` there, and bounding what comes back.

A foreign evaluator imports and runs the candidate itself, so it runs inside the sandbox
child with it; the score it computes is therefore only as honest as the candidate, and
every result says so (``EvaluationResult.compatibility_mode``).
"""

from __future__ import annotations

import ast
import math
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

from evolve.errors import UserError
from evolve.evaluation.sandbox import CandidateCall, SandboxLimits, SandboxResult
from evolve.evaluation.task_files import task_files
from evolve.evaluation.types import EvaluationContext, EvaluationResult

DRIVER = Path(__file__).with_name("driver.py")
SHIMS = Path(__file__).with_name("shims")
TEXT_CHARS = 20_000  # per artifact or text metric kept
MAX_ENTRIES = 200  # metrics or artifacts kept per result
# What marks an evaluator that starts processes (OpenEvolve evaluators often run the
# candidate with subprocess and a timeout): these modules, or these attribute names
# (os.system, os.fork, a ProcessPoolExecutor, ...).
PROCESS_MODULES = frozenset({"subprocess", "multiprocessing", "pty"})
PROCESS_NAMES = frozenset({"ProcessPoolExecutor", "system", "popen", "fork", "forkpty",
                           "spawnl", "spawnv", "execv", "execvp", "posix_spawn"})
AUTO_PROCESSES = 16


def top_level_names(tree: ast.Module) -> set[str]:
    """Names a module binds at top level (functions, classes, assignments, imports)."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
    return names


def _starts_processes(node: ast.AST) -> bool:
    if isinstance(node, ast.Import):
        return any(a.name.split(".")[0] in PROCESS_MODULES for a in node.names)
    if isinstance(node, ast.ImportFrom):
        top = (node.module or "").split(".")[0]
        return top in PROCESS_MODULES or (top == "concurrent" and any(
            a.name in ("futures", "ProcessPoolExecutor") for a in node.names))
    return isinstance(node, ast.Attribute) and node.attr in PROCESS_NAMES


def starts_processes(sources: dict[str, bytes]) -> bool:
    """Whether any of the Python files imports a process module or calls a process API."""
    for name, data in sources.items():
        if not name.endswith(".py"):
            continue
        try:
            tree = ast.parse(data)
        except (SyntaxError, ValueError):
            continue
        if any(_starts_processes(node) for node in ast.walk(tree)):
            return True
    return False


class FolderEvaluator(ABC):
    """Base of the foreign evaluators: the folder's files, limits and the driver call."""

    program_name = "program.py"  # the candidate's file name in the work dir

    def __init__(self, problem_dir: Path, evaluator_file: str, memory_mb: int,
                 max_processes: int | None, files: list[str] | None) -> None:
        self.problem_dir = Path(problem_dir)
        if memory_mb < 256:
            raise UserError("must be at least 256 (MB of address space)",
                            "evaluator_args.memory_mb")
        if max_processes is not None and max_processes < 0:
            raise UserError("must not be negative", "evaluator_args.max_processes")
        path = self.problem_dir / evaluator_file
        if Path(evaluator_file).is_absolute() or ".." in Path(evaluator_file).parts:
            raise UserError("must name a file inside the problem folder",
                            "evaluator_args.evaluator_file")
        if not path.is_file():
            raise UserError(f"'{evaluator_file}' not found in {self.problem_dir}",
                            "evaluator_args.evaluator_file")
        try:
            tree = ast.parse(path.read_bytes(), filename=str(path))
        except SyntaxError as exc:
            raise UserError(f"not valid Python (line {exc.lineno}: {exc.msg})", str(path)) from None
        self.evaluator_file = Path(evaluator_file).as_posix()
        self.names = top_level_names(tree)  # read, never imported, on this side
        folder = task_files(self.problem_dir, files)
        if self.evaluator_file not in folder:
            raise UserError(f"the selected files leave out '{self.evaluator_file}'",
                            "evaluator_args.files")
        self.memory_mb = memory_mb
        self.max_processes = (AUTO_PROCESSES if starts_processes(folder) else 0) \
            if max_processes is None else max_processes
        self.shipped = {f"task/{name}": data for name, data in folder.items()}
        for shim in sorted(SHIMS.rglob("*.py")):
            self.shipped[f"shims/{shim.relative_to(SHIMS).as_posix()}"] = shim.read_bytes()

    @abstractmethod
    def _result(self, answer: dict[str, Any]) -> EvaluationResult:
        """The result the driver's answer stands for; ValueError, TypeError or
        AttributeError where the answer is malformed."""

    def run_driver(self, candidate_path: Path, context: EvaluationContext, function: str,
                   args: tuple[Any, ...], runs: int) -> EvaluationResult:
        """``function`` of the driver run on the candidate, its answer read by ``_result``;
        an invalid result where there is no answer or a malformed one. ``runs``: how many
        evaluator calls the time limit covers (one per cascade stage)."""
        answer, failed = self._answer(candidate_path, context, function, args, runs)
        if failed is not None:
            return failed
        try:
            return self._result(answer)
        except (ValueError, TypeError, AttributeError) as exc:
            return marked_invalid(f"the evaluation returned malformed data: {exc}")

    def _answer(self, candidate_path: Path, context: EvaluationContext, function: str,
                args: tuple[Any, ...], runs: int) -> tuple[Any, EvaluationResult | None]:
        limits = SandboxLimits(timeout_s=context.timeout_s * runs, memory_mb=self.memory_mb,
                               max_processes=self.max_processes, output_bytes=4_000_000)
        files = {**self.shipped,
                 f"candidate/{self.program_name}": Path(candidate_path).read_bytes()}
        result = context.sandbox.run(DRIVER, [CandidateCall(function, args=args)], limits,
                                     files=files)
        if result.status == "crashed" and result.reason.startswith(("sandbox error:",
                                                                    "the sandbox process")):
            result = context.sandbox.run(DRIVER, [CandidateCall(function, args=args)], limits,
                                         files=files)
        if not result.ok:
            return None, marked_invalid(f"the evaluation stopped ({result.status}): "
                                        f"{result.reason}", result)
        outcome = result.calls[0]
        if not outcome.ok:
            return None, marked_invalid(f"the evaluation failed: {first_line(outcome.error)}",
                                        result, error=outcome.error)
        if not isinstance(outcome.value, dict):
            return None, marked_invalid("the evaluation returned malformed data", result)
        return outcome.value, None


def first_line(text: str) -> str:
    return text.splitlines()[0] if text else "error"


def marked_invalid(reason: str, sandbox: SandboxResult | None = None,
                   **artifacts: str) -> EvaluationResult:
    if sandbox is not None and sandbox.stderr.strip():
        artifacts["stderr"] = sandbox.stderr[-2000:]
    result = EvaluationResult.invalid(reason, **bounded_texts(artifacts))
    result.compatibility_mode = True
    return result


def text(value: Any, limit: int = TEXT_CHARS) -> str:
    """A returned text value, cut to ``limit`` characters (anything else is refused)."""
    if not isinstance(value, str):
        raise ValueError(f"expected text, got {type(value).__name__}")
    return value if len(value) <= limit else value[:limit] + f"... ({len(value) - limit} more)"


def bounded_texts(values: Any) -> dict[str, str]:
    if not isinstance(values, dict):
        raise ValueError("expected a mapping of texts")
    return {text(k, 200): text(v) for k, v in list(values.items())[:MAX_ENTRIES]}


def bounded_numbers(values: Any) -> dict[str, float]:
    """Finite numbers by name; a non-number is refused, a non-finite one left out."""
    if not isinstance(values, dict):
        raise ValueError("expected a mapping of numbers")
    kept: dict[str, float] = {}
    for key, value in list(values.items())[:MAX_ENTRIES]:
        if type(value) not in (int, float):
            raise ValueError(f"metric {str(key)[:80]!r} is not a number")
        if math.isfinite(value):
            kept[text(key, 200)] = float(value)
    return kept
