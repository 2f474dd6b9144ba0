"""Local executor: warm worker processes that run trusted evaluators.

Workers are plain subprocesses managed here (not ``ProcessPoolExecutor``, where one
dead worker breaks the whole pool): a worker that dies or overruns its job's hard
limit is killed and replaced, and that job alone becomes an invalid result.
"""

from __future__ import annotations

import asyncio
import os
import pickle
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from evolve.config import EvaluationConfig
from evolve.errors import UserError
from evolve.evaluation.build import BuildStep, prepare_folder
from evolve.evaluation.frames import FrameReader, write_frame
from evolve.evaluation.registry import create_evaluator
from evolve.evaluation.runner import run_evaluation
from evolve.evaluation.sandbox import Sandbox
from evolve.evaluation.tempdirs import make_job_dir, sweep_stale
from evolve.evaluation.types import EvaluationContext, EvaluationResult
from evolve.registry import Registry


@dataclass
class EvaluationJob:
    program_id: str
    code: str
    problem_dir: Path
    evaluator: str
    evaluator_args: dict[str, Any]
    timeout_s: float
    seed: int
    preload: list[str] = field(default_factory=lambda: ["numpy"])
    filename: str = "program.py"
    # A folder program: its files (``code`` is then their combined text, unused here); the
    # evaluator gets the folder. ``build``: the problem's build section (asdict), if any.
    files: dict[str, str] = field(default_factory=dict)
    build: dict[str, Any] | None = None


def hard_limit_s(job: EvaluationJob, grace_s: float = 30.0) -> float:
    """Parent-side limit: an evaluator may make several sandbox runs per job, after the
    build step (if any) had its own time."""
    step = BuildStep.from_config(job.build) if job.files else None
    build_s = step.timeout_s + grace_s if step is not None else 0.0
    return float(job.timeout_s) * 3 + grace_s + build_s


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "still running"
    if code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"exit code {code}"


class _WorkerProcess:
    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "evolve.evaluation._worker"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, start_new_session=True, close_fds=True)
        assert self.proc.stdout is not None
        self.reader = FrameReader(self.proc.stdout.fileno())

    def alive(self) -> bool:
        return self.proc.poll() is None

    def exchange(self, job: dict[str, Any], deadline: float) -> dict[str, Any] | None:
        """Send one job; ``None`` if the worker died. Raises TimeoutError at ``deadline``."""
        assert self.proc.stdin is not None
        try:
            write_frame(self.proc.stdin.fileno(), pickle.dumps(job, protocol=5))
        except BrokenPipeError:
            return None
        frame = self.reader.read_frame(deadline)
        return None if frame is None else pickle.loads(frame)

    def stop(self, graceful: bool) -> None:
        if graceful and self.alive() and self.proc.stdin is not None:
            try:
                write_frame(self.proc.stdin.fileno(), pickle.dumps({"op": "exit"}))
                self.proc.wait(timeout=5)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                stream.close()


class LocalExecutor:
    """N warm worker processes, each with its own evaluators and sandboxes."""

    def __init__(self, workers: int, grace_s: float = 30.0) -> None:
        """``grace_s``: added to 3x the job's timeout to form the per-job hard limit."""
        if workers < 1:
            raise UserError(f"need at least one worker, got {workers}", "evaluation.workers")
        self.size = workers
        self.grace_s = grace_s
        self._workers: list[_WorkerProcess | None] = [None] * workers
        self._busy = [False] * workers
        self._slots: asyncio.Semaphore | None = None
        self._lock = threading.Lock()
        self._closed = False
        sweep_stale()  # folders of evaluations whose process was killed earlier

    def _take(self) -> tuple[int, _WorkerProcess]:
        with self._lock:
            index = self._busy.index(False)  # the semaphore guarantees a free slot
            self._busy[index] = True
            worker = self._workers[index]
        if worker is None or not worker.alive():
            if worker is not None:
                worker.stop(graceful=False)
            worker = _WorkerProcess()
            with self._lock:
                self._workers[index] = worker
        return index, worker

    def _give_back(self, index: int, worker: _WorkerProcess | None) -> None:
        with self._lock:
            closed = self._closed
            self._workers[index] = None if closed else worker
            self._busy[index] = False
        if closed and worker is not None:
            worker.stop(graceful=True)

    def _run_blocking(self, job: EvaluationJob) -> EvaluationResult:
        index, worker = self._take()
        # Made here, not in the worker: a worker killed mid-job could not remove it.
        workdir = make_job_dir()
        payload = {**asdict(job), "problem_dir": str(job.problem_dir), "workdir": workdir}
        start = time.monotonic()
        try:
            answer = worker.exchange(payload, start + hard_limit_s(job, self.grace_s))
        except TimeoutError:
            worker.stop(graceful=False)
            self._give_back(index, None)
            return EvaluationResult.invalid(
                f"evaluation exceeded its time limit ({hard_limit_s(job, self.grace_s):g} s)")
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        if answer is None:
            code = worker.proc.wait()
            worker.stop(graceful=False)
            self._give_back(index, None)
            return EvaluationResult.invalid(f"evaluation worker died ({_describe_exit(code)})")
        self._give_back(index, worker)
        if "user_error" in answer:
            raise UserError(*answer["user_error"])
        return EvaluationResult.from_dict(answer["result"])

    async def evaluate(self, job: EvaluationJob) -> EvaluationResult:
        """Evaluate one job on a free worker; never raises for candidate faults."""
        if self._closed:
            raise RuntimeError("the executor was shut down")
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.size)
        async with self._slots:
            return await asyncio.to_thread(self._run_blocking, job)

    def shutdown(self) -> None:
        """Stop every worker (and through them their sandbox zygotes)."""
        self._closed = True
        with self._lock:
            workers = [w for w in self._workers if w is not None]
            self._workers = [None] * self.size
        for worker in workers:
            worker.stop(graceful=True)


