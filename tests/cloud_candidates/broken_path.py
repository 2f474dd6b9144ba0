"""A path whose second hop does not start where the first one ended."""


def search_algorithm(src, dsts, G, num_partitions):
    paths = {d: {str(p): [[src, d, G[src][d]]] for p in range(num_partitions)} for d in dsts}
    a, b = dsts[0], dsts[1]
    paths[b]["0"] = [[src, a, G[src][a]], [dsts[2], b, G[dsts[2]][b]]]
    return paths
