"""Search hooks: small plug-ins the loop calls at three fixed points of an iteration.

A hook subclasses :class:`SearchHook` and overrides only what it needs. Call order:

1. built with ``SEARCH_HOOKS.create(name, args, ...)``: ``services`` (what the run
   offers it, :class:`HookServices`) plus its own ``args`` from the config;
2. ``resume(state, programs)`` once before the first iteration: the hook's latest
   stored state (or None) and the programs the population was rebuilt from;
3. per iteration, in hook order:
   - ``before_prompt(plan)``: notes for the prompt (template strategy, temperature,
     scratchpad text); later hooks' values win;
   - ``screen(candidate)`` after each answer is parsed: proceed, ask again ("retry"),
     or drop the child ("discard"); the first hook with an opinion decides;
   - ``after_outcome(attempt, plan)`` once the iteration's ledger entry is committed;
4. after ``after_outcome``, ``state()``: new state to store as a ``state_kind`` event
   (None when unchanged). State is plain JSON; ``resume`` must accept every shape an
   earlier version stored, so stored runs keep working.

Built-in hooks: ``retry_failed_edit``, ``exploration``, ``novelty``, ``bandit``,
``scratchpad``, switched on by their sections of ``search`` (and ``llm.selection`` for
the bandit); more come from ``search.hooks`` by registry name, entry point
(``evolve.search_hooks``) or ``module:attr``. A new hook is one class plus a registry
entry.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from evolve.config import Config, LLMConfig
from evolve.database.ledger import Attempt, Outcome
from evolve.database.records import LLMCallRecord, ProgramRecord
from evolve.database.store import Store
from evolve.edits import EditResult
from evolve.llm import EnsembleBackend, primary_backend
from evolve.llm.base import Completion, GenerationParams, LLMBackend, LLMError
from evolve.llm.selection import LearningSelector
from evolve.llm.transcript import TranscriptPolicy
from evolve.prompts import PromptBuilder
from evolve.registry import Registry
from evolve.search.population import Population


@dataclass(frozen=True)
class Plan:
    """What an iteration works on (read-only for hooks)."""

    iteration: int
    island: int
    parent: ProgramRecord
    best_iteration: int  # the iteration of the run's latest new best (0: none yet)


@dataclass(frozen=True)
class PromptNotes:
    """What a hook adds to the prompt; None/"" leave the value to others."""

    strategy: str = ""  # "explore" | "exploit": selects explore.j2 / exploit.j2
    temperature: float | None = None
    scratchpad: str = ""
    recommendation: str = ""

    def over(self, earlier: PromptNotes) -> PromptNotes:
        """These notes on top of ``earlier`` ones."""
        return PromptNotes(
            strategy=self.strategy or earlier.strategy,
            temperature=self.temperature if self.temperature is not None else earlier.temperature,
            scratchpad=self.scratchpad or earlier.scratchpad,
            recommendation=self.recommendation or earlier.recommendation,
        )


@dataclass(frozen=True)
class Candidate:
    """One parsed answer of an iteration, about to be scored."""

    plan: Plan
    edit: EditResult
    answer: int  # 0 for the first answer of the iteration
    answers_left: int  # how many more answers this iteration may still ask for


@dataclass(frozen=True)
class Verdict:
    action: Literal["proceed", "retry", "discard"]
    message: str = ""  # for "retry": why the answer was not used (shown by fix.j2)


PROCEED = Verdict("proceed")


class HookServices:
    """What the run offers its hooks: the population, templates, events, side calls."""

    def __init__(
        self,
        store: Store,
        run_id: str,
        population: Population,
        backend: LLMBackend,
        prompts: PromptBuilder,
        llm: LLMConfig,
        seed: int,
        description: str,
    ) -> None:
        self.store = store
        self.run_id = run_id
        self.population = population
        self.backend = backend
        self.prompts = prompts
        self.llm = llm
        self.seed = seed
        self.description = description
        self.transcripts = TranscriptPolicy(llm)

    @property
    def has_models(self) -> bool:
        """Whether real models are configured (the offline engine cannot judge or write)."""
        return bool(self.llm.models)

    def render(self, template: str, **variables: Any) -> str:
        return self.prompts.env.get_template(template).render(**variables)

    def emit(self, kind: str, data: dict[str, Any]) -> None:
        """Store an event of the run now."""
        self.store.add_event(self.run_id, kind, data)

    async def ask(self, text: str, iteration: int) -> Completion | None:
        """One side call (judge, summarizer) to the first configured model; it is stored
        and counted as a ``SIDE_CALL`` ledger entry, failed or not. None when it failed."""
        backend = primary_backend(self.backend)
        params = GenerationParams(
            temperature=0.0,
            max_tokens=min(self.llm.max_tokens, 1024),
            timeout_s=self.llm.timeout_s,
            seed=self.seed,
        )
        started = time.monotonic()
        completion: Completion | None
        messages = [{"role": "user", "content": text}]
        try:
            completion = await backend.complete(messages, params)
            usage, error = completion, ""
        except LLMError as exc:
            completion = None
            usage = Completion(
                "",
                exc.model or backend.name,
                exc.prompt_tokens,
                exc.completion_tokens,
                exc.cost_usd,
                time.monotonic() - started,
            )
            error = str(exc)  # billed empty answers count too
        call = LLMCallRecord(
            run_id=self.run_id,
            iteration=iteration,
            model=usage.model,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            cost_usd=usage.cost_usd,
            latency_s=usage.latency_s,
            ok=not error,
            error=self.transcripts.redact(error),
            outcome="side_call",
            finish_reason=usage.finish_reason,
            transcript=self.transcripts.capture(messages, usage.text, usage.reasoning),
        )
        self.store.commit(Attempt(self.run_id, iteration, Outcome.SIDE_CALL, calls=[call]))
        return completion

    def learning_selector(self) -> LearningSelector | None:
        """The ensemble's model selector when it learns from rewards."""
        if isinstance(self.backend, EnsembleBackend):
            return self.backend.learning_selector
        return None


