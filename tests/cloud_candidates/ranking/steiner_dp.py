"""Reference program: exact minimum-price multicast tree (Dreyfus-Wagner).

dp[S][v] is the cheapest tree rooted at v reaching the destinations in S, built from
all-pairs cheapest paths; the tree for all destinations from the source is unfolded
into one path per destination, followed by every partition.
"""

import itertools

import networkx as nx


def search_algorithm(src, dsts, G, num_partitions):
    h = G.copy()
    h.remove_edges_from(list(h.in_edges(src)))
    nodes = sorted(h.nodes)
    dist = dict(nx.all_pairs_dijkstra_path_length(h, weight="cost"))
    inf = float("inf")
    k = len(dsts)
    dp = {}
    choice = {}
    for i, d in enumerate(dsts):
        dp[1 << i] = {v: dist[v].get(d, inf) for v in nodes}
        choice[1 << i] = {v: ("path", d) for v in nodes}
    for subset in range(1, 1 << k):
        if subset & (subset - 1) == 0:
            continue
        merged = {}
        split = {}
        for u in nodes:
            best, best_part = inf, 0
            part = (subset - 1) & subset
            while part:
                if part < subset ^ part:
                    cost = dp[part][u] + dp[subset ^ part][u]
                    if cost < best:
                        best, best_part = cost, part
                part = (part - 1) & subset
            merged[u], split[u] = best, best_part
        dp[subset], choice[subset] = {}, {}
        for v in nodes:
            u = min(nodes, key=lambda w: dist[v].get(w, inf) + merged[w])
            dp[subset][v] = dist[v].get(u, inf) + merged[u]
            choice[subset][v] = ("via", u, split[u])
    edges = {}  # an ordered set: the result must not depend on string hashing

    def unfold(subset, v):
        kind = choice[subset][v]
        if kind[0] == "path":
            edges.update(
                dict.fromkeys(itertools.pairwise(nx.dijkstra_path(h, v, kind[1], weight="cost")))
            )
            return
        _, u, part = kind
        if u != v:
            edges.update(
                dict.fromkeys(itertools.pairwise(nx.dijkstra_path(h, v, u, weight="cost")))
            )
        unfold(part, u)
        unfold(subset ^ part, u)

    unfold((1 << k) - 1, src)
    tree = nx.DiGraph(list(edges))
    parent = {}
    for u, v in nx.bfs_edges(tree, src):
        parent[v] = u
    routes = {}
    for d in dsts:
        chain = [d]
        while chain[-1] != src:
            chain.append(parent[chain[-1]])
        hops = [[u, v, G[u][v]] for u, v in itertools.pairwise(chain[::-1])]
        routes[d] = {str(p): list(hops) for p in range(num_partitions)}
    return routes