@runtime_checkable
class Executor(Protocol):
    """Runs evaluation jobs somewhere else than the controller.

    ``evaluate`` may be awaited for many jobs at once from one event loop and returns an
    invalid result (never raises) for anything the candidate or the evaluator did;
    ``shutdown`` is called once, at the end, and stops every process it started.
    ``evolve.testing.executor_kit`` checks these rules.
    """

    async def evaluate(self, job: EvaluationJob) -> EvaluationResult: ...

    def shutdown(self) -> None: ...


def local_executor(cfg: EvaluationConfig, grace_s: float = 30.0) -> LocalExecutor:
    """``evaluation.executor: local``; ``evaluation.args.grace_s`` widens the hard limit."""
    return LocalExecutor(cfg.workers, grace_s=grace_s)


# name -> factory(cfg: EvaluationConfig, **evaluation.args) -> Executor
EXECUTORS: Registry[Executor] = Registry("executor", entry_point_group="evolve.executors")
EXECUTORS.register("local", local_executor)
# Imported only when chosen: Ray is an optional extra (pip install "evolve[ray]").
EXECUTORS.register("ray", "evolve.evaluation.ray_executor:create_ray_executor")


def create_executor(cfg: EvaluationConfig) -> Executor:
    """Build the executor named by ``evaluation.executor`` (a name or 'module:attr') with
    its own settings from ``evaluation.args`` (checked against its factory)."""
    executor = EXECUTORS.create(cfg.executor, cfg.args, "evaluation", "executor", cfg=cfg)
    if not isinstance(executor, Executor):
        raise EXECUTORS.wrong_type(cfg.executor, "Executor", "evaluation", "executor")
    return executor


def evaluate_file_once(problem_dir: Path, evaluator: str, args: dict[str, Any],
                       candidate_path: Path, timeout_s: float, preload: list[str],
                       seed: int, files: dict[str, str] | None = None,
                       build: dict[str, Any] | None = None) -> EvaluationResult:
    """One evaluation in this process (for ``evolve eval``); the candidate still runs
    only in the sandbox. ``files``: a folder program, written (and built) in a temporary
    folder so that the user's folder is left as it is."""
    try:
        instance = create_evaluator(evaluator, Path(problem_dir), dict(args))
    except UserError:
        raise
    except Exception as exc:  # noqa: BLE001 - e.g. a bad evaluator_args value
        raise UserError(f"evaluator '{evaluator}' could not be created: "
                        f"{type(exc).__name__}: {exc}", "evaluator_args") from None
    with Sandbox(preload=tuple(preload)) as sandbox, tempfile.TemporaryDirectory() as tmp:
        context = EvaluationContext(problem_dir=Path(problem_dir), sandbox=sandbox,
                                    timeout_s=timeout_s, seed=seed)
        if files:
            candidate_path = Path(tmp) / "program"
            failed = prepare_folder(candidate_path, files, BuildStep.from_config(build), sandbox)
            if failed is not None:
                return failed
        return run_evaluation(instance, Path(candidate_path), context)
