"""The evolution loop: sample, prompt, ask, edit, check, evaluate, store.

Many iterations are in flight at once (asyncio): LLM calls overlap evaluations, which run
in worker processes. Every finished iteration is committed to the store in one
transaction together with the counters that budgets read, so a crash or Ctrl-C loses at
most the iterations still in flight, and resume redoes exactly those.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from evolve.budget import Budget
from evolve.database.records import (
    LLMCallRecord,
    ProgramRecord,
    RunCounters,
    call_counters,
    calls_counters,
    new_id,
)
from evolve.database.sampling import ProgramDatabase
from evolve.database.shared_islands import SharedIslands
from evolve.database.store import Store
from evolve.edits import apply_response, static_check
from evolve.errors import UserError
from evolve.evaluation.executor import EvaluationJob, create_executor
from evolve.evaluation.types import EvaluationResult
from evolve.llm import build_backend
from evolve.llm.base import Completion, GenerationParams, LLMBackend, LLMError
from evolve.llm.failures import FailurePolicy
from evolve.problem import Problem
from evolve.prompts import ProgramView, PromptBuilder, PromptContext
from evolve.search.hooks import SearchHooks

# Added to an edit error when the model stopped at max_tokens: the fix prompt then says why.
CUT_OFF_NOTE = (
    " (the answer was cut off at the llm.max_tokens limit: answer with a shorter edit,"
    " only the changed lines)"
)


@dataclass
class Progress:
    """A snapshot for live displays."""

    iterations: int
    iteration_budget: int | None
    evaluations: int
    valid: int
    best_score: float | None
    usd: float
    elapsed_s: float
    evals_per_s: float
    message: str = ""


class ProgressSink(Protocol):
    def update(self, progress: Progress) -> None: ...


@dataclass
class RunSummary:
    run_id: str
    run_dir: Path
    best: ProgramRecord | None
    initial_best: float | None
    counters: RunCounters
    stop_reason: str


class Controller:
    def __init__(
        self,
        problem: Problem,
        store: Store,
        run_id: str,
        run_dir: Path,
        backend: LLMBackend | None = None,
        progress: ProgressSink | None = None,
    ) -> None:
        self.problem = problem
        self.cfg = problem.config
        self.store = store
        self.run_id = run_id
        self.run_dir = run_dir
        self.backend = backend or build_backend(self.cfg.llm, self.cfg.seed)
        self.progress = progress
        self.prompts = PromptBuilder(problem.directory)
        self.db = ProgramDatabase(self.cfg.database, self.cfg.seed)
        # Sharing the run with other controllers: this one owns only some islands.
        owned = self.cfg.database.islands_owned
        self.shared = (
            SharedIslands(store, run_id, self.db, self.cfg.database, owned)
            if owned is not None
            else None
        )
        # Pareto parents live in the database; the other search features hook in here.
        self.search = SearchHooks(
            self.cfg, store, run_id, self.backend, self.prompts, self.db, problem.description
        )
        self.edit_errors: dict[int, str] = {}
        self.stop_requested = False
        self.stop_reason = ""
        self.failures = FailurePolicy()
        self.budget = Budget(self.cfg.budget.iterations)
        self._evals_at_start = 0
        self._best_iteration = 0

    # ------------------------------------------------------------------ lifecycle

    def request_stop(self, reason: str = "stopped by user") -> None:
        self.stop_requested = True
        self.stop_reason = self.stop_reason or reason

    async def run(self, extra_iterations: int | None = None) -> RunSummary:
        if self.shared is not None:
            self.shared.claim()
        programs = (
            self.shared.own_programs() if self.shared else list(self.store.programs(self.run_id))
        )
        self.db.rebuild(programs)
        self.search.resume(programs)
        best = self.db.best()
        self._best_iteration = best.iteration if best is not None else 0
        counters = self.store.counters(self.run_id)
        self._evals_at_start = counters.evaluations
        self.budget = Budget.for_invocation(self.cfg.budget, counters, extra_iterations)
        self.store.set_run_status(self.run_id, "running")
        executor = create_executor(self.cfg.evaluation)
        try:
            first_start = (
                counters.iterations == 0 or self.shared is not None
            )  # shared: own islands only
            if first_start and all(p.origin == "initial" for p in programs):
                await self._seed(executor, programs)  # also finishes a seeding cut short
            initial = self.db.best()
            initial_best = initial.score if initial is not None else None
            await self._loop(executor)
        finally:
            executor.shutdown()
            close = getattr(self.backend, "aclose", None)
            if close is not None:  # HTTP clients must close inside the running event loop
                await close()
            if self.shared is not None:
                self.shared.release()
            status = (
                "stopped"
                if self.stop_requested and self.stop_reason.startswith("stopped")
                else "finished"
            )
            self.store.set_run_status(self.run_id, status)
        best = self.db.best()
        if best is not None:
            (self.run_dir / "best_program.py").write_text(best.code, encoding="utf-8")
        return RunSummary(
            self.run_id,
            self.run_dir,
            best,
            initial_best,
            self.store.counters(self.run_id),
            self.stop_reason or "budget reached",
        )

    # ------------------------------------------------------------------ seeding

    async def _seed(self, executor: object, stored: list[ProgramRecord]) -> None:
        """Evaluate the initial programs; several baselines seed different islands.

        A run killed while seeding kept what it committed: baselines already ``stored``
        are not evaluated again and only islands still without a valid program get a copy.
        """
        islands = self.shared.owned if self.shared else list(range(self.cfg.database.num_islands))
        done = {p.code: p for p in stored if p.origin == "initial" and p.parent_id is None}
        evaluated: list[ProgramRecord] = []
        for index, (_name, code) in enumerate(self.problem.initial_programs):
            if code in done:
                evaluated.append(done[code])
                continue
            island = islands[index % len(islands)]
            result = await self._evaluate(executor, new_id(), code, seed=index)
            record = self._record(
                code, result, parent=None, island=island, iteration=0, origin="initial"
            )
            self._commit(record, [])
            evaluated.append(record)
        if not any(p.valid for p in evaluated):
            reasons = "; ".join(
                f"{n}: {p.reason}" for (n, _), p in zip(self.problem.initial_programs, evaluated)
            )
            raise UserError(f"no initial program is valid ({reasons})", str(self.problem.directory))
        # Islands without a valid baseline start from a copy of the best one (no
        # re-evaluation); an island holding only an invalid one would never sample a valid parent.
        seeded = {p.island for p in [*evaluated, *stored] if p.valid}
        source = max(evaluated, key=lambda p: (p.valid, p.score or 0.0))
        for island in islands:
            if island not in seeded:
                copy = ProgramRecord(
                    **{
                        **source.__dict__,
                        "id": new_id(),
                        "island": island,
                        "parent_id": source.id,
                        "origin": "initial",
                        "created_at": time.time(),
                    }
                )
                self._commit(copy, [], counters={})

    # ------------------------------------------------------------------ the loop

    def _budget_left(self) -> bool:
        reason = self.budget.exhausted(self.store.counters(self.run_id))
        self.stop_reason = self.stop_reason or reason
        return not reason

    async def _loop(self, executor: object) -> None:
        width = self.cfg.llm.concurrency + self.cfg.evaluation.workers
        llm_slots = asyncio.Semaphore(self.cfg.llm.concurrency)
        in_flight: set[asyncio.Task[None]] = set()
        launched = 0
        start_iterations = self.store.counters(self.run_id).iterations
        while True:
            remaining = None
            if self.budget.iterations is not None:
                remaining = self.budget.iterations - start_iterations - launched
            while (
                not self.stop_requested
                and len(in_flight) < width
                and (remaining is None or remaining > 0)
                and self._budget_left()
            ):
                iteration = start_iterations + launched + 1
                launched += 1
                remaining = None if remaining is None else remaining - 1
                in_flight.add(asyncio.create_task(self._iteration(iteration, executor, llm_slots)))
            if not in_flight:
                break
            done, in_flight = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
            errors = [task.exception() for task in done if task.exception() is not None]
            if errors:
                for other in in_flight:
                    other.cancel()
                await asyncio.gather(*in_flight, return_exceptions=True)
                raise errors[0]  # type: ignore[misc]
            self._report("")

    async def _iteration(
        self, iteration: int, executor: object, llm_slots: asyncio.Semaphore
    ) -> None:
        island = self.shared.next_island() if self.shared else self.db.next_island()
        parent, inspirations, failures = self.db.sample(island)
        strategy = self.search.strategy(iteration, self._best_iteration)
        ctx = self._prompt_context(iteration, island, parent, inspirations, failures)
        ctx.strategy = strategy.name
        ctx.scratchpad, ctx.recommendation = self.search.prompt_notes(iteration)
        params = GenerationParams(
            temperature=strategy.temperature,
            max_tokens=self.cfg.llm.max_tokens,
            timeout_s=self.cfg.llm.timeout_s,
            seed=self.cfg.seed * 1_000_003 + iteration,
            context=ctx,
        )
        calls: list[LLMCallRecord] = []
        for attempt in range(self.search.max_attempts):
            completion = await self._ask(ctx, params, iteration, llm_slots, calls)
            if completion is None:
                return
            calls.append(self._llm_call(completion, iteration))
            edit = apply_response(parent.code, completion.text, ctx.mode)
            if not edit.ok and completion.finish_reason == "length":
                edit.error += CUT_OFF_NOTE
            # Retry a failed edit once, or resample a near-copy: same parent, the fix prompt says why.
            decision = await self.search.screen(edit, parent, island, iteration, attempt)
            if decision.action != "retry":
                break
            ctx.edit_error, params.seed = decision.message, (params.seed or 0) + 1
        if not edit.ok or decision.action == "discard":
            if not edit.ok:
                # Never evaluate an unchanged clone: the error goes into the island's next prompt.
                self.edit_errors[island] = edit.error
                self.store.add_event(
                    self.run_id, "edit_failed", {"iteration": iteration, "error": edit.error}
                )
            self._store_calls(calls)
            self.search.on_outcome(parent, None, calls)
            return
        self.edit_errors.pop(island, None)
        child_id = new_id()
        constraints = self.cfg.constraints
        reason = static_check(
            edit.code,
            constraints.forbidden_imports,
            constraints.max_changed_lines,
            edit.changed_lines,
        )
        counters: dict[str, float] | None = None  # None: the store counts an evaluation
        if reason:
            result = EvaluationResult.invalid(f"static check: {reason}")
            counters = calls_counters(calls, iterations=1, invalid=1)
        else:
            result = await self._evaluate(executor, child_id, edit.code, seed=iteration)
        record = self._record(
            edit.code,
            result,
            parent=parent,
            island=island,
            iteration=iteration,
            origin="llm",
            program_id=child_id,
            model=calls[-1].model,
            changed_lines=edit.changed_lines,
        )
        for call in calls:
            call.program_id = child_id
        self._commit(record, calls, counters)
        self.search.on_outcome(parent, record, calls)
        self._migrate_if_due()
        await self.search.maybe_summarize(iteration)

    async def _ask(
        self,
        ctx: PromptContext,
        params: GenerationParams,
        iteration: int,
        llm_slots: asyncio.Semaphore,
        earlier: list[LLMCallRecord],
    ) -> Completion | None:
        """One answer, or None once a failure (and the iteration's earlier answers) is recorded."""
        messages = self.prompts.render(ctx)
        async with llm_slots:
            if self.stop_requested:
                self._store_calls(earlier)
                return None
            started = time.monotonic()
            try:
                completion = await self.backend.complete(messages, params)
            except LLMError as exc:
                self._store_calls(earlier, iterations=0)
                self._on_llm_failure(exc, iteration, time.monotonic() - started)
                return None
        self.failures.succeeded()
        return completion

    def _store_calls(self, calls: list[LLMCallRecord], iterations: int = 1) -> None:
        """Calls that produced no stored program; the iteration is counted once, with the last."""
        for index, call in enumerate(calls):
            extra = iterations if index == len(calls) - 1 else 0
            self.store.add_llm_call(call, counters=call_counters(call, iterations=extra))

    # ------------------------------------------------------------------ helpers

    def _prompt_context(
        self,
        iteration: int,
        island: int,
        parent: ProgramRecord,
        inspirations: list[ProgramRecord],
        failures: list[ProgramRecord],
    ) -> PromptContext:
        every = self.cfg.prompt.rewrite_every
        mode = "rewrite" if every and iteration % every == 0 else self.cfg.prompt.mode
        artifacts = self.cfg.prompt.include_artifacts
        parent_view = ProgramView.from_record(parent, include_artifacts=artifacts)
        return PromptContext(
            description=self.problem.description,
            parent=parent_view,
            inspirations=[ProgramView.from_record(p, artifacts) for p in inspirations],
            failures=[ProgramView.from_record(p, artifacts) for p in failures],
            hints=self._released_hints(iteration),
            edit_error=self.edit_errors.get(island, ""),
            mode=mode,
            max_changed_lines=self.cfg.constraints.max_changed_lines,
        )

    def _released_hints(self, iteration: int) -> list[str]:
        stagnation = iteration - self._best_iteration
        return [
            h.text
            for h in self.cfg.hints
            if iteration >= h.after_iterations
            and (h.on_stagnation is None or stagnation >= h.on_stagnation)
        ]

    async def _evaluate(
        self, executor: object, program_id: str, code: str, seed: int
    ) -> EvaluationResult:
        cfg = self.cfg
        job = EvaluationJob(
            program_id=program_id,
            code=code,
            problem_dir=self.problem.directory,
            evaluator=cfg.evaluator,
            evaluator_args=dict(cfg.evaluator_args),
            timeout_s=cfg.constraints.timeout_s,
            seed=cfg.seed * 7919 + seed,
            preload=list(cfg.preload),
        )
        return await executor.evaluate(job)  # type: ignore[attr-defined, no-any-return]

    def _record(
        self,
        code: str,
        result: EvaluationResult,
        parent: ProgramRecord | None,
        island: int,
        iteration: int,
        origin: str,
        program_id: str | None = None,
        model: str = "",
        changed_lines: int = 0,
    ) -> ProgramRecord:
        return ProgramRecord(
            id=program_id or new_id(),
            run_id=self.run_id,
            code=code,
            parent_id=parent.id if parent else None,
            island=island,
            generation=parent.generation + 1 if parent else 0,
            iteration=iteration,
            valid=result.valid,
            score=result.score if result.valid else None,
            metrics=result.metrics,
            instances=result.instances,
            holdout=result.holdout,
            artifacts=result.artifacts,
            reason=result.reason,
            features={},
            origin=origin,
            model=model,
            changed_lines=changed_lines,
            eval_s=float(result.metrics.get("eval_s", 0.0)),
            created_at=time.time(),
        )

    def _commit(
        self,
        record: ProgramRecord,
        calls: list[LLMCallRecord],
        counters: dict[str, float] | None = None,
    ) -> None:
        best_before = self.db.best()
        self.db.add(record)
        self.store.add_program(record, calls, counters=counters)
        best = self.db.best()
        before = (
            best_before.score if best_before is not None and best_before.score is not None else None
        )
        # Float noise (the same program scored twice) is not progress.
        improved = before is None or (
            best is not None
            and best.score is not None
            and best.score > before + 1e-9 * max(1.0, abs(before))
        )
        if best is not None and best.score is not None and improved:
            self._best_iteration = record.iteration
            message = (
                f"new best {best.score:.6g} (iteration {record.iteration}, island {record.island})"
            )
            self._report(message)

    def _migrate_if_due(self) -> None:
        if self.shared is not None:
            self.shared.migrate_if_due(new_id)  # pulls elites from other controllers' islands too
            return
        if not self.db.should_migrate():
            return
        copies = self.db.migrate(new_id)
        for copy in copies:
            copy.run_id = self.run_id
            self.store.add_program(copy, [])
        self.store.add_event(self.run_id, "migration", {"copies": len(copies)})

    def _llm_call(
        self, completion: Completion, iteration: int, ok: bool = True, error: str = ""
    ) -> LLMCallRecord:
        return LLMCallRecord(
            run_id=self.run_id,
            program_id=None,
            iteration=iteration,
            model=completion.model,
            prompt_tokens=completion.prompt_tokens,
            completion_tokens=completion.completion_tokens,
            cost_usd=completion.cost_usd,
            latency_s=completion.latency_s,
            ok=ok,
            error=error,
            created_at=time.time(),
        )

    def _on_llm_failure(self, exc: LLMError, iteration: int, latency: float) -> None:
        failed = Completion(
            text="",
            model=getattr(exc, "model", "") or "",
            prompt_tokens=int(getattr(exc, "prompt_tokens", 0)),
            completion_tokens=int(getattr(exc, "completion_tokens", 0)),
            cost_usd=float(getattr(exc, "cost_usd", 0.0)),  # e.g. billed empty answers
            latency_s=latency,
        )
        call = self._llm_call(failed, iteration, ok=False, error=str(exc))  # "kind: message"
        self.store.add_llm_call(call, counters=call_counters(call, iterations=1))
        self.store.add_event(
            self.run_id, "llm_failed", {"iteration": iteration, "kind": exc.kind, "error": str(exc)}
        )
        self.failures.failed(exc)
        self._report(f"LLM call failed: {exc.kind}")

    def _report(self, message: str) -> None:
        if self.progress is None:
            return
        c = self.store.counters(self.run_id)
        best = self.db.best()
        elapsed = self.budget.elapsed_s()
        done = c.evaluations - self._evals_at_start
        self.progress.update(
            Progress(
                iterations=c.iterations,
                iteration_budget=self.budget.iterations,
                evaluations=c.evaluations,
                valid=c.valid,
                best_score=best.score if best else None,
                usd=c.usd,
                elapsed_s=elapsed,
                evals_per_s=done / elapsed if elapsed > 0 else 0.0,
                message=message,
            )
        )
