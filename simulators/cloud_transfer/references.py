"""Reference routings computed by the project: direct, cheapest path, Steiner optimum.

All three send every partition along the same tree/paths. The Steiner arborescence is
the exact optimum of the cost-only variant: each partition must reach every destination
over some set of edges, so sum_e price_e over a minimum-cost directed Steiner tree times
the data volume is a lower bound on any valid routing's egress cost, and this tree
attains it.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from simulators.cloud_transfer.network import Network, Scenario

# Prices are whole multiples of 0.0001 $/GB; the DP works on integers of this unit so
# that ties between equal-price trees are exact and broken by the secondary weight.
PRICE_UNIT = 1e-4
TIE_SCALE = 1e4  # > any tree's secondary weight (<= 70 edges * 1/0.166 Gbps ~ 421)

PlainPaths = dict[str, dict[str, list[list[Any]]]]


def paths_from_node_lists(scenario: Scenario, node_lists: dict[str, list[str]]) -> PlainPaths:
    """Every partition of destination d follows ``node_lists[d]``."""
    return {
        dst: {
            str(p): [[u, v, {}] for u, v in itertools.pairwise(nodes)]
            for p in range(scenario.num_partitions)
        }
        for dst, nodes in node_lists.items()
    }


def direct_paths(network: Network, scenario: Scenario) -> PlainPaths:
    """Each destination gets its own copy straight from the source."""
    return paths_from_node_lists(scenario, {d: [scenario.src, d] for d in scenario.dsts})


def cheapest_paths(network: Network, scenario: Scenario) -> PlainPaths:
    """Per-destination cheapest path by $/GB (the ADRS initial program, same tie-breaking:
    networkx Dijkstra on the graph in file order, source's in-edges removed)."""
    import networkx as nx

    graph = network.to_networkx()
    graph.remove_edges_from(list(graph.in_edges(scenario.src)))
    return paths_from_node_lists(
        scenario,
        {d: nx.dijkstra_path(graph, scenario.src, d, weight="cost") for d in scenario.dsts},
    )


def _all_pairs(weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Floyd-Warshall; returns distances and next-hop matrix."""
    n = weight.shape[0]
    dist = weight.copy()
    np.fill_diagonal(dist, 0.0)
    nxt = np.tile(np.arange(n), (n, 1))
    for k in range(n):
        via = dist[:, k : k + 1] + dist[k : k + 1, :]
        better = via < dist
        dist = np.where(better, via, dist)
        nxt = np.where(better, nxt[:, k : k + 1], nxt)
    return dist, nxt


def _walk(nxt: np.ndarray, a: int, b: int) -> list[int]:
    path = [a]
    while a != b:
        a = int(nxt[a, b])
        path.append(a)
    return path


def steiner_tree(
    network: Network, src: str, dsts: tuple[str, ...] | list[str]
) -> tuple[float, dict[str, list[str]]]:
    """Exact minimum-egress-price directed Steiner arborescence (Dreyfus-Wagner DP).

    Returns (sum of $/GB over the tree's edges, node path from ``src`` to each
    destination inside the tree). Among trees of equal price the DP prefers the one with
    the smallest sum of 1/throughput (faster links). O(3^k n + 2^k n^2) for k terminals.
    """
    n = network.size
    finite = np.isfinite(network.cost)
    primary = np.where(finite, np.rint(np.where(finite, network.cost, 0) / PRICE_UNIT), np.inf)
    with np.errstate(divide="ignore"):
        secondary = np.where(finite, 1.0 / np.maximum(network.throughput, 1e-12), 0.0)
    weight = primary * TIE_SCALE + secondary
    dist, nxt = _all_pairs(weight)
    terminals = [network.index[d] for d in dsts]
    k = len(terminals)
    full = (1 << k) - 1
    dp = np.full((1 << k, n), np.inf)
    split: dict[int, np.ndarray] = {}  # S -> for each node, the subset A of the best split
    hop: dict[int, np.ndarray] = {}  # S -> for each node v, the node u that v walks to first
    for i, t in enumerate(terminals):
        dp[1 << i] = dist[:, t]
    for subset in range(1, full + 1):
        if subset & (subset - 1) == 0:
            continue
        best = np.full(n, np.inf)
        best_part = np.zeros(n, dtype=np.int64)
        part = (subset - 1) & subset
        while part:
            other = subset ^ part
            if part < other:
                merged = dp[part] + dp[other]
                better = merged < best
                best = np.where(better, merged, best)
                best_part = np.where(better, part, best_part)
            part = (part - 1) & subset
        via = dist + best[None, :]
        hop[subset] = np.argmin(via, axis=1)
        dp[subset] = via[np.arange(n), hop[subset]]
        split[subset] = best_part
    edges: set[tuple[int, int]] = set()

    def build(subset: int, node: int) -> None:
        if subset & (subset - 1) == 0:
            path = _walk(nxt, node, terminals[subset.bit_length() - 1])
            edges.update(itertools.pairwise(path))
            return
        branch = int(hop[subset][node])
        path = _walk(nxt, node, branch)
        edges.update(itertools.pairwise(path))
        part = int(split[subset][branch])
        build(part, branch)
        build(subset ^ part, branch)

    root = network.index[src]
    build(full, root)
    children: dict[int, list[int]] = {}
    for u, v in edges:
        children.setdefault(u, []).append(v)
    parent: dict[int, int] = {}
    stack = [root]
    while stack:  # BFS/DFS from the root; the edge set is a tree since prices are positive
        u = stack.pop()
        for v in children.get(u, []):
            if v not in parent and v != root:
                parent[v] = u
                stack.append(v)
    node_lists: dict[str, list[str]] = {}
    for d, t in zip(dsts, terminals):
        chain = [t]
        while chain[-1] != root:
            chain.append(parent[chain[-1]])
        node_lists[d] = [network.regions[i] for i in reversed(chain)]
    price = sum(float(network.cost[u, v]) for u, v in {(p, c) for c, p in parent.items()})
    return price, node_lists


def steiner_paths(network: Network, scenario: Scenario) -> PlainPaths:
    """Every partition follows the minimum-price Steiner arborescence."""
    _, node_lists = steiner_tree(network, scenario.src, scenario.dsts)
    return paths_from_node_lists(scenario, node_lists)


def egress_lower_bound(network: Network, scenario: Scenario) -> float:
    """No valid routing pays less egress than this (the Steiner tree's price x volume)."""
    price, _ = steiner_tree(network, scenario.src, scenario.dsts)
    return price * scenario.data_vol_gb
