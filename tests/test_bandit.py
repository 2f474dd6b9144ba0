"""Model selection: fixed weights (default) and the cost-aware UCB bandit, through the loop."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from support_fake_openai import FakeOpenAIServer, Reply
from support_search import FAKE_LLM, fake_models, run_problem, set_value_edit, vector_problem

from evolve.config import BanditConfig, LLMConfig, ModelConfig
from evolve.errors import UserError
from evolve.llm import EnsembleBackend, build_backend
from evolve.llm.selection import MODEL_SELECTORS as SELECTORS
from evolve.llm.selection import CostAwareUCB, WeightedSelector, create_selector
from evolve.search.bandit import improvement_reward

NAMES = ["a", "b"]


def test_reward_is_clipped_relative_improvement() -> None:
    assert improvement_reward(1.0, 1.01, True, 0.05) == pytest.approx(0.2)
    assert improvement_reward(1.0, 2.0, True, 0.05) == 1.0
    assert improvement_reward(1.0, 0.5, True, 0.05) == 0.0
    assert improvement_reward(1.0, 2.0, False, 0.05) == 0.0
    assert improvement_reward(None, 2.0, True, 0.05) == 0.0


def test_ucb_tries_each_model_then_prefers_the_rewarding_one() -> None:
    ucb = CostAwareUCB(BanditConfig(exploration=1.0, cost_weight=0.0))
    rng = random.Random(0)
    first = {NAMES[ucb.choose(NAMES, [1, 1], rng)] for _ in range(2)}
    assert first == {"a", "b"}  # pulls count at pick time: concurrent calls spread out
    ucb.update("a", 1.0, 0.0)
    ucb.update("b", 0.0, 0.0)
    picks = []
    for _ in range(60):
        name = NAMES[ucb.choose(NAMES, [1, 1], rng)]
        ucb.update(name, 1.0 if name == "a" else 0.0, 0.0)
        picks.append(name)
    assert picks.count("a") > 40 and "b" in picks  # mostly the winner, still some exploration


def test_ucb_discounts_expensive_models() -> None:
    ucb = CostAwareUCB(BanditConfig(exploration=0.0, cost_weight=1.0))
    for _ in range(5):
        ucb.update("a", 0.5, 0.01)
        ucb.update("b", 0.6, 0.10)  # a bit better but ten times the cost
    assert NAMES[ucb.choose(NAMES, [1, 1], random.Random(0))] == "a"
    free = CostAwareUCB(BanditConfig(exploration=0.0, cost_weight=0.0))
    free.load(ucb.state())
    assert NAMES[free.choose(NAMES, [1, 1], random.Random(0))] == "b"


def test_state_round_trips_and_drops_pending_pulls() -> None:
    ucb = CostAwareUCB()
    ucb.choose(NAMES, [1, 1], random.Random(0))
    ucb.update("a", 0.5, 0.2)
    ucb.choose(NAMES, [1, 1], random.Random(0))  # pending, never rewarded
    again = CostAwareUCB()
    again.load(ucb.state())
    assert again.arms["a"] == {"pulls": 1, "updates": 1, "reward": 0.5, "cost": 0.2}


def test_selectors_by_name_import_path_and_instance() -> None:
    assert isinstance(create_selector("ucb"), CostAwareUCB)
    assert isinstance(create_selector("evolve.llm.selection:WeightedSelector"), WeightedSelector)
    mine = CostAwareUCB()
    assert create_selector(mine) is mine
    assert set(SELECTORS.names()) >= {"ucb", "weighted"}
    with pytest.raises(UserError, match="unknown model selector"):
        create_selector("thompson")
    models = [ModelConfig(name="x", provider="offline"), ModelConfig(name="y", provider="offline")]
    ensemble = build_backend(LLMConfig(models=models, selection="ucb"), seed=0)
    assert isinstance(ensemble, EnsembleBackend) and isinstance(ensemble.selector, CostAwareUCB)
    assert build_backend(LLMConfig(models=models), seed=0).selector is None  # fixed weights by default


def _responders(server: FakeOpenAIServer) -> None:
    counter = {"n": 0}

    def good(body: dict[str, Any]) -> Reply:  # moves `a` toward its target 0.9: improves
        counter["n"] += 1
        return Reply.ok(set_value_edit(body, "a", round(0.55 + 0.01 * counter["n"], 3)))

    def bad(body: dict[str, Any]) -> Reply:  # an edit that never applies: reward 0
        return Reply.ok("<<<<<<< SEARCH\nnot in the program\n=======\nx = 1\n>>>>>>> REPLACE\n")

    server.set_responder("good", good)
    server.set_responder("bad", bad)


def test_ucb_through_the_loop_learns_and_resumes(tmp_path: Path) -> None:
    folder = vector_problem(tmp_path)
    with FakeOpenAIServer() as server:
        _responders(server)
        overrides = FAKE_LLM + [fake_models(server, ("good", "bad")), "database.num_islands=1",
                                "llm.selection=ucb", "llm.bandit.exploration=0.2", "budget.iterations=24"]
        run, _ = run_problem(folder, tmp_path, overrides)
        used = server.models_used()
        assert used.count("good") > 2 * used.count("bad") and used.count("bad") >= 1
        states = run.store.events(run.run_id, "bandit_state")
        assert len(states) == 24
        arms = states[-1].data["arms"]
        assert arms["good"]["updates"] + arms["bad"]["updates"] == 24
        assert arms["good"]["reward"] > 0 and arms["bad"]["reward"] == 0
        assert arms["good"]["cost"] > 0
        # Resume: the bandit continues from its stored state instead of starting over.
        run_problem(folder, tmp_path, overrides, run=run, extra_iterations=4)
        states = run.store.events(run.run_id, "bandit_state")
        arms2 = states[-1].data["arms"]
        assert arms2["good"]["updates"] + arms2["bad"]["updates"] == 28
        assert server.models_used()[len(used):].count("good") >= 3

    # Control: fixed weights 1:1 ignore the outcomes.
    with FakeOpenAIServer() as server:
        _responders(server)
        fixed = FAKE_LLM + [fake_models(server, ("good", "bad")), "database.num_islands=1", "budget.iterations=24"]
        run3, _ = run_problem(folder, tmp_path / "fixed", fixed)
        used = server.models_used()
        assert used.count("bad") >= 6
        assert not run3.store.events(run3.run_id, "bandit_state")
