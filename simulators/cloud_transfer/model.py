"""Cost and time of a checked routing: the ADRS-compatible model and the richer model.

Both models share the multicast rule: a partition crossing an edge is paid once however
many destinations it serves, so for edge e carrying the set of partitions P_e

    egress_cost = sum_e |P_e| * partition_gb * price_e            ($/GB from the network)

and both use the pipelined bottleneck time of the ADRS simulator: edge e needs
t_e = |P_e| * partition_gb * 8 / rate_e seconds, a destination is done when the slowest
edge on any of its partitions' paths is done, and the transfer when the last
destination is. They differ in how rates and VM costs are set (docs/problems/cloud_transfer.md).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

from simulators.cloud_transfer.network import Network, Scenario
from simulators.cloud_transfer.routing import Routing

GBIT_PER_GB = 8.0
ADRS_NUM_VMS = 2  # VMs per region in the ADRS evaluator (num_vms = 2)
ADRS_VM_PRICE_PER_HOUR = 0.54  # ADRS simulator: "based on m5.8xlarge spot", every provider


@dataclass
class EdgeUse:
    """One overlay edge: the partitions crossing it, its rate and what it costs."""

    src: str
    dst: str
    partitions: int
    price_per_gb: float
    egress_cost: float
    rate_gbps: float
    time_s: float


@dataclass
class TransferReport:
    egress_cost: float
    vm_cost: float
    transfer_time_s: float
    dst_times_s: dict[str, float]
    edges: list[EdgeUse]
    vms: dict[str, int]
    deadline_s: float | None = None
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def total_cost(self) -> float:
        return self.egress_cost + self.vm_cost

    @property
    def meets_deadline(self) -> bool:
        return self.deadline_s is None or self.transfer_time_s <= self.deadline_s * (1 + 1e-9)


def _times(
    routing: Routing, scenario: Scenario, edge_time: dict[tuple[int, int], float], network: Network
) -> dict[str, float]:
    dst_times: dict[str, float] = {}
    for d, dst in enumerate(scenario.dsts):
        slowest = 0.0
        for nodes in routing.paths[d]:
            for u, v in itertools.pairwise(nodes):
                slowest = max(slowest, edge_time[(u, v)])
        dst_times[dst] = slowest
    return dst_times


def _edge_uses(
    network: Network,
    scenario: Scenario,
    routing: Routing,
    rates: dict[tuple[int, int], float],
    times: dict[tuple[int, int], float],
) -> list[EdgeUse]:
    uses = []
    for (u, v), parts in routing.edge_partitions.items():
        price = float(network.cost[u, v])
        uses.append(
            EdgeUse(
                network.regions[u],
                network.regions[v],
                len(parts),
                price,
                len(parts) * scenario.partition_gb * price,
                rates[(u, v)],
                times[(u, v)],
            )
        )
    return uses


def _egress_cost(network: Network, scenario: Scenario, routing: Routing) -> float:
    """Each partition pays once per edge it crosses, however many destinations it serves."""
    return sum(
        len(parts) * scenario.partition_gb * float(network.cost[e])
        for e, parts in routing.edge_partitions.items()
    )


def simulate_adrs(
    network: Network,
    scenario: Scenario,
    routing: Routing,
    num_vms: int = ADRS_NUM_VMS,
    vm_price_per_hour: float = ADRS_VM_PRICE_PER_HOUR,
) -> TransferReport:
    """The ADRS Cloudcast cost model (``BCSimulator``), reproduced rule for rule.

    Every edge starts at rate = num_vms * measured throughput. Nodes are visited in
    first-use order; at a node whose summed incoming (outgoing) rate exceeds
    num_vms * the provider's per-VM ingress (egress) limit, each incoming (outgoing) edge
    is capped at that limit divided by the number of such edges. Time is rounded to
    0.01 s before pricing, and every overlay region pays num_vms VMs at a flat hourly
    price for the whole transfer. Costs and times come from ``network`` only.
    """
    rate = {e: num_vms * float(network.throughput[e]) for e in routing.edge_partitions}
    in_edges: dict[int, list[tuple[int, int]]] = {}
    out_edges: dict[int, list[tuple[int, int]]] = {}
    for u, v in routing.edge_partitions:
        out_edges.setdefault(u, []).append((u, v))
        in_edges.setdefault(v, []).append((u, v))
    for node in routing.nodes():
        provider = network.provider(network.regions[node])
        ingress_cap = num_vms * scenario.ingress_limit[provider]
        egress_cap = num_vms * scenario.egress_limit[provider]
        incoming, outgoing = in_edges.get(node, []), out_edges.get(node, [])
        # Both sums are taken before either cap is applied, as in the original.
        in_sum = sum(rate[e] for e in incoming)
        out_sum = sum(rate[e] for e in outgoing)
        if in_sum > ingress_cap:
            for e in incoming:
                rate[e] = min(rate[e], ingress_cap / len(incoming))
        if out_sum > egress_cap:
            for e in outgoing:
                rate[e] = min(rate[e], egress_cap / len(outgoing))
    edge_time = {
        e: len(parts) * scenario.partition_gb * GBIT_PER_GB / rate[e]
        for e, parts in routing.edge_partitions.items()
    }
    dst_times = _times(routing, scenario, edge_time, network)
    transfer_time = max(dst_times.values())
    nodes = routing.nodes()
    egress = _egress_cost(network, scenario, routing)
    vm_cost = len(nodes) * num_vms * (vm_price_per_hour / 3600.0) * round(transfer_time, 2)
    return TransferReport(
        egress,
        vm_cost,
        transfer_time,
        dst_times,
        _edge_uses(network, scenario, routing, rate, edge_time),
        {network.regions[n]: num_vms for n in nodes},
    )


def weighted_max_min_rates(
    weights: np.ndarray, incidence: np.ndarray, capacity: np.ndarray
) -> np.ndarray:
    """Progressive filling: rates r_e = w_e * x_e with the smallest x_e as large as possible.

    ``incidence[k, e]`` is 1 when edge e counts against constraint k of capacity
    ``capacity[k]``. Every edge's "speed" x_e (1 / completion time) grows at the same pace
    until a constraint fills up; the edges in it are frozen and the rest keep growing.
    """
    n_edges = weights.shape[0]
    speed = np.zeros(n_edges)
    active = np.ones(n_edges, dtype=bool)
    while active.any():
        used = incidence @ (weights * speed * ~active)
        demand = incidence @ (weights * active)
        has_active = demand > 0
        levels = np.full(capacity.shape, np.inf)
        levels[has_active] = (capacity[has_active] - used[has_active]) / demand[has_active]
        level = float(levels.min())
        tight = has_active & (levels <= level * (1 + 1e-12))
        freeze = active & (incidence[tight].sum(axis=0) > 0)
        speed[freeze] = level
        active &= ~freeze
    return weights * speed


def simulate_rich(
    network: Network,
    scenario: Scenario,
    routing: Routing,
    default_vms: int,
    vm_price_per_hour: dict[str, float],
    deadline_s: float | None,
) -> TransferReport:
    """The richer model: VMs chosen per region, fair NIC sharing, provider VM prices.

    Region r runs n_r VMs (the candidate's ``num_vms``, else ``default_vms``). Edge
    (u, v) carries at most min(n_u, n_v) * measured per-VM-pair throughput; region r
    sends at most n_r * egress limit and receives at most n_r * ingress limit of its
    provider. Rates are the weighted max-min fair allocation under those limits,
    weighted by the data each edge carries (so links that must move more get more).
    VM cost = sum_r n_r * hourly price of r's provider * transfer time / 3600.
    """
    edges = list(routing.edge_partitions)
    nodes = routing.nodes()
    vms = {n: routing.num_vms.get(n, default_vms) for n in nodes}
    weights = np.array(
        [len(routing.edge_partitions[e]) * scenario.partition_gb * GBIT_PER_GB for e in edges]
    )
    rows: list[np.ndarray] = []
    caps: list[float] = []
    for k, (u, v) in enumerate(edges):
        row = np.zeros(len(edges))
        row[k] = 1.0
        rows.append(row)
        caps.append(min(vms[u], vms[v]) * float(network.throughput[u, v]))
    for n in nodes:
        provider = network.provider(network.regions[n])
        out_row = np.array([1.0 if e[0] == n else 0.0 for e in edges])
        in_row = np.array([1.0 if e[1] == n else 0.0 for e in edges])
        if out_row.any():
            rows.append(out_row)
            caps.append(vms[n] * scenario.egress_limit[provider])
        if in_row.any():
            rows.append(in_row)
            caps.append(vms[n] * scenario.ingress_limit[provider])
    rates_arr = weighted_max_min_rates(weights, np.array(rows), np.array(caps))
    rates = {e: float(r) for e, r in zip(edges, rates_arr)}
    edge_time = {e: float(w / r) for e, w, r in zip(edges, weights, rates_arr)}
    dst_times = _times(routing, scenario, edge_time, network)
    transfer_time = max(dst_times.values())
    egress = _egress_cost(network, scenario, routing)
    vm_cost = sum(
        count * vm_price_per_hour[network.provider(network.regions[n])] for n, count in vms.items()
    )
    vm_cost *= transfer_time / 3600.0
    return TransferReport(
        egress,
        vm_cost,
        transfer_time,
        dst_times,
        _edge_uses(network, scenario, routing, rates, edge_time),
        {network.regions[n]: c for n, c in vms.items()},
        deadline_s,
    )
