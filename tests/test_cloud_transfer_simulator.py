"""Simulator unit tests on a tiny hand-made network, with hand-computed costs and times."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from simulators.cloud_transfer import (
    InvalidRouting,
    check_routing,
    simulate_adrs,
    simulate_rich,
    steiner_tree,
    weighted_max_min_rates,
)
from tests.support_cloud import same_route, tiny_network, tiny_scenario

PRICE = {"aws": 3.6, "gcp": 3.6, "azure": 3.6}  # $3.6/h = $0.001 per VM-second


def test_adrs_chain_pays_each_partition_once_per_edge(tmp_path):
    net = tiny_network(tmp_path)
    sc = tiny_scenario(net)
    routing = check_routing(
        same_route({"aws:b": ["aws:a", "aws:b"], "gcp:c": ["aws:a", "aws:b", "gcp:c"]}, 2), net, sc
    )
    report = simulate_adrs(net, sc, routing, num_vms=1, vm_price_per_hour=3.6)
    # a->b carries both partitions once although it serves b and c: 2 x 5 GB x 0.02
    assert report.egress_cost == pytest.approx(0.2 + 0.2)
    # a->b: 10 GB * 8 / 2 Gbps = 40 s; b->c: 80 Gbit / 1 Gbps = 80 s
    assert report.dst_times_s == pytest.approx({"aws:b": 40.0, "gcp:c": 80.0})
    assert report.transfer_time_s == pytest.approx(80.0)
    # 3 regions x 1 VM x $0.001/s x 80 s
    assert report.vm_cost == pytest.approx(0.24)
    assert report.total_cost == pytest.approx(0.64)


def test_adrs_egress_limit_is_split_among_outgoing_edges(tmp_path):
    net = tiny_network(tmp_path)
    sc = tiny_scenario(net, egress_aws=4.0)
    routing = check_routing(
        same_route({"aws:b": ["aws:a", "aws:b"], "gcp:c": ["aws:a", "gcp:c"]}, 2), net, sc
    )
    report = simulate_adrs(net, sc, routing, num_vms=1, vm_price_per_hour=3.6)
    # a sends 2 + 3 = 5 Gbps > 4: each of its 2 edges is capped at 4 / 2 = 2 Gbps
    assert {(e.src, e.dst): e.rate_gbps for e in report.edges} == {
        ("aws:a", "aws:b"): 2.0,
        ("aws:a", "gcp:c"): 2.0,
    }
    assert report.transfer_time_s == pytest.approx(40.0)
    assert report.egress_cost == pytest.approx(10 * 0.02 + 10 * 0.09)
    assert report.vm_cost == pytest.approx(3 * 0.001 * 40)


def test_adrs_num_vms_scales_throughput_and_limits(tmp_path):
    net = tiny_network(tmp_path)
    sc = tiny_scenario(net)
    routing = check_routing(
        same_route({"aws:b": ["aws:a", "aws:b"], "gcp:c": ["aws:a", "aws:b", "gcp:c"]}, 2), net, sc
    )
    one = simulate_adrs(net, sc, routing, num_vms=1, vm_price_per_hour=3.6)
    two = simulate_adrs(net, sc, routing, num_vms=2, vm_price_per_hour=3.6)
    assert two.transfer_time_s == pytest.approx(one.transfer_time_s / 2)
    assert two.egress_cost == pytest.approx(one.egress_cost)


def test_weighted_max_min_rates_by_hand():
    # one shared constraint of 4: speeds equal, rates proportional to weights
    rates = weighted_max_min_rates(np.array([1.0, 3.0]), np.array([[1.0, 1.0]]), np.array([4.0]))
    assert rates == pytest.approx([1.0, 3.0])
    # edge 1 capped at 1 freezes first; edge 0 takes what is left of the shared 4
    incidence = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    rates = weighted_max_min_rates(np.array([1.0, 3.0]), incidence, np.array([10.0, 1.0, 4.0]))
    assert rates == pytest.approx([3.0, 1.0])


def test_rich_model_vms_and_deadline(tmp_path):
    net = tiny_network(tmp_path)
    sc = tiny_scenario(net)
    chain = same_route({"aws:b": ["aws:a", "aws:b"], "gcp:c": ["aws:a", "aws:b", "gcp:c"]}, 2)
    slow = simulate_rich(net, sc, check_routing(chain, net, sc), 1, PRICE, deadline_s=60.0)
    # b->c: 1 VM pair at 1 Gbps moves 80 Gbit in 80 s, past the 60 s deadline
    assert slow.transfer_time_s == pytest.approx(80.0)
    assert slow.vm_cost == pytest.approx(3 * 3.6 * 80 / 3600)
    assert not slow.meets_deadline
    fast = simulate_rich(
        net,
        sc,
        check_routing({"paths": chain, "num_vms": {"aws:b": 2, "gcp:c": 2}}, net, sc, 8),
        1,
        PRICE,
        deadline_s=60.0,
    )
    # b->c now min(2, 2) x 1 Gbps = 2 Gbps: 40 s; a->b stays 2 Gbps: 40 s
    assert fast.transfer_time_s == pytest.approx(40.0)
    assert fast.vms == {"aws:a": 1, "aws:b": 2, "gcp:c": 2}
    assert fast.vm_cost == pytest.approx((1 + 2 + 2) * 3.6 * 40 / 3600)
    assert fast.meets_deadline
    assert fast.egress_cost == pytest.approx(slow.egress_cost)


@pytest.mark.parametrize(
    "paths, reason",
    [
        ({"aws:b": {"0": [["aws:a", "aws:b"]], "1": [["aws:a", "aws:b"]]}}, "missing destination"),
        (
            {
                "aws:b": {"0": [["aws:a", "aws:b"]]},
                "gcp:c": {"0": [["aws:a", "gcp:c"]], "1": [["aws:a", "gcp:c"]]},
            },
            "partition 1 is not routed",
        ),
        (
            {
                "aws:b": {"0": [], "1": [["aws:a", "aws:b"]]},
                "gcp:c": {"0": [["aws:a", "gcp:c"]], "1": [["aws:a", "gcp:c"]]},
            },
            "empty path",
        ),
        (
            {
                "aws:b": {"0": [["aws:a", "gcp:c"]], "1": [["aws:a", "aws:b"]]},
                "gcp:c": {"0": [["aws:a", "gcp:c"]], "1": [["aws:a", "gcp:c"]]},
            },
            "not at the destination aws:b",
        ),
        (
            {
                "aws:b": {"0": [["aws:a", "aws:b"]], "1": [["aws:a", "aws:b"]]},
                "gcp:c": {"0": [["aws:a", "gcp:c"]], "1": [["aws:b", "gcp:c"]]},
            },
            "not at the source",
        ),
        (
            {
                "aws:b": {"0": [["aws:a", "aws:b"]], "1": [["aws:a", "aws:b"]]},
                "gcp:c": {"0": [["aws:a", "aws:b"], ["gcp:c", "aws:a"]], "1": [["aws:a", "gcp:c"]]},
            },
            "previous hop ended",
        ),
        (
            {
                "aws:b": {"0": [["aws:a", "aws:b"]], "1": [["aws:a", "aws:b"]]},
                "gcp:c": {
                    "0": [["aws:a", "gcp:c"], ["gcp:c", "aws:a"], ["aws:a", "gcp:c"]],
                    "1": [["aws:a", "gcp:c"]],
                },
            },
            "cyclic",
        ),
        (
            {
                "aws:b": {"0": [["aws:a", "aws:b"]], "1": [["aws:a", "aws:b"]]},
                "gcp:c": {"0": [["aws:a", "gcp:c"]], "1": [["aws:b", "aws:a"], ["aws:a", "gcp:c"]]},
            },
            "not an edge",
        ),
        (
            {
                "aws:b": {
                    "0": [["aws:a", "aws:b"]],
                    "1": [["aws:a", "aws:b"]],
                    "2": [["aws:a", "aws:b"]],
                },
                "gcp:c": {"0": [["aws:a", "gcp:c"]], "1": [["aws:a", "gcp:c"]]},
            },
            "unknown partition",
        ),
    ],
)
def test_invalid_routings_have_specific_reasons(tmp_path, paths, reason):
    net = tiny_network(tmp_path)
    with pytest.raises(InvalidRouting, match=reason):
        check_routing(paths, net, tiny_scenario(net))


def test_extra_destination_and_bad_vms_rejected(tmp_path):
    net = tiny_network(tmp_path)
    sc = tiny_scenario(net)
    good = same_route({"aws:b": ["aws:a", "aws:b"], "gcp:c": ["aws:a", "gcp:c"]}, 2)
    with pytest.raises(InvalidRouting, match="unexpected destination"):
        check_routing({**good, "aws:a": good["aws:b"]}, net, sc)
    with pytest.raises(InvalidRouting, match="exceeds the limit of 4"):
        check_routing({"paths": good, "num_vms": {"aws:b": 5}}, net, sc, max_vms=4)
    with pytest.raises(InvalidRouting, match="whole number"):
        check_routing({"paths": good, "num_vms": {"aws:b": 0}}, net, sc, max_vms=4)


def test_steiner_matches_brute_force_on_tiny_graph(tmp_path):
    net = tiny_network(tmp_path)
    price, node_lists = steiner_tree(net, "aws:a", ["aws:b", "gcp:c"])
    # candidate trees: {a->b, a->c} = 0.11, {a->b, b->c} = 0.04
    edges = [(u, v) for u, v in itertools.permutations(net.regions, 2) if net.has_edge(u, v)]
    best = min(
        sum(float(net.cost[net.index[u], net.index[v]]) for u, v in subset)
        for r in range(1, len(edges) + 1)
        for subset in itertools.combinations(edges, r)
        if {"aws:b", "gcp:c"} <= _reachable("aws:a", subset)
    )
    assert price == pytest.approx(best) == pytest.approx(0.04)
    assert node_lists == {"aws:b": ["aws:a", "aws:b"], "gcp:c": ["aws:a", "aws:b", "gcp:c"]}


def _reachable(root: str, edges) -> set[str]:
    seen, stack = {root}, [root]
    while stack:
        u = stack.pop()
        for a, b in edges:
            if a == u and b not in seen:
                seen.add(b)
                stack.append(b)
    return seen
