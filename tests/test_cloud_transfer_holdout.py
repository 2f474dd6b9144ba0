"""The cloud transfer holdout: drawn by its stated rule, and it tells programs apart."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import networkx as nx
import pytest

from evaluators.cloud_transfer.evaluator import CloudTransferEvaluator
from evolve.evaluation.sandbox import Sandbox
from evolve.evaluation.types import EvaluationContext
from simulators.cloud_transfer import (
    cheapest_paths,
    direct_paths,
    load_network,
    load_scenario,
    steiner_tree,
)
from simulators.cloud_transfer.holdout import (
    HoldoutRule,
    draw_holdout,
    relay_destinations,
    routing_price,
)
from tests.support_cloud import CANDIDATES, PROBLEM_DIR, TRAIN

HOLDOUT_SEED = 12  # docs/problems/cloud_transfer.md, data/SOURCE.md
HOLDOUT_DIR = PROBLEM_DIR / "data" / "holdout"
PROGRAMS = {
    "direct": CANDIDATES / "ranking" / "direct.py",
    "cheapest_path": PROBLEM_DIR / "initial_program.py",
    "hub_relay": CANDIDATES / "ranking" / "hub_relay.py",
    "greedy_tree": CANDIDATES / "ranking" / "greedy_tree.py",
    "steiner_dp": CANDIDATES / "ranking" / "steiner_dp.py",
}


@pytest.fixture(scope="module")
def network():
    return load_network(PROBLEM_DIR / "data" / "profiles" / "edges_slim.csv")


@pytest.fixture(scope="module")
def train_sources(network):
    return {
        load_scenario(PROBLEM_DIR / "data" / "config" / f"{n}.json", network).src for n in TRAIN
    }


@pytest.fixture(scope="module")
def holdout(network):
    return [load_scenario(path, network) for path in sorted(HOLDOUT_DIR.glob("*.json"))]


@pytest.fixture(scope="module")
def context():
    box = Sandbox(preload=["numpy", "networkx"])
    yield EvaluationContext(problem_dir=PROBLEM_DIR, sandbox=box, timeout_s=60)
    box.close()


def test_shipped_holdout_is_what_the_rule_draws(network, train_sources):
    drawn = draw_holdout(network, HOLDOUT_SEED, train_sources)
    shipped = {p.stem: json.loads(p.read_text()) for p in HOLDOUT_DIR.glob("*.json")}
    assert {d.pop("name"): d for d in drawn} == shipped


def test_holdout_scenarios_need_routing(network, train_sources, holdout):
    rule = HoldoutRule()
    relay = relay_destinations(network)
    assert len(holdout) == rule.count
    assert len({s.src for s in holdout}) == len(holdout)
    for s in holdout:
        assert s.src not in train_sources
        direct = routing_price(network, s, direct_paths(network, s))
        cheapest = routing_price(network, s, cheapest_paths(network, s))
        tree, _ = steiner_tree(network, s.src, s.dsts)
        if "_relay" in s.name:
            assert 2 * sum(d in relay[s.src] for d in s.dsts) >= len(s.dsts)
            assert cheapest < direct
        else:
            assert tree <= rule.multicast_ratio * cheapest
        assert tree < cheapest <= direct


def test_relay_destinations_are_exactly_the_pairs_a_relay_beats(network):
    relay = relay_destinations(network)
    assert sum(len(v) for v in relay.values()) == 112
    graph = network.to_networkx()
    for src in network.regions:
        dist = nx.single_source_dijkstra_path_length(graph, src, weight="cost")
        expected = [
            d for d in network.regions if d != src and dist[d] < graph[src][d]["cost"] - 1e-9
        ]
        assert relay[src] == expected


def _kendall_tau(a: list[float], b: list[float]) -> float:
    pairs = list(itertools.combinations(range(len(a)), 2))
    agree = sum(1 if (a[i] - a[j]) * (b[i] - b[j]) > 0 else -1 for i, j in pairs)
    return agree / len(pairs)


def test_holdout_ranks_known_programs_like_the_train_set(context):
    evaluator = CloudTransferEvaluator(PROBLEM_DIR)
    train, held = [], []
    for name, path in PROGRAMS.items():
        result = evaluator.evaluate(path, context)
        assert result.valid and result.holdout["valid"] == 1.0, (name, result.reason)
        train.append(result.score)
        held.append(result.holdout["score"])
    scores = dict(zip(PROGRAMS, held))
    # direct and the per-destination cheapest paths (ADRS initial program) differ
    assert scores["cheapest_path"] > 1.03 * scores["direct"]
    assert len(set(held)) == len(held)
    assert max(scores, key=scores.__getitem__) == "steiner_dp"
    assert _kendall_tau(train, held) >= 0.8  # at most one of ten pairs swapped


def test_honest_program_meets_the_rich_deadline_on_the_holdout(context):
    rich = CloudTransferEvaluator(PROBLEM_DIR, mode="rich")
    result = rich.evaluate(PROBLEM_DIR / "initial_program.py", context)
    assert result.valid, result.reason
    assert result.holdout["valid"] == 1.0  # every holdout scenario met its deadline


def test_the_default_holdout_is_drawn_from_the_installation_secret(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`holdout: secret` follows the same rule with a seed no file or doc names: it
    differs from the published draw and between installations, and is stable within one."""
    from evolve.evaluation import trusted_seed

    problem = PROBLEM_DIR
    draws = []
    for name in ("a", "a", "b"):
        monkeypatch.setenv(trusted_seed.ENV_VAR, str(tmp_path / name))
        evaluator = CloudTransferEvaluator(problem, holdout="secret")
        draws.append([(p.scenario.src, tuple(p.scenario.dsts)) for p in evaluator.holdout])
    public = CloudTransferEvaluator(problem, holdout="data/holdout")
    published = [(p.scenario.src, tuple(p.scenario.dsts)) for p in public.holdout]
    assert len(draws[0]) == len(published) == 6
    assert draws[0] == draws[1] and draws[0] != draws[2] and draws[0] != published
