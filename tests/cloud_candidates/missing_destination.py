"""Direct transfer that forgets the first destination."""


def search_algorithm(src, dsts, G, num_partitions):
    return {d: {str(p): [[src, d, G[src][d]]] for p in range(num_partitions)} for d in dsts[1:]}
