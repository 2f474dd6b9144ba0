"""A path that leaves the source, comes back to it, then goes on."""


def search_algorithm(src, dsts, G, num_partitions):
    paths = {d: {str(p): [[src, d, G[src][d]]] for p in range(num_partitions)} for d in dsts}
    a, b = dsts[0], dsts[1]
    paths[b]["0"] = [[src, a, G[src][a]], [a, src, G[a][src]], [src, b, G[src][b]]]
    return paths
