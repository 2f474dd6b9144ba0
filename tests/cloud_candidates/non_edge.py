"""Relays through a region that does not exist in the network."""


def search_algorithm(src, dsts, G, num_partitions):
    paths = {d: {str(p): [[src, d, G[src][d]]] for p in range(num_partitions)} for d in dsts}
    relay = "aws:moon-base-1"
    paths[dsts[0]]["0"] = [
        [src, relay, {"cost": 0.0, "throughput": 100.0}],
        [relay, dsts[0], {"cost": 0.0, "throughput": 100.0}],
    ]
    return paths
