"""Per-destination cheapest paths, returned as a plain dict (no topology object)."""

import itertools

import networkx as nx


def search_algorithm(src, dsts, G, num_partitions):
    h = G.copy()
    h.remove_edges_from(list(h.in_edges(src)))
    paths = {}
    for dst in dsts:
        nodes = nx.dijkstra_path(h, src, dst, weight="cost")
        hops = [[u, v, G[u][v]] for u, v in itertools.pairwise(nodes)]
        paths[dst] = {str(p): list(hops) for p in range(num_partitions)}
    return paths
