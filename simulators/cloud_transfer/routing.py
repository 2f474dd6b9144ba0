"""Checking a candidate's routing against the canonical network.

A routing says, for every destination and every partition, the ordered hops from the
source to that destination. Only region names are read from it: prices and throughputs
always come from the simulator's own :class:`Network`, so edge data a candidate attaches
to its hops (or changes in its copy of the graph) cannot change a price.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from simulators.cloud_transfer.network import Network, Scenario


class InvalidRouting(ValueError):
    """The routing breaks a rule; the message is one specific line for the candidate."""


@dataclass
class Routing:
    """A checked routing, in region indexes.

    ``paths[d][p]`` is the node sequence (source first, destination ``d`` last) for
    partition ``p``; ``edge_partitions`` maps each used edge to the partitions crossing
    it, in first-use order (destinations in scenario order, partitions ascending, hops
    in path order), which the ADRS model's order-dependent NIC sharing relies on.
    ``num_vms`` is the candidate's VM count per region (rich mode), or empty.
    """

    paths: list[list[list[int]]]
    edge_partitions: dict[tuple[int, int], set[int]] = field(default_factory=dict)
    num_vms: dict[int, int] = field(default_factory=dict)

    def nodes(self) -> list[int]:
        """Regions on the overlay, in first-use order (edge source before edge target)."""
        seen: dict[int, None] = {}
        for u, v in self.edge_partitions:
            seen.setdefault(u)
            seen.setdefault(v)
        return list(seen)


def _partition_keys(num_partitions: int) -> list[str]:
    return [str(p) for p in range(num_partitions)]


def _hop_ends(hop: Any, where: str) -> tuple[str, str]:
    if not isinstance(hop, (list, tuple)) or len(hop) < 2:
        raise InvalidRouting(f"{where}: a hop must be [u, v, edge_data], got {str(hop)[:80]}")
    u, v = hop[0], hop[1]
    if not isinstance(u, str) or not isinstance(v, str):
        raise InvalidRouting(f"{where}: hop endpoints must be region names, got {str(hop)[:80]}")
    return u, v


def _check_path(hops: Any, network: Network, src: str, dst: str, where: str) -> list[int]:
    if not isinstance(hops, (list, tuple)):
        raise InvalidRouting(f"{where}: expected a list of hops, got {type(hops).__name__}")
    if not hops:
        raise InvalidRouting(
            f"{where}: empty path (every partition must reach every destination; "
            "routing only some partitions sends less data)"
        )
    nodes: list[str] = []
    for k, hop in enumerate(hops):
        u, v = _hop_ends(hop, f"{where}, hop {k}")
        if not network.has_edge(u, v):
            raise InvalidRouting(f"{where}, hop {k}: {u} -> {v} is not an edge of the network")
        if k == 0:
            if u != src:
                raise InvalidRouting(f"{where}: path starts at {u}, not at the source {src}")
            nodes.append(u)
        elif u != nodes[-1]:
            raise InvalidRouting(
                f"{where}, hop {k}: starts at {u} but the previous hop ended at {nodes[-1]}"
            )
        if v in nodes:
            raise InvalidRouting(f"{where}, hop {k}: path visits {v} twice (cyclic path)")
        nodes.append(v)
    if nodes[-1] != dst:
        raise InvalidRouting(f"{where}: path ends at {nodes[-1]}, not at the destination {dst}")
    return [network.index[n] for n in nodes]


def check_routing(
    plain: Any, network: Network, scenario: Scenario, max_vms: int | None = None
) -> Routing:
    """Validate plain routing data and return a :class:`Routing`.

    ``plain`` is ``{"paths": {dst: {"0": [[u, v, ...], ...], ...}}, "num_vms": {...}}``
    or just the ``paths`` mapping. Raises :class:`InvalidRouting` with a specific reason.
    """
    num_vms_raw: Any = None
    if isinstance(plain, dict) and "paths" in plain and isinstance(plain.get("paths"), dict):
        num_vms_raw = plain.get("num_vms")
        paths = plain["paths"]
    else:
        paths = plain
    if not isinstance(paths, dict):
        raise InvalidRouting(
            f"paths must be a mapping destination -> partition -> hops, got {type(paths).__name__}"
        )
    expected = list(scenario.dsts)
    missing = [d for d in expected if d not in paths]
    if missing:
        raise InvalidRouting(
            f"missing destination(s) {', '.join(missing)}: every destination must receive the data"
        )
    extra = [str(d) for d in paths if d not in expected]
    if extra:
        raise InvalidRouting(
            f"unexpected destination(s) {', '.join(extra[:5])}: not a destination of this scenario"
        )
    keys = _partition_keys(scenario.num_partitions)
    routing = Routing(paths=[])
    for dst in expected:
        per_partition = paths[dst]
        if not isinstance(per_partition, dict):
            raise InvalidRouting(
                f"destination {dst}: expected a mapping partition -> hops, "
                f"got {type(per_partition).__name__}"
            )
        for key in keys:
            if key not in per_partition or per_partition[key] is None:
                raise InvalidRouting(
                    f"destination {dst}: partition {key} is not routed "
                    "(every partition must reach every destination)"
                )
        unknown = [str(k) for k in per_partition if k not in keys]
        if unknown:
            raise InvalidRouting(
                f"destination {dst}: unknown partition key(s) {', '.join(unknown[:5])} "
                f"(expected '0'..'{scenario.num_partitions - 1}')"
            )
        routed: list[list[int]] = []
        for p, key in enumerate(keys):
            nodes = _check_path(
                per_partition[key],
                network,
                scenario.src,
                dst,
                f"destination {dst}, partition {key}",
            )
            routed.append(nodes)
            for u, v in itertools.pairwise(nodes):
                routing.edge_partitions.setdefault((u, v), set()).add(p)
        routing.paths.append(routed)
    routing.num_vms = _check_num_vms(num_vms_raw, network, max_vms)
    return routing


def _check_num_vms(raw: Any, network: Network, max_vms: int | None) -> dict[int, int]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise InvalidRouting(
            f"num_vms must be a mapping region -> VM count, got {type(raw).__name__}"
        )
    counts: dict[int, int] = {}
    for region, count in raw.items():
        if region not in network.index:
            raise InvalidRouting(f"num_vms: unknown region '{str(region)[:60]}'")
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise InvalidRouting(
                f"num_vms[{region}]: expected a whole number of VMs >= 1, got {count!r}"
            )
        if max_vms is not None and count > max_vms:
            raise InvalidRouting(
                f"num_vms[{region}]: {count} VMs exceeds the limit of {max_vms} per region"
            )
        counts[network.index[region]] = count
    return counts
