"""Holdout scenarios drawn by a stated rule, so that routing decides what a program pays.

On this network a relay beats the direct edge only for 112 of the 4,970 region pairs,
all from GCP sources, and a destination set drawn at random is usually cheapest served
straight from the source. A holdout drawn that way scores direct transfer and
per-destination cheapest paths alike. The rule below draws two kinds of scenario in
turn, each from a seeded ``random.Random``:

- ``relay``: the source has at least ``min_relay`` destinations whose cheapest path is
  strictly cheaper than the direct edge; at least half of the destinations are drawn
  from those (so there are at most twice as many destinations), the rest from all
  other regions;
- ``multicast``: any source and destinations, kept only when the minimum-price
  multicast (Steiner) tree costs at most ``multicast_ratio`` times the per-destination
  cheapest-path routing, so sharing edges between destinations pays.

Both kinds use sources outside the train scenarios, one source per scenario, and are
kept only if the direct, cheapest-path and Steiner routings all meet the rich mode's
deadline with ``max_vms`` VMs per region (so an honest program can be valid in either
cost model). NIC limits are the ADRS ones.
"""

from __future__ import annotations

import argparse
import json
import math
import random
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from simulators.cloud_transfer.model import simulate_rich
from simulators.cloud_transfer.network import (
    DEFAULT_EGRESS_GBPS,
    DEFAULT_INGRESS_GBPS,
    Network,
    Scenario,
    load_network,
    load_scenario,
    scenario_from_dict,
)
from simulators.cloud_transfer.references import (
    cheapest_paths,
    direct_paths,
    steiner_paths,
    steiner_tree,
)
from simulators.cloud_transfer.routing import check_routing


@dataclass(frozen=True)
class HoldoutRule:
    count: int = 6
    min_destinations: int = 4
    max_destinations: int = 7
    min_relay: int = 3
    multicast_ratio: float = 0.8
    volumes_gb: tuple[int, ...] = (100, 150, 200, 250, 300, 350, 400, 450, 500)
    partitions: tuple[int, ...] = (5, 10, 20)
    deadline_s_per_gb: float = 2.0
    max_vms: int = 8
    max_draws: int = 10_000


def relay_destinations(network: Network) -> dict[str, list[str]]:
    """For each source, the destinations whose cheapest path beats the direct edge."""
    price = np.rint(network.cost / 1e-4)  # whole units: comparisons are exact
    dist = price.copy()
    np.fill_diagonal(dist, 0.0)
    for k in range(network.size):
        dist = np.minimum(dist, dist[:, k : k + 1] + dist[k : k + 1, :])
    return {
        network.regions[i]: [
            network.regions[j] for j in range(network.size) if j != i and dist[i, j] < price[i, j]
        ]
        for i in range(network.size)
    }


def routing_price(network: Network, scenario: Scenario, paths: Any) -> float:
    """$/GB summed over the edges a routing uses (each edge once)."""
    routing = check_routing(paths, network, scenario)
    return sum(float(network.cost[e]) for e in routing.edge_partitions)


def _meets_rich_deadline(network: Network, scenario: Scenario, rule: HoldoutRule) -> bool:
    deadline = rule.deadline_s_per_gb * scenario.data_vol_gb
    prices = {"aws": 0.0, "gcp": 0.0, "azure": 0.0}
    for make in (direct_paths, cheapest_paths, steiner_paths):
        routing = check_routing(make(network, scenario), network, scenario)
        report = simulate_rich(network, scenario, routing, rule.max_vms, prices, deadline)
        if not report.meets_deadline:
            return False
    return True


def _kept(network: Network, scenario: Scenario, kind: str, rule: HoldoutRule) -> bool:
    if kind == "multicast":
        tree, _ = steiner_tree(network, scenario.src, scenario.dsts)
        cheapest = routing_price(network, scenario, cheapest_paths(network, scenario))
        if tree > rule.multicast_ratio * cheapest:
            return False
    return _meets_rich_deadline(network, scenario, rule)


def draw_holdout(
    network: Network,
    seed: int,
    exclude_sources: Iterable[str] = (),
    rule: HoldoutRule = HoldoutRule(),
) -> list[dict[str, Any]]:
    """``rule.count`` scenarios (ADRS config shape plus ``name``), relay first, alternating."""
    if 2 * rule.min_relay < rule.min_destinations:
        raise ValueError("holdout rule: min_relay must be at least half of min_destinations")
    rng = random.Random(seed)
    relay = relay_destinations(network)
    used = set(exclude_sources)
    drawn: list[dict[str, Any]] = []
    for _ in range(rule.max_draws):
        if len(drawn) == rule.count:
            return drawn
        kind = "relay" if len(drawn) % 2 == 0 else "multicast"
        sources = [
            r
            for r in network.regions
            if r not in used and (kind == "multicast" or len(relay[r]) >= rule.min_relay)
        ]
        if not sources:
            break
        src = rng.choice(sources)
        most = rule.max_destinations if kind == "multicast" else 2 * len(relay[src])
        k = rng.randint(rule.min_destinations, min(rule.max_destinations, most))
        others = [r for r in network.regions if r != src]
        if kind == "relay":
            chosen = rng.sample(relay[src], math.ceil(k / 2))
            rest = [r for r in others if r not in chosen]
            dsts = chosen + rng.sample(rest, k - len(chosen))
            rng.shuffle(dsts)
        else:
            dsts = rng.sample(others, k)
        name = f"holdout_{len(drawn) + 1}_{kind}"
        data: dict[str, Any] = {
            "name": name,
            "source_node": src,
            "dest_nodes": dsts,
            "data_vol": rng.choice(rule.volumes_gb),
            "num_partitions": rng.choice(rule.partitions),
            "ingress_limit": {p: int(v) for p, v in DEFAULT_INGRESS_GBPS.items()},
            "egress_limit": {p: int(v) for p, v in DEFAULT_EGRESS_GBPS.items()},
        }
        if _kept(network, scenario_from_dict(name, data, network), kind, rule):
            drawn.append(data)
            used.add(src)
    raise ValueError(f"holdout rule: {len(drawn)} of {rule.count} scenarios after the draw limit")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write holdout scenarios drawn by the rule.")
    parser.add_argument("network", type=Path, help="edges_slim.csv")
    parser.add_argument("out", type=Path, help="folder for the scenario JSON files")
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument(
        "--train",
        type=Path,
        nargs="*",
        default=[],
        help="train scenarios: their sources are excluded",
    )
    args = parser.parse_args(argv)
    network = load_network(args.network)
    train_sources = [load_scenario(path, network).src for path in args.train]
    args.out.mkdir(parents=True, exist_ok=True)
    for data in draw_holdout(network, args.seed, train_sources):
        name = data.pop("name")
        (args.out / f"{name}.json").write_text(json.dumps(data) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
