"""Every partition routed except one, whose path is empty."""


def search_algorithm(src, dsts, G, num_partitions):
    paths = {d: {str(p): [[src, d, G[src][d]]] for p in range(num_partitions)} for d in dsts}
    paths[dsts[0]][str(num_partitions - 1)] = []
    return paths
