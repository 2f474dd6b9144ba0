"""Ray executor: evaluations as Ray tasks, on one machine or a whole cluster.

Each task runs the same trusted path as a local worker process
(:class:`evolve.evaluation._worker.Worker`: evaluator + sandbox), kept warm per Ray
worker process, so the candidate still runs only inside the sandbox on the node that
picked up the task. Tasks ask for ``evaluation.cpus_per_eval`` CPUs and
``evaluation.gpus_per_eval`` GPUs, so Ray places GPU-kernel evaluations on GPU nodes.

Stopping work: the sandbox's own timeouts stop a candidate first; if the trusted side
still overruns the job's hard limit (3 x timeout + grace), the task is force-cancelled
(``ray.cancel(force=True)`` kills its worker process). The limit counts from the moment
the task starts on a worker (the task is a generator whose first item says so), so time
spent queued for a free CPU/GPU or starting a worker does not count against it; a task
not started within ``evaluation.start_timeout_s`` is cancelled too, with a reason naming
the resources it waited for. A worker process that dies mid-evaluation (OOM, a crash) is
retried once by Ray; if it dies again the job becomes an invalid result. No failure mode
waits forever.
"""

from __future__ import annotations

import asyncio
import atexit
import os
from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

from evolve.config import EvaluationConfig
from evolve.errors import UserError
from evolve.evaluation._worker import Worker
from evolve.evaluation.executor import EvaluationJob, hard_limit_s
from evolve.evaluation.types import EvaluationResult

RETRIES_ON_WORKER_DEATH = 1
CANCEL_WAIT_S = 10.0  # how long to wait for a force-cancelled task to report back

_WORKER: Worker | None = None  # one per Ray worker process: warm evaluators and sandboxes


STARTED = "started"


def evaluate_in_ray_worker(job: dict[str, Any]) -> Iterator[Any]:
    """The body of every evaluation task (runs in a Ray worker process): says it has
    started, then answers."""
    global _WORKER
    yield STARTED
    if _WORKER is None:
        _WORKER = Worker()
        atexit.register(_WORKER.close)
    yield _WORKER.run(job)


def _import_ray() -> Any:
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    try:
        import ray
    except ImportError:
        raise UserError("the Ray executor needs Ray: pip install 'evolve[ray]'",
                        "evaluation.executor") from None
    return ray


class RayExecutor:
    """Submits each job as a Ray task with a resource request; at most ``max_in_flight``
    tasks are outstanding at once (the cluster queues the rest by resources)."""

    def __init__(self, address: str | None = None, max_in_flight: int = 2,
                 cpus_per_eval: float = 1.0,
                 gpus_per_eval: float = 0.0, grace_s: float = 30.0,
                 start_timeout_s: float = 600.0) -> None:
        if max_in_flight < 1:
            raise UserError(f"need at least one evaluation in flight, got {max_in_flight}",
                            "evaluation.workers")
        self.ray = _import_ray()
        self._owns_ray = False
        if not self.ray.is_initialized():
            try:
                self.ray.init(address=address or None, include_dashboard=False, log_to_driver=False,
                              logging_level="WARNING")
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise UserError(f"cannot connect to Ray ({exc})",
                                "evaluation.ray_address") from None
            self._owns_ray = True
        self.max_in_flight = max_in_flight
        self.grace_s = grace_s
        self.cpus_per_eval, self.gpus_per_eval = cpus_per_eval, gpus_per_eval
        self.start_timeout_s = start_timeout_s
        self._task = self.ray.remote(evaluate_in_ray_worker).options(
            num_cpus=cpus_per_eval, num_gpus=gpus_per_eval, max_retries=RETRIES_ON_WORKER_DEATH,
            retry_exceptions=False)
        self._slots: asyncio.Semaphore | None = None
        self._closed = False

    async def evaluate(self, job: EvaluationJob) -> EvaluationResult:
        """Evaluate one job on the cluster; never raises for candidate or worker faults."""
        if self._closed:
            raise RuntimeError("the executor was shut down")
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.max_in_flight)
        async with self._slots:
            return await self._run(job)

    async def _run(self, job: EvaluationJob) -> EvaluationResult:
        errors = self.ray.exceptions
        payload = {**asdict(job), "problem_dir": str(job.problem_dir)}
        task = self._task.remote(payload)
        limit = hard_limit_s(job, self.grace_s)
        started = False
        try:
            started = await asyncio.wait_for(self._next(task), self.start_timeout_s) == STARTED
            answer = await asyncio.wait_for(self._next(task), limit)
        except TimeoutError:
            await self._cancel(task)
            if not started:
                return EvaluationResult.invalid(
                    f"evaluation did not start within {self.start_timeout_s:g} s: no worker with "
                    f"{self.cpus_per_eval:g} CPU(s) and {self.gpus_per_eval:g} GPU(s) came free "
                    "(evaluation.cpus_per_eval / gpus_per_eval)")
            return EvaluationResult.invalid(f"evaluation exceeded its time limit ({limit:g} s)")
        except errors.WorkerCrashedError:
            return EvaluationResult.invalid(
                f"evaluation worker died (tried {1 + RETRIES_ON_WORKER_DEATH} times)")
        except errors.TaskCancelledError:
            return EvaluationResult.invalid("evaluation was cancelled")
        except errors.RayTaskError as exc:
            # Worker.run catches evaluator faults; reaching here is a bug on the trusted side.
            detail = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
            return EvaluationResult.invalid(f"evaluation task failed: {detail}")
        except errors.RayError as exc:  # node died, object lost, ...
            return EvaluationResult.invalid(
                f"evaluation lost on the cluster: {type(exc).__name__}: {exc}")
        except asyncio.CancelledError:
            self.ray.cancel(task, force=True)
            raise
        if "user_error" in answer:
            raise UserError(*answer["user_error"])
        return EvaluationResult.from_dict(answer["result"])

    @staticmethod
    async def _next(task: Any) -> Any:
        """The task's next item (a failed task's error is raised here)."""
        ref = await task.__anext__()
        return await ref

    async def _cancel(self, task: Any) -> None:
        """Kill the task's worker process and wait (bounded) until Ray confirms."""
        self.ray.cancel(task, force=True)
        try:
            await asyncio.wait_for(asyncio.wrap_future(task.completed().future()), CANCEL_WAIT_S)
        except (TimeoutError, self.ray.exceptions.RayError):
            pass

    def shutdown(self) -> None:
        """Stop using the cluster; a Ray runtime this executor started is shut down."""
        self._closed = True
        if self._owns_ray and self.ray.is_initialized():
            self.ray.shutdown()


def create_ray_executor(cfg: EvaluationConfig) -> RayExecutor:
    return RayExecutor(address=cfg.ray_address, max_in_flight=cfg.workers,
                       cpus_per_eval=cfg.cpus_per_eval, gpus_per_eval=cfg.gpus_per_eval,
                       start_timeout_s=cfg.start_timeout_s)
