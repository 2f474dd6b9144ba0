"""Rich mode: direct transfer asking for more VMs than a region may run."""


def search_algorithm(src, dsts, G, num_partitions):
    paths = {d: {str(p): [[src, d, G[src][d]]] for p in range(num_partitions)} for d in dsts}
    return {"paths": paths, "num_vms": {src: G.graph["max_vms_per_region"] + 1}}
