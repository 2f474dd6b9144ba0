"""Cheapest paths, then vandalises G; fails if a later call sees a vandalised graph."""

import itertools

import networkx as nx

SEEN = []


def search_algorithm(src, dsts, G, num_partitions):
    if G.number_of_edges() != 4970 or any(G[u][v]["cost"] <= 0 for u, v in G.edges):
        raise RuntimeError("received a graph mutated by an earlier call")
    if any(g is G for g in SEEN):
        raise RuntimeError("received the same graph object twice")
    SEEN.append(G)
    h = G.copy()
    h.remove_edges_from(list(h.in_edges(src)))
    paths = {}
    for dst in dsts:
        nodes = nx.dijkstra_path(h, src, dst, weight="cost")
        paths[dst] = {
            str(p): [[u, v, G[u][v]] for u, v in itertools.pairwise(nodes)]
            for p in range(num_partitions)
        }
    for u, v in list(G.edges):
        G[u][v]["cost"] = 0.0
        G[u][v]["throughput"] = 1e6
    G.remove_edges_from(list(G.edges)[:100])
    return paths
