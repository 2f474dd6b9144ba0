"""Which programs are tuned and which trial runs next: the tuner the loop consults.

Call order (``evolve.controller``):

1. ``resume(programs)`` once, with every stored program: studies cut short are rebuilt
   from their stored trials and are finished first;
2. ``next_trial(iteration)`` whenever an evaluation slot is free: a trial to run, or None
   (tuning is off for now: every slot it may use is busy, or nothing is left to tune).
   A new study starts when the current ones have asked for all their trials and a
   target (``search.tune.targets``) is new, valid and not tuned yet;
3. ``run(plan, evaluate, commit)`` evaluates the trial through the run's executor (the
   same workers and sandbox as every other candidate), commits it as a ``TUNED`` ledger
   entry and tells the sampler.

A program is not tuned twice: not a trial itself, not a program already studied, and no
copy of either (the same code, e.g. after migration).
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from evolve.config import Config, TuneConfig
from evolve.database.ledger import Attempt, Outcome
from evolve.database.records import ProgramRecord
from evolve.edits import count_changed_lines, static_check
from evolve.evaluation.types import EvaluationResult
from evolve.file_edits import static_check_files
from evolve.programs import evaluated_program
from evolve.search.population import Population
from evolve.tunable import SearchSpace, SpaceError, space_of
from evolve.tunable.folder import FolderSpace, folder_space_of
from evolve.tuning.study import Study, TrialPlan

# (program id, code, seed, files): files of a folder program ({} for a single file)
Evaluate = Callable[[str, str, int, dict[str, str]], Awaitable[EvaluationResult]]
Commit = Callable[[Attempt], None]
Emit = Callable[[str, dict[str, Any]], None]
Targets = Callable[[], Iterable[ProgramRecord]]


def island_bests(population: Population, islands: list[int]) -> Targets:
    """Each island's best program, the best of them first (``targets: island_best``)."""

    def targets() -> list[ProgramRecord]:
        found = [p for p in (population.island_best(i) for i in islands) if p is not None]
        return sorted(found, key=lambda p: -(p.score or 0.0))

    return targets


def run_best(population: Population, islands: list[int]) -> Targets:
    """The run's best program (``targets: best``)."""

    def targets() -> list[ProgramRecord]:
        best = population.best()
        return [best] if best is not None and best.island in islands else []

    return targets


TARGETS: dict[str, Callable[[Population, list[int]], Targets]] = {
    "island_best": island_bests,
    "best": run_best,
}


