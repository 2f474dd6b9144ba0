"""Reference program: send one copy to the best single relay region, fan out from there.

The hub h (the source itself included) minimises cost(src -> h) + sum of cost(h -> d)
over cheapest paths; a destination whose route through the hub would revisit a region
takes its own cheapest path instead.
"""

import itertools

import networkx as nx


def _hops(G, nodes):
    return [[u, v, G[u][v]] for u, v in itertools.pairwise(nodes)]


def search_algorithm(src, dsts, G, num_partitions):
    h = G.copy()
    h.remove_edges_from(list(h.in_edges(src)))
    dist, path = nx.single_source_dijkstra(h, src, weight="cost")

    def fan_out_cost(hub):
        out = nx.single_source_dijkstra_path_length(h, hub, weight="cost")
        return dist[hub] + sum(out[d] for d in dsts)

    hub = min(sorted(dist), key=fan_out_cost)
    from_hub = nx.single_source_dijkstra_path(h, hub, weight="cost")
    routes = {}
    for d in dsts:
        if d in path[hub]:
            nodes = path[hub][: path[hub].index(d) + 1]
        else:
            nodes = path[hub] + from_hub[d][1:]
            if len(set(nodes)) != len(nodes):
                nodes = path[d]
        routes[d] = {str(p): _hops(G, nodes) for p in range(num_partitions)}
    return routes
