"""The inter-region network: regions, egress prices and measured throughputs.

The simulator keeps its own private copy of the graph as dense numpy matrices indexed
by region; the networkx graph handed to candidates is built from it, and nothing a
candidate returns is ever read back as a price or a throughput.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

PROVIDERS = ("aws", "gcp", "azure")


@dataclass(frozen=True)
class Network:
    """Directed complete-ish graph over cloud regions (``provider:region`` names).

    ``cost[i, j]`` is the egress price in $/GB and ``throughput[i, j]`` the measured
    throughput in Gbps of ONE VM pair from region i to region j; both are ``inf``/0 where
    the pair was not measured (no edge).
    """

    regions: tuple[str, ...]
    cost: np.ndarray
    throughput: np.ndarray
    index: dict[str, int] = field(compare=False)
    edge_order: tuple[tuple[int, int], ...] = field(default=(), compare=False)  # file order

    @property
    def size(self) -> int:
        return len(self.regions)

    def has_edge(self, u: str, v: str) -> bool:
        i, j = self.index.get(u), self.index.get(v)
        return i is not None and j is not None and i != j and math.isfinite(self.cost[i, j])

    def provider(self, region: str) -> str:
        return region.split(":", 1)[0]

    def edges(self) -> list[tuple[int, int]]:
        """Edges in the order of the source file (the ADRS graph's insertion order, which
        decides networkx's tie-breaking between equal-cost paths)."""
        return list(self.edge_order)

    def to_networkx(
        self, throughput_scale: float = 1.0, graph_attrs: dict[str, Any] | None = None
    ) -> Any:
        """A fresh ``networkx.DiGraph`` with edge attributes ``cost`` ($/GB) and
        ``throughput`` (Gbps, per-VM-pair value times ``throughput_scale``)."""
        import networkx as nx

        graph = nx.DiGraph()
        graph.graph.update(graph_attrs or {})
        cost, tput, names = self.cost, self.throughput, self.regions
        graph.add_edges_from(
            (
                names[i],
                names[j],
                {"cost": float(cost[i, j]), "throughput": float(tput[i, j]) * throughput_scale},
            )
            for i, j in self.edges()
        )
        return graph


def load_network(edges_csv: Path) -> Network:
    """Read ``edges_slim.csv`` (src_region, dst_region, cost_per_gb, throughput_gbps_1vm)."""
    rows: list[tuple[str, str, float, float]] = []
    with open(edges_csv, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            src, dst = row["src_region"], row["dst_region"]
            if src == dst:
                continue
            rows.append((src, dst, float(row["cost_per_gb"]), float(row["throughput_gbps_1vm"])))
    regions = tuple(sorted({r[0] for r in rows} | {r[1] for r in rows}))
    index = {name: i for i, name in enumerate(regions)}
    n = len(regions)
    cost = np.full((n, n), np.inf)
    throughput = np.zeros((n, n))
    for src, dst, price, gbps in rows:
        cost[index[src], index[dst]] = price
        throughput[index[src], index[dst]] = gbps
    cost.setflags(write=False)
    throughput.setflags(write=False)
    order = tuple((index[src], index[dst]) for src, dst, _, _ in rows)
    return Network(regions=regions, cost=cost, throughput=throughput, index=index, edge_order=order)


@dataclass(frozen=True)
class Scenario:
    """One broadcast: ``data_vol_gb`` from ``src`` to every region in ``dsts``, split into
    ``num_partitions`` equal partitions; per-provider per-VM NIC limits in Gbps."""

    name: str
    src: str
    dsts: tuple[str, ...]
    data_vol_gb: float
    num_partitions: int
    ingress_limit: dict[str, float]
    egress_limit: dict[str, float]

    @property
    def partition_gb(self) -> float:
        return self.data_vol_gb / self.num_partitions


# Skyplane/ADRS defaults used when a scenario file leaves a provider out.
DEFAULT_INGRESS_GBPS = {"aws": 10.0, "gcp": 16.0, "azure": 16.0}
DEFAULT_EGRESS_GBPS = {"aws": 5.0, "gcp": 7.0, "azure": 16.0}


def scenario_from_dict(name: str, data: dict[str, Any], network: Network) -> Scenario:
    """Build and check a scenario (ADRS config JSON keys); raises ValueError on bad data."""
    try:
        src = str(data["source_node"])
        dsts = tuple(str(d) for d in data["dest_nodes"])
        data_vol = float(data["data_vol"])
        partitions = int(data["num_partitions"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"scenario {name}: missing or malformed key ({exc})") from None
    for region in (src, *dsts):
        if region not in network.index:
            raise ValueError(f"scenario {name}: unknown region '{region}'")
    if src in dsts or len(set(dsts)) != len(dsts) or not dsts:
        raise ValueError(
            f"scenario {name}: destinations must be distinct, non-empty and exclude the source"
        )
    if data_vol <= 0 or partitions < 1:
        raise ValueError(
            f"scenario {name}: data_vol must be positive and num_partitions at least 1"
        )
    ingress = {
        **DEFAULT_INGRESS_GBPS,
        **{k: float(v) for k, v in data.get("ingress_limit", {}).items()},
    }
    egress = {
        **DEFAULT_EGRESS_GBPS,
        **{k: float(v) for k, v in data.get("egress_limit", {}).items()},
    }
    return Scenario(name, src, dsts, data_vol, partitions, ingress, egress)


def load_scenario(path: Path, network: Network) -> Scenario:
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    return scenario_from_dict(Path(path).stem, data, network)
