"""Reference program: grow one multicast tree by nearest-destination insertion.

Start from the source; repeatedly attach the remaining destination that is cheapest to
reach from any region already in the tree, along that cheapest path (the
Takahashi-Matsuyama heuristic). Every partition follows the tree.
"""

import itertools

import networkx as nx


def search_algorithm(src, dsts, G, num_partitions):
    h = G.copy()
    h.remove_edges_from(list(h.in_edges(src)))
    parent = {src: None}
    remaining = list(dsts)
    while remaining:
        dist, paths = nx.multi_source_dijkstra(h, list(parent), weight="cost")
        best = min(remaining, key=lambda d: (dist[d], remaining.index(d)))
        nodes = paths[best]
        for u, v in itertools.pairwise(nodes):
            parent.setdefault(v, u)
        remaining = [d for d in remaining if d not in parent]
    routes = {}
    for d in dsts:
        chain = [d]
        while parent[chain[-1]] is not None:
            chain.append(parent[chain[-1]])
        nodes = chain[::-1]
        hops = [[u, v, G[u][v]] for u, v in itertools.pairwise(nodes)]
        routes[d] = {str(p): list(hops) for p in range(num_partitions)}
    return routes
