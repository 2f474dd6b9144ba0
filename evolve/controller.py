"""The evolution loop: plan, propose, screen, score, commit.

Many iterations are in flight at once (asyncio): LLM calls overlap evaluations, which run
in worker processes. Every iteration ends in one ledger entry (an
:class:`~evolve.database.ledger.Attempt`) committed to the store in one transaction
together with the counters that budgets read, so a crash or Ctrl-C loses at most the
iterations still in flight, and resume redoes exactly those.
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

from evolve.budget import Budget
from evolve.database.answers import UnusableStreak, failure_counts, failure_reason, lenient_counts
from evolve.database.ledger import Attempt, Outcome
from evolve.database.records import new_id
from evolve.database.store import Store
from evolve.edits import static_check
from evolve.evaluation.executor import EvaluationJob, Executor, create_executor
from evolve.evaluation.types import (
    COMPATIBILITY_EVENT,
    COMPATIBILITY_NOTE,
    EvaluationResult,
)
from evolve.file_edits import static_check_files
from evolve.llm import build_backend
from evolve.llm.base import ClosableBackend, LLMBackend
from evolve.llm.failures import FailurePolicy
from evolve.problem import Problem
from evolve.programs import evaluated_program, write_best_program
from evolve.progress import Progress, ProgressSink, RunStatus, RunSummary
from evolve.prompts import PromptBuilder
from evolve.proposal import CUT_OFF_NOTE, Proposal, Proposer
from evolve.search.hooks import HookServices, Plan, build_hooks
from evolve.search.population import Population
from evolve.search.scope import island_scope
from evolve.seeding import seed_islands
from evolve.tuning import Evaluate, TuneRequest, build_tuner, tuner_for

__all__ = ["CUT_OFF_NOTE", "Controller", "Progress", "ProgressSink", "RunSummary"]


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
        self.cfg = cfg = problem.config
        self.store = store
        self.run_id = run_id
        self.run_dir = run_dir
        self.backend = backend or build_backend(cfg.llm, cfg.seed)
        self.progress = progress
        prompts = PromptBuilder(problem.directory)
        self.population = Population(cfg.database, cfg.seed)
        self.scope = island_scope(store, run_id, self.population, cfg.database)
        services = HookServices(
            store, run_id, self.population, self.backend, prompts, cfg.llm, cfg.seed,
            problem.description,
        )  # fmt: skip
        self.hooks = build_hooks(cfg, services)
        self.failures = FailurePolicy()
        self.proposer = Proposer(
            cfg, problem.description, run_id, self.backend, prompts, self.hooks, self.failures,
            stop_requested=lambda: self.stop is not None,
        )  # fmt: skip
        self.edit_errors: dict[int, str] = {}  # an island's last failed edit, for its next prompt
        self.stop: tuple[RunStatus, str] | None = None  # set once: why the run ends
        self.budget = Budget(cfg.budget.iterations)
        self.emit = lambda kind, data: store.add_event(run_id, kind, data)
        self.tuner = build_tuner(cfg, run_id, self.population, self.scope.islands, self.emit)
        self.notes: list[str] = []  # evaluators' run notes, each stated once
        self.compatibility_mode = False  # a score came from the candidate's own process
        self.unusable = UnusableStreak(cfg.llm.stop_after_unusable)
        self._reasons_seen: set[str] = set()  # failure reasons already said in the run log
        self._evals_at_start = 0
        self._best_iteration = 0

    # ------------------------------------------------------------------ lifecycle

    def request_stop(self, reason: str = "stopped by user") -> None:
        self.stop = self.stop or (RunStatus.STOPPED, reason)

    async def run(
        self, extra_iterations: int | None = None, tune: TuneRequest | None = None
    ) -> RunSummary:
        """Run the loop; with ``tune``, only that tuning study (``evolve tune``)."""
        programs = self.scope.start()
        self.population.rebuild(programs)
        self.hooks.resume(programs)
        if tune is not None:
            self.tuner = tuner_for(self.cfg, self.run_id, self.population, tune, self.emit)
        if self.tuner is not None:
            self.tuner.resume(programs)
        best = self.population.best()
        self._best_iteration = best.iteration if best is not None else 0
        counters = self.store.counters(self.run_id)
        self._evals_at_start = counters.evaluations
        self.compatibility_mode = bool(self.store.events(self.run_id, COMPATIBILITY_EVENT))
        self.budget = Budget.for_invocation(self.cfg.budget, counters, extra_iterations)
        if tune is not None:
            self.budget = Budget(None)  # the study's trials are the budget
        self.store.set_run_status(self.run_id, RunStatus.RUNNING)
        executor = create_executor(self.cfg.evaluation)
        try:
            if self.scope.needs_seeding(programs, counters):  # also finishes a cut-short seeding
                await seed_islands(
                    self.problem, self.run_id, self.scope.islands, programs,
                    lambda pid, code, seed, files: self._evaluate(
                        executor, pid, code, seed, files=files),
                    self._commit,
                )  # fmt: skip
            initial = self.population.best()
            await self._loop(executor, llm=tune is None)
        except Exception as exc:  # stored as such: the leaderboard shows which runs failed
            self.stop = (RunStatus.FAILED, str(exc))
            raise
        finally:
            executor.shutdown()
            if isinstance(self.backend, ClosableBackend):  # HTTP clients close inside the loop
                await self.backend.aclose()
            self.scope.stop()
            status = self.stop[0] if self.stop is not None else RunStatus.FINISHED
            self.store.set_run_status(self.run_id, status)
        best = self.population.best()
        if best is not None:
            write_best_program(self.run_dir, best)
        done = "tuning finished" if tune is not None else "budget reached"
        status, reason = self.stop or (RunStatus.FINISHED, done)
        calls = self.store.llm_calls(self.run_id)
        return RunSummary(
            self.run_id,
            self.run_dir,
            best,
            initial.score if initial is not None else None,
            self.store.counters(self.run_id),
            reason,
            status,
            list(self.notes),
            failure_counts(calls),
            lenient_counts(calls),
            compatibility_mode=self.compatibility_mode,
        )

    # ------------------------------------------------------------------ the loop

    def _budget_left(self) -> bool:
        reason = self.budget.exhausted(self.store.counters(self.run_id))
        if reason:
            self.stop = self.stop or (RunStatus.FINISHED, reason)
        return not reason

    async def _loop(self, executor: Executor, llm: bool = True) -> None:
        """Keep ``width`` tasks in flight: tuning trials when the tuner has one to run (it
        takes at most its share of the workers), else LLM iterations (``llm``)."""
        width = self.cfg.llm.concurrency + self.cfg.evaluation.workers
        in_flight: set[asyncio.Task[None]] = set()
        launched = 0
        start_iterations = self.store.counters(self.run_id).iterations
        while True:
            remaining = None
            if self.budget.iterations is not None:
                remaining = self.budget.iterations - start_iterations - launched
            while self.stop is None and len(in_flight) < width and self._budget_left():
                trial = self.tuner.next_trial(start_iterations + launched) if self.tuner else None
                if trial is not None and self.tuner is not None:
                    run = self.tuner.run(trial, self._evaluator(executor), self._commit)
                    in_flight.add(asyncio.create_task(run))
                    continue
                if not llm or (remaining is not None and remaining <= 0):
                    break
                launched += 1
                remaining = None if remaining is None else remaining - 1
                iteration = start_iterations + launched
                in_flight.add(asyncio.create_task(self._iteration(iteration, executor)))
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

    async def _iteration(self, iteration: int, executor: Executor) -> None:
        # plan: which island, which parent, what the hooks add to the prompt
        island = self.scope.next_island()
        sample = self.population.sample_detailed(island)
        plan = Plan(iteration, island, sample.parent, self._best_iteration)
        notes = self.hooks.before_prompt(plan)
        request = self.proposer.request(plan, sample, notes, self.edit_errors.get(island, ""))
        # propose and screen: ask, parse, let the hooks accept, re-ask or discard
        proposal = await self.proposer.propose(plan, request)
        # score: the static gate, then the evaluator
        attempt = await self._score(plan, proposal, executor)
        for note in proposal.notes:  # what a backend changed about its requests
            attempt.event("llm_note", {"iteration": iteration, "note": note})
        # commit: one ledger entry, then what follows from it
        self._commit(attempt)
        self._watch_answers(proposal)
        if proposal.failure is not None:
            self.failures.failed(proposal.failure)  # raises once the LLM is clearly unusable
        await self.hooks.after_outcome(attempt, plan)
        migration = self.scope.migrate_if_due(new_id)
        if migration is not None:
            self._commit(migration)

    def _watch_answers(self, proposal: Proposal) -> None:
        """The run log says each new reason an answer gave no candidate; the run stops
        once ``llm.stop_after_unusable`` answers in a row gave none."""
        for note in proposal.notes:
            self._report(f"note: {note}")
            if note not in self.notes:  # the closing summary lists it too
                self.notes.append(note)
        edit_error = proposal.edit.error if proposal.edit is not None else ""
        for call in proposal.calls:
            reason = failure_reason(call)
            if proposal.failure is not None and reason.startswith("LLM error"):
                self._report(f"LLM call failed: {proposal.failure}")
            elif reason and reason not in self._reasons_seen:
                self._report(f"answer gave no candidate ({reason}, iteration {call.iteration}): "
                             f"{edit_error}")
            self._reasons_seen.add(reason)
        diagnosis = self.unusable.observe(proposal.calls, edit_error)
        if diagnosis and self.stop is None:
            self.stop = (RunStatus.FAILED, f"{diagnosis}; every failed answer: evolve show "
                                           f"{self.run_dir} --failures")
            self._report(f"stopping: {diagnosis}")

    async def _score(self, plan: Plan, proposal: Proposal, executor: Executor) -> Attempt:
        """The iteration's ledger entry: the early outcome, or the scored child."""
        attempt = Attempt(self.run_id, plan.iteration, Outcome.EVALUATED, calls=proposal.calls)
        for kind, data in proposal.events:
            attempt.event(kind, data)
        if proposal.outcome is Outcome.EDIT_FAILED and proposal.edit is not None:
            # Never evaluate an unchanged clone: the error goes into the island's next prompt.
            self.edit_errors[plan.island] = proposal.edit.error
        if proposal.outcome is not None or proposal.edit is None:
            attempt.outcome = proposal.outcome or Outcome.STOPPED
            return attempt
        self.edit_errors.pop(plan.island, None)
        edit, constraints, child_id = proposal.edit, self.cfg.constraints, new_id()
        if edit.files:
            reason = static_check_files(
                plan.parent.files, edit.files, constraints.forbidden_imports,
                constraints.max_changed_lines, edit.changed_lines, self.cfg.languages,
            )  # fmt: skip
        else:
            reason = static_check(
                edit.code, constraints.forbidden_imports, constraints.max_changed_lines,
                edit.changed_lines,
            )  # fmt: skip
        if reason:
            result = EvaluationResult.invalid(f"static check: {reason}")
            attempt.outcome = Outcome.REJECTED
        else:
            result = await self._evaluate(
                executor, child_id, edit.code, plan.iteration, files=edit.files)
        child = evaluated_program(
            self.run_id, child_id, edit.code, result, island=plan.island, origin="llm",
            parent=plan.parent, iteration=plan.iteration, model=proposal.calls[-1].model,
            changed_lines=edit.changed_lines, files=edit.files,
        )  # fmt: skip
        attempt.programs.append(child)
        return attempt

    def _evaluator(self, executor: Executor) -> Evaluate:
        return lambda pid, code, seed, files: self._evaluate(executor, pid, code, seed, files)

    async def _evaluate(
        self, executor: Executor, program_id: str, code: str, seed: int,
        files: dict[str, str] | None = None,
    ) -> EvaluationResult:
        """``files``: a folder program's files (``code`` is their combined text)."""
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
            files=dict(files or {}),
            build=dataclasses.asdict(cfg.build) if files and cfg.build.command else None,
        )
        result = await executor.evaluate(job)
        for note in result.run_notes:
            if note not in self.notes:  # a fact about the set-up: said once per run
                self.notes.append(note)
                self._report(f"note: {note}")
        if result.compatibility_mode and not self.compatibility_mode:
            self.compatibility_mode = True  # stored once: every view of the run says it
            self.store.add_event(self.run_id, COMPATIBILITY_EVENT, {"note": COMPATIBILITY_NOTE})
            self._report(f"note: {COMPATIBILITY_NOTE}")
        return result

    def _commit(self, attempt: Attempt) -> None:
        """Index the entry's programs, write the entry, report a new best."""
        if not (attempt.programs or attempt.calls or attempt.events):
            return  # e.g. stopped before its first call: nothing happened
        best_before = self.population.best()
        for program in attempt.programs:
            self.population.add(program)  # before storing: it fills in the feature values
        self.store.commit(attempt)
        best = self.population.best()
        if best is None or best.score is None or attempt.program is None:
            return
        before = best_before.score if best_before is not None else None
        # Float noise (the same program scored twice) is not progress.
        if before is None or best.score > before + 1e-9 * max(1.0, abs(before)):
            self._best_iteration = attempt.iteration
            where = f"iteration {attempt.iteration}, island {attempt.program.island}"
            self._report(f"new best {best.score:.6g} ({where})")

    def _report(self, message: str) -> None:
        if self.progress is None:
            return
        c = self.store.counters(self.run_id)
        best = self.population.best()
        elapsed = self.budget.elapsed_s()
        done = c.evaluations - self._evals_at_start
        self.progress.update(
            Progress(
                iterations=c.iterations,
                iteration_budget=self.budget.iterations,
                evaluations=c.evaluations,
                valid=c.valid,
                best_score=best.score if best is not None else None,
                usd=c.usd,
                elapsed_s=elapsed,
                evals_per_s=done / elapsed if elapsed > 0 else 0.0,
                message=message,
            )
        )
