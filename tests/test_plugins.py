"""Plug-ins from outside the package: a search hook, an LLM backend with its own setting and
an executor with its own setting, each one class plus a registry entry, run the loop;
their ``args`` are checked against their signatures before a run starts."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any, ClassVar

import pytest
from support_search import run_problem, vector_problem

from evolve.config import EvaluationConfig, LLMConfig, ModelConfig, load_config
from evolve.database.ledger import Attempt, Outcome
from evolve.database.records import ProgramRecord
from evolve.errors import UserError
from evolve.evaluation.executor import EXECUTORS, EvaluationJob, LocalExecutor
from evolve.evaluation.types import EvaluationResult
from evolve.llm import BACKENDS
from evolve.llm.base import Completion, GenerationParams
from evolve.llm.offline import OfflineMutationEngine
from evolve.plugins import check_plugins
from evolve.search.hooks import (
    SEARCH_HOOKS,
    Candidate,
    HookServices,
    Plan,
    PromptNotes,
    SearchHook,
    Verdict,
)

FAST = ["evaluation.workers=1", "llm.concurrency=1", "database.num_islands=1"]


class TallyHook(SearchHook):
    """Counts outcomes (its persisted state), sets a temperature and discards every
    ``discard_every``-th child before evaluation."""

    state_kind = "tally_state"
    seen: ClassVar[list[tuple[str, Any]]] = []

    def __init__(
        self, services: HookServices, discard_every: int = 3, temperature: float = 0.25
    ) -> None:
        self.discard_every = discard_every
        self.temperature = temperature
        self.outcomes: dict[str, int] = {}
        self.screened = 0

    def resume(self, state: dict[str, Any] | None, programs: list[ProgramRecord]) -> None:
        TallyHook.seen.append(("resume", state))
        self.outcomes = dict((state or {}).get("outcomes", {}))

    def before_prompt(self, plan: Plan) -> PromptNotes | None:
        return PromptNotes(temperature=self.temperature)

    async def screen(self, candidate: Candidate) -> Verdict | None:
        self.screened += 1
        if candidate.edit.ok and self.screened % self.discard_every == 0:
            return Verdict("discard")
        return None

    async def after_outcome(self, attempt: Attempt, plan: Plan) -> None:
        self.outcomes[attempt.outcome] = self.outcomes.get(attempt.outcome, 0) + 1

    def state(self) -> dict[str, Any] | None:
        return {"outcomes": dict(self.outcomes)}


class TemperatureProbe:
    """Wraps the offline engine and keeps the temperature of every call."""

    def __init__(self) -> None:
        self.inner = OfflineMutationEngine(0)
        self.name = "probe"
        self.temperatures: list[float] = []

    async def complete(
        self, messages: list[dict[str, str]], params: GenerationParams
    ) -> Completion:
        self.temperatures.append(params.temperature)
        return await self.inner.complete(messages, params)


def test_a_search_hook_from_outside_runs_the_loop_and_keeps_its_state(tmp_path: Path) -> None:
    SEARCH_HOOKS.register("tally", TallyHook)
    TallyHook.seen.clear()
    folder = vector_problem(tmp_path)
    overrides = [
        *FAST,
        "budget.iterations=9",
        "search.hooks=[{name: tally, args: {discard_every: 3, temperature: 0.25}}]",
    ]
    probe = TemperatureProbe()
    run, _ = run_problem(folder, tmp_path, overrides, backend=probe)
    assert set(probe.temperatures) == {0.25}  # before_prompt reached the request
    counters = run.store.counters(run.run_id)
    children = [p for p in run.store.programs(run.run_id) if p.origin == "llm"]
    states = run.store.events(run.run_id, "tally_state")
    final = states[-1].data["outcomes"]
    assert counters.iterations == 9 and sum(final.values()) == 9
    assert final.get(Outcome.DISCARDED, 0) == 3 and len(children) == 9 - 3
    assert TallyHook.seen == [("resume", None)]
    # Resume: the hook is handed its latest stored state.
    run_problem(
        folder, tmp_path, overrides, run=run, extra_iterations=2, backend=TemperatureProbe()
    )
    assert TallyHook.seen[-1] == ("resume", {"outcomes": final})
    assert sum(run.store.events(run.run_id, "tally_state")[-1].data["outcomes"].values()) == 11


class RegionalBackend:
    """A third-party backend with a setting of its own (``region``)."""

    def __init__(
        self, model: ModelConfig, llm: LLMConfig, *, where: str, rng: random.Random, region: str
    ) -> None:
        self.name = f"{model.name}@{region}"
        self.engine = OfflineMutationEngine(rng.getrandbits(32))

    async def complete(
        self, messages: list[dict[str, str]], params: GenerationParams
    ) -> Completion:
        answer = await self.engine.complete(messages, params)
        answer.model = self.name
        return answer


def test_a_backend_with_its_own_setting_runs_the_loop(tmp_path: Path) -> None:
    BACKENDS.register("regional", RegionalBackend)
    folder = vector_problem(tmp_path)
    model = "llm.models=[{name: m1, provider: regional, args: {region: eu-west}}]"
    run, _ = run_problem(folder, tmp_path, [*FAST, "budget.iterations=4", model])
    calls = run.store.llm_calls(run.run_id)
    assert len(calls) == 4 and {c.model for c in calls} == {"m1@eu-west"}
    typo = load_config(
        None, overrides=["llm.models=[{name: m1, provider: regional, args: {regoin: x}}]"]
    )
    with pytest.raises(UserError) as caught:
        check_plugins(typo)
    assert caught.value.where == "llm.models[0].args.regoin"
    assert "did you mean 'region'" in caught.value.message


class QueueExecutor:
    """A third-party executor with a setting of its own (``queue``): the local executor,
    counting the jobs each queue ran."""

    jobs: ClassVar[dict[str, int]] = {}

    def __init__(self, cfg: EvaluationConfig, queue: str) -> None:
        self.queue = queue
        self.local = LocalExecutor(cfg.workers)

    async def evaluate(self, job: EvaluationJob) -> EvaluationResult:
        QueueExecutor.jobs[self.queue] = QueueExecutor.jobs.get(self.queue, 0) + 1
        return await self.local.evaluate(job)

    def shutdown(self) -> None:
        self.local.shutdown()


def test_an_executor_with_its_own_setting_runs_the_loop(tmp_path: Path) -> None:
    EXECUTORS.register("queued", QueueExecutor)
    QueueExecutor.jobs.clear()
    folder = vector_problem(tmp_path)
    overrides = [
        *FAST,
        "budget.iterations=5",
        "evaluation.executor=queued",
        "evaluation.args={queue: gpu-a}",
    ]
    run, _ = run_problem(folder, tmp_path, overrides)
    assert QueueExecutor.jobs == {"gpu-a": run.store.counters(run.run_id).evaluations}
    with pytest.raises(UserError) as caught:
        check_plugins(
            load_config(None, overrides=["evaluation.executor=queued", "evaluation.args={queu: x}"])
        )
    assert caught.value.where == "evaluation.args.queu"


def test_unknown_plugins_and_arguments_are_one_line_errors_naming_the_key() -> None:
    cases = [
        (["search.hooks=[{name: no_such_hook}]"], "search.hooks[0].name"),
        (["search.hooks=[{name: tally, args: {every: 2}}]"], "search.hooks[0].args.every"),
        (["evaluation.args={grace: 3}"], "evaluation.args.grace"),
        (
            ["database.parent_selection=[{name: exploit, args: {k: 2}}]"],
            "database.parent_selection[0].args.k",
        ),
    ]
    SEARCH_HOOKS.register("tally", TallyHook)
    for overrides, where in cases:
        with pytest.raises(UserError) as caught:
            check_plugins(load_config(None, overrides=overrides))
        assert caught.value.where == where and "\n" not in caught.value.message
    check_plugins(load_config(None, overrides=["evaluation.args={grace_s: 5}"]))  # accepted
