"""Reference program: every destination gets its own copy over the direct edge."""


def search_algorithm(src, dsts, G, num_partitions):
    return {dst: {str(p): [[src, dst, G[src][dst]]] for p in range(num_partitions)} for dst in dsts}
