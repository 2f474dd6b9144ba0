"""Direct transfer that also sends to a region nobody asked for."""


def search_algorithm(src, dsts, G, num_partitions):
    targets = list(dsts) + [next(n for n in G.nodes if n != src and n not in dsts)]
    return {d: {str(p): [[src, d, G[src][d]]] for p in range(num_partitions)} for d in targets}
