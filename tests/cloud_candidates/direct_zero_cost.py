"""Direct transfer whose hops claim the edges are free: the evaluator must ignore that."""


def search_algorithm(src, dsts, G, num_partitions):
    paths = {}
    for dst in dsts:
        data = dict(G[src][dst])
        data["cost"] = 0.0
        data["throughput"] = 1e9
        paths[dst] = {str(p): [[src, dst, data]] for p in range(num_partitions)}
    return {"paths": paths}
