"""Multi-region broadcast: per-destination cheapest path (the ADRS Cloudcast initial program)."""

import networkx as nx


# EVOLVE-BLOCK-START
def search_algorithm(src, dsts, G, num_partitions):
    """Route every partition to every destination along its cheapest ($/GB) path.

    G is a networkx DiGraph of cloud regions; edge attributes: ``cost`` ($/GB egress)
    and ``throughput`` (Gbps). Returns a BroadCastTopology whose
    ``paths[dst][str(partition)]`` lists the hops ``[u, v, G[u][v]]`` from src to dst.
    """
    h = G.copy()
    h.remove_edges_from(list(h.in_edges(src)) + list(nx.selfloop_edges(h)))
    bc_topology = BroadCastTopology(src, dsts, num_partitions)

    for dst in dsts:
        path = nx.dijkstra_path(h, src, dst, weight="cost")
        for i in range(len(path) - 1):
            s, t = path[i], path[i + 1]
            for j in range(bc_topology.num_partitions):
                bc_topology.append_dst_partition_path(dst, j, [s, t, G[s][t]])

    if G.graph.get("mode") == "rich":
        # Cost-under-deadline mode: run the most VMs allowed in every region on the overlay.
        most = G.graph["max_vms_per_region"]
        bc_topology.num_vms = {
            r: most
            for paths in bc_topology.paths.values()
            for hops in paths.values()
            for hop in hops
            for r in hop[:2]
        }
    return bc_topology


# EVOLVE-BLOCK-END


class BroadCastTopology:
    """paths[dst][str(partition)] = [[u, v, edge_data], ...]; optional num_vms[region] = VMs."""

    def __init__(
        self,
        src: str,
        dsts: list[str],
        num_partitions: int = 4,
        paths: dict[str, dict[str, list]] | None = None,
    ):
        self.src = src
        self.dsts = dsts
        self.num_partitions = num_partitions
        self.num_vms: dict[str, int] = {}
        if paths is not None:
            self.paths = paths
        else:
            self.paths = {dst: {str(i): None for i in range(num_partitions)} for dst in dsts}

    def set_num_partitions(self, num_partitions: int):
        self.num_partitions = num_partitions

    def set_dst_partition_paths(self, dst: str, partition: int, paths: list[list]):
        self.paths[dst][str(partition)] = paths

    def append_dst_partition_path(self, dst: str, partition: int, path: list):
        partition = str(partition)
        if self.paths[dst][partition] is None:
            self.paths[dst][partition] = []
        self.paths[dst][partition].append(path)
