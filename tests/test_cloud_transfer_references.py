"""Reference routings on the 5 ADRS scenarios: the published dollar figures."""

from __future__ import annotations

import random

import networkx as nx
import pytest

from simulators.cloud_transfer import (
    cheapest_paths,
    check_routing,
    direct_paths,
    egress_lower_bound,
    load_network,
    load_scenario,
    simulate_adrs,
    steiner_paths,
    steiner_tree,
)
from tests.support_cloud import PROBLEM_DIR, TRAIN


@pytest.fixture(scope="module")
def network():
    return load_network(PROBLEM_DIR / "data" / "profiles" / "edges_slim.csv")


@pytest.fixture(scope="module")
def scenarios(network):
    return [
        load_scenario(PROBLEM_DIR / "data" / "config" / f"{name}.json", network) for name in TRAIN
    ]


def _total(network, scenarios, make_paths):
    reports = [
        simulate_adrs(network, s, check_routing(make_paths(network, s), network, s))
        for s in scenarios
    ]
    return sum(r.total_cost for r in reports), sum(r.egress_cost for r in reports)


def test_network_shape(network):
    assert network.size == 71
    assert len(network.edges()) == 4970


@pytest.mark.parametrize(
    "make_paths, total",
    [(direct_paths, 1199.17), (cheapest_paths, 1045.86), (steiner_paths, 623.59)],
    ids=["direct", "cheapest_path", "steiner_optimum"],
)
def test_adrs_totals_match_published_figures(network, scenarios, make_paths, total):
    cost, _ = _total(network, scenarios, make_paths)
    assert abs(cost - total) <= 0.01


def test_egress_lower_bound_is_attained_by_the_optimum(network, scenarios):
    bound = sum(egress_lower_bound(network, s) for s in scenarios)
    assert abs(bound - 618.00) <= 0.01
    _, egress = _total(network, scenarios, steiner_paths)
    assert egress == pytest.approx(bound)
    for make_paths in (direct_paths, cheapest_paths):
        assert _total(network, scenarios, make_paths)[1] > bound


def test_steiner_agrees_with_closed_forms_for_one_and_two_terminals(network):
    graph = network.to_networkx()
    dist = dict(nx.all_pairs_dijkstra_path_length(graph, weight="cost"))
    rng = random.Random(7)
    for _ in range(15):
        src, a, b = rng.sample(network.regions, 3)
        assert steiner_tree(network, src, [a])[0] == pytest.approx(dist[src][a])
        # two terminals: the tree forks at some node v
        best = min(dist[src][v] + dist[v][a] + dist[v][b] for v in network.regions)
        assert steiner_tree(network, src, [a, b])[0] == pytest.approx(best)