class SearchHook:
    """Base of search hooks: every method is optional (see the module docstring)."""

    state_kind: ClassVar[str] = ""  # event kind its state is stored under ("" = none)
    extra_answers: int = 0  # answers beyond the first it may ask for in one iteration

    def resume(self, state: dict[str, Any] | None, programs: list[ProgramRecord]) -> None:
        return None

    def before_prompt(self, plan: Plan) -> PromptNotes | None:
        return None

    async def screen(self, candidate: Candidate) -> Verdict | None:
        return None

    async def after_outcome(self, attempt: Attempt, plan: Plan) -> None:
        return None

    def state(self) -> dict[str, Any] | None:
        return None


SEARCH_HOOKS: Registry[SearchHook] = Registry(
    "search hook", entry_point_group="evolve.search_hooks"
)
SEARCH_HOOKS.register("retry_failed_edit", "evolve.search.retry:RetryFailedEdit")
SEARCH_HOOKS.register("exploration", "evolve.search.exploration:ExplorationHook")
SEARCH_HOOKS.register("novelty", "evolve.search.novelty:NoveltyHook")
SEARCH_HOOKS.register("bandit", "evolve.search.bandit:BanditHook")
SEARCH_HOOKS.register("scratchpad", "evolve.search.scratchpad:ScratchpadHook")


class SearchHooks:
    """The run's hooks, called in order."""

    def __init__(self, hooks: Sequence[SearchHook], services: HookServices) -> None:
        self.hooks = list(hooks)
        self.services = services
        # Answers one iteration may ask for: the first plus the most any hook wants.
        self.max_answers = 1 + max((h.extra_answers for h in self.hooks), default=0)

    def resume(self, programs: list[ProgramRecord]) -> None:
        for hook in self.hooks:
            state = None
            if hook.state_kind:
                stored = self.services.store.events(self.services.run_id, hook.state_kind)
                state = stored[-1].data if stored else None
            hook.resume(state, programs)

    def before_prompt(self, plan: Plan) -> PromptNotes:
        notes = PromptNotes()
        for hook in self.hooks:
            extra = hook.before_prompt(plan)
            if extra is not None:
                notes = extra.over(notes)
        return notes

    async def screen(self, candidate: Candidate) -> Verdict:
        for hook in self.hooks:
            verdict = await hook.screen(candidate)
            if verdict is not None and verdict.action != "proceed":
                return verdict
        return PROCEED

    async def after_outcome(self, attempt: Attempt, plan: Plan) -> None:
        for hook in self.hooks:
            await hook.after_outcome(attempt, plan)
            state = hook.state()
            if state is not None and hook.state_kind:
                self.services.emit(hook.state_kind, state)


def build_hooks(cfg: Config, services: HookServices) -> SearchHooks:
    """The hooks the config switches on, built-in ones first, in a fixed order."""
    search = cfg.search
    hooks: list[SearchHook] = []

    def add(name: str, where: str, args: dict[str, Any] | None = None, **bound: Any) -> None:
        hook = SEARCH_HOOKS.create(name, args or {}, where, services=services, **bound)
        if not isinstance(hook, SearchHook):
            raise SEARCH_HOOKS.wrong_type(name, "SearchHook", where)
        hooks.append(hook)

    if search.retry_failed_edit:
        add("retry_failed_edit", "search.retry_failed_edit")
    if search.exploration.enabled:
        add("exploration", "search.exploration", settings=search.exploration)
    if search.novelty.enabled:
        add("novelty", "search.novelty", settings=search.novelty)
    selector = services.learning_selector()
    if selector is not None:
        add("bandit", "llm.bandit", selector=selector, settings=cfg.llm.bandit)
    if search.scratchpad.enabled:
        add("scratchpad", "search.scratchpad", settings=search.scratchpad)
    for index, spec in enumerate(search.hooks):
        add(spec.name, f"search.hooks[{index}]", spec.args)
    return SearchHooks(hooks, services)
