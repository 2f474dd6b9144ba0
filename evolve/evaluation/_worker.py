"""An evaluation worker process (trusted side): evaluators + sandboxes, one job at a time.

Started by :class:`evolve.evaluation.executor.LocalExecutor` as
``python -m evolve.evaluation._worker``; reads pickled job dicts on stdin and answers
``EvaluationResult.to_dict()`` (or a user error) on the original stdout. Candidate
code never runs here: evaluators reach it only through their ``Sandbox``.
"""

from __future__ import annotations

import os
import pickle
import select
import shutil
import signal
import sys
import tempfile
import threading
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from evolve.errors import UserError
from evolve.evaluation.build import BuildStep, prepare_folder
from evolve.evaluation.frames import FrameReader, write_frame
from evolve.evaluation.registry import create_evaluator
from evolve.evaluation.runner import run_evaluation
from evolve.evaluation.sandbox import Sandbox, remove_run_folders
from evolve.evaluation.tempdirs import JOB_PREFIX, sweep_stale
from evolve.evaluation.types import EvaluationContext, Evaluator


class Worker:
    def __init__(self) -> None:
        self.evaluators: dict[tuple[str, str, bytes], Evaluator] = {}
        self.sandboxes: dict[tuple[str, ...], Sandbox] = {}
        self.job_dir: str | None = None  # the running job's folder (removed if we must die)
        sweep_stale()  # e.g. a Ray worker force-cancelled before it could clean up

    def evaluator(self, job: dict[str, Any]) -> Evaluator:
        key = (job["evaluator"], str(job["problem_dir"]),
               pickle.dumps(sorted(job["evaluator_args"].items())))
        if key not in self.evaluators:
            self.evaluators[key] = create_evaluator(
                job["evaluator"], Path(job["problem_dir"]), dict(job["evaluator_args"]))
        return self.evaluators[key]

    def sandbox(self, preload: list[str]) -> Sandbox:
        key = tuple(preload)
        if key not in self.sandboxes:
            self.sandboxes[key] = Sandbox(preload=key)
        return self.sandboxes[key]

    def run(self, job: dict[str, Any]) -> dict[str, Any]:
        try:
            evaluator = self.evaluator(job)
        except UserError as exc:
            return {"user_error": (exc.message, exc.where)}
        except Exception as exc:  # noqa: BLE001 - e.g. a bad evaluator_args value
            # Every job would fail the same way: one line for the user, not a dead worker.
            message = (f"evaluator '{job['evaluator']}' could not be created: "
                       f"{type(exc).__name__}: {exc}")
            return {"user_error": (message, "evaluator_args")}
        # The executor makes (and removes) the folder when it may kill this worker mid-job.
        given = job.get("workdir")
        folder = nullcontext(given) if given else tempfile.TemporaryDirectory(
            prefix=f"{JOB_PREFIX}{os.getpid()}-")
        with folder as tmp:
            self.job_dir = tmp
            sandbox = self.sandbox(job["preload"])
            if job.get("files"):  # a folder program: the evaluator gets the (built) folder
                path = Path(tmp) / "program"
                failed = prepare_folder(path, job["files"], BuildStep.from_config(
                    job.get("build")), sandbox)
                if failed is not None:
                    return {"result": failed.to_dict()}
            else:
                path = Path(tmp) / (os.path.basename(job["filename"]) or "program.py")
                path.write_text(job["code"])
            context = EvaluationContext(
                problem_dir=Path(job["problem_dir"]), sandbox=sandbox,
                timeout_s=float(job["timeout_s"]), seed=int(job["seed"]), workdir=Path(tmp))
            return {"result": run_evaluation(evaluator, path, context).to_dict()}

    def close(self) -> None:
        for sandbox in self.sandboxes.values():
            sandbox.close()

    def kill_sandboxes(self) -> None:
        """SIGKILL every zygote's process group; their children follow (PR_SET_PDEATHSIG)."""
        for sandbox in list(self.sandboxes.values()):
            pid = sandbox.zygote_pid
            if pid is not None:
                try:
                    os.killpg(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
                remove_run_folders(pid)


def exit_with_parent(proto_in: int, worker: Worker) -> None:
    """Die as soon as the controller does, even in the middle of a job.

    Workers run in their own session (a Ctrl-C in the terminal must reach only the
    controller), so a SIGKILLed controller does not take them along. Its end of our
    stdin pipe closes instead: ``poll`` reports POLLHUP without consuming data, so this
    thread can watch the pipe the main thread reads jobs from.
    """
    poller = select.poll()
    poller.register(proto_in, 0)  # POLLHUP / POLLERR are always reported
    while True:
        if any(event & (select.POLLHUP | select.POLLERR | select.POLLNVAL)
               for _, event in poller.poll()):
            break
    worker.kill_sandboxes()
    if worker.job_dir is not None:
        shutil.rmtree(worker.job_dir, ignore_errors=True)
    os._exit(0)


def main() -> int:
    proto_in, proto_out = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(2, 1)  # evaluator prints go to stderr, never into the protocol stream
    reader, worker = FrameReader(proto_in), Worker()
    threading.Thread(target=exit_with_parent, args=(proto_in, worker), name="parent-watch",
                     daemon=True).start()
    try:
        while True:
            frame = reader.read_frame()
            if frame is None:
                return 0
            job = pickle.loads(frame)  # from the trusted parent
            if job.get("op") == "exit":
                return 0
            write_frame(proto_out, pickle.dumps(worker.run(job), protocol=5))
    finally:
        worker.close()


if __name__ == "__main__":
    sys.exit(main())
