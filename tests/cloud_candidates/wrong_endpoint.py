"""The path meant for the first destination stops at the second one."""


def search_algorithm(src, dsts, G, num_partitions):
    paths = {d: {str(p): [[src, d, G[src][d]]] for p in range(num_partitions)} for d in dsts}
    paths[dsts[0]]["0"] = [[src, dsts[1], G[src][dsts[1]]]]
    return paths