class Tuner:
    def __init__(
        self,
        cfg: TuneConfig,
        run_id: str,
        seed: int,
        targets: Targets,
        slots: int,
        forbidden_imports: list[str],
        emit: Emit | None = None,
        languages: dict[str, str] | None = None,
    ) -> None:
        self.cfg = cfg
        self.languages = dict(languages or {})  # problem.yaml's language overrides
        self.run_id = run_id
        self.seed = seed
        self.targets = targets
        self.slots = max(1, slots)
        self.forbidden_imports = forbidden_imports
        self.emit = emit or (lambda kind, data: None)
        self.in_flight = 0
        self.active: list[Study] = []  # studies with trials left to ask for or to store
        self._programs: dict[str, ProgramRecord] = {}
        self._trials: dict[str, list[ProgramRecord]] = {}  # tuned program id -> stored trials
        self._settled: set[str] = set()  # ids studied, being studied, or not tunable
        self._codes: set[int] = set()  # code of every studied program and trial
        self._spaces: dict[str, SearchSpace | FolderSpace | None] = {}
        self.focus: str | None = None  # set: only this program's study is resumed

    # ------------------------------------------------------------------ state

    def resume(self, programs: Iterable[ProgramRecord]) -> None:
        """Rebuild from the stored programs; studies with trials still to run come first."""
        for program in programs:
            self._programs[program.id] = program
            if program.origin == "tune" and program.parent_id is not None:
                self._trials.setdefault(program.parent_id, []).append(program)
                self._codes.add(hash(program.code))
        for parent_id, trials in self._trials.items():
            parent = self._programs.get(parent_id)
            self._settled.add(parent_id)
            if parent is None:
                continue
            self._codes.add(hash(parent.code))
            if len(trials) < self.cfg.trials and self.focus in (None, parent_id):
                self._open(parent, trials)

    def _open(self, parent: ProgramRecord, stored: list[ProgramRecord]) -> Study | None:
        space = self._space_of(parent)
        if space is None:
            return None
        study = Study(
            parent, space, self.cfg.sampler, self.cfg.objectives, self.cfg.trials, self.seed,
            stored,
        )  # fmt: skip
        self.active.append(study)
        return study

    def _space_of(self, program: ProgramRecord) -> SearchSpace | FolderSpace | None:
        if program.id not in self._spaces:
            try:
                whole = (folder_space_of(program.files, self.languages) if program.files
                         else space_of(program.code))  # a folder program: each editable file
                space: SearchSpace | FolderSpace | None = whole.first(self.cfg.max_parameters)
            except (ValueError, ArithmeticError, RecursionError, MemoryError) as exc:
                # A candidate's text: whatever it holds skips the program, never the run.
                reason = str(exc) if isinstance(exc, SpaceError) else type(exc).__name__
                self.emit("tune_skipped", {"program": program.id, "reason": reason})
                space = None
            self._spaces[program.id] = space or None
        return self._spaces[program.id]

    def _tunable(self, program: ProgramRecord) -> bool:
        score = program.score
        return (
            program.valid
            and score is not None
            and math.isfinite(score)
            and program.origin != "tune"
            and program.id not in self._settled
            and hash(program.code) not in self._codes
        )

    # ------------------------------------------------------------------ scheduling

    def next_trial(self, iteration: int) -> TrialPlan | None:
        """A trial to run now, or None (see the module docstring)."""
        if self.in_flight >= self.slots:
            return None
        study = next((s for s in self.active if s.asks_left > 0), None) or self._start()
        if study is None:
            return None
        self.in_flight += 1
        return study.ask(iteration)

    def _start(self) -> Study | None:
        for program in self.targets():
            if not self._tunable(program):
                continue
            self._settled.add(program.id)
            self._programs[program.id] = program
            study = self._open(program, [])
            if study is None:
                continue
            self._codes.add(hash(program.code))
            self.emit(
                "tune_started",
                {"program": program.id, "parameters": len(study.space),
                 "trials": self.cfg.trials, "sampler": self.cfg.sampler.name,
                 "objectives": study.keys or ["score"]},
            )  # fmt: skip
            return study
        return None

    async def run(self, plan: TrialPlan, evaluate: Evaluate, commit: Commit) -> None:
        """Evaluate, store and tell one trial."""
        study, parent = plan.study, plan.study.parent
        stored = False
        try:
            files = (study.space.apply_files(plan.params)
                     if isinstance(study.space, FolderSpace) else {})
            reason = (static_check_files(parent.files, files, self.forbidden_imports, None, 0,
                                         self.languages) if files
                      else static_check(plan.code, self.forbidden_imports, None, 0))
            if reason:
                result = EvaluationResult.invalid(f"static check: {reason}")
            else:
                # The parent's evaluation seed for every trial: differences are the values'.
                result = await evaluate(plan.program_id, plan.code, parent.iteration, files)
            trial = evaluated_program(
                self.run_id, plan.program_id, plan.code, result, island=parent.island,
                origin="tune", parent=parent, iteration=plan.iteration,
                changed_lines=count_changed_lines(parent.code, plan.code), files=files,
            )  # fmt: skip
            values = study.values_of(trial)
            trial.metadata = {"tune": study.metadata(plan, values)}
            commit(Attempt(self.run_id, plan.iteration, Outcome.TUNED, programs=[trial]))
            stored = True
            study.tell(plan, trial, values)
            self._codes.add(hash(trial.code))
            self._trials.setdefault(parent.id, []).append(trial)
        finally:
            self.in_flight -= 1
            if not stored:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    study.abandon(plan)
        if study.finished and study in self.active:
            self.active.remove(study)
            best = study.best
            self.emit(
                "tuned",
                {"program": parent.id, "trials": study.stored, "parent_score": parent.score,
                 "best": best.id if best is not None else None,
                 "best_score": best.score if best is not None else None},
            )  # fmt: skip

    def trials_of(self, program_id: str) -> list[ProgramRecord]:
        """The stored trials of a program's study, in stored order."""
        return list(self._trials.get(program_id, []))


@dataclass(frozen=True)
class TuneRequest:
    """``evolve tune``: one program (None: the run's best), ``trials`` in its study."""

    program_id: str | None
    trials: int


def build_tuner(
    cfg: Config, run_id: str, population: Population, islands: list[int], emit: Emit
) -> Tuner | None:
    """The loop's tuner when ``search.tune.enabled``; None otherwise."""
    tune = cfg.search.tune
    if not tune.enabled:
        return None
    slots = max(1, math.floor(tune.share * cfg.evaluation.workers))
    targets = TARGETS[tune.targets](population, islands)
    return Tuner(tune, run_id, cfg.seed, targets, slots, cfg.constraints.forbidden_imports, emit,
                 cfg.languages)


def tuner_for(
    cfg: Config, run_id: str, population: Population, request: TuneRequest, emit: Emit
) -> Tuner:
    """A tuner for one program (``evolve tune``): only its study runs, on every evaluation
    worker. The program is looked up when the first trial is asked for (a new run seeds
    its initial program first); ``focus`` names it once known."""

    def target() -> ProgramRecord | None:
        if request.program_id is None:
            return population.best()
        found = request.program_id in population
        return population.get(request.program_id) if found else None

    def targets() -> list[ProgramRecord]:
        if not tuner.focus:  # resolved once: later bests are this study's own trials
            chosen = target()
            tuner.focus = chosen.id if chosen is not None else ""
        found = tuner.focus in population
        return [population.get(tuner.focus)] if tuner.focus and found else []

    tune = dataclasses.replace(cfg.search.tune, trials=request.trials)
    workers, forbidden = cfg.evaluation.workers, cfg.constraints.forbidden_imports
    tuner = Tuner(tune, run_id, cfg.seed, targets, workers, forbidden, emit, cfg.languages)
    known = target()
    tuner.focus = known.id if known is not None else ""
    return tuner
