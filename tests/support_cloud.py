"""Helpers for the cloud transfer tests: paths and a tiny hand-made network."""

from __future__ import annotations

import itertools
from pathlib import Path

from simulators.cloud_transfer import Network, Scenario, load_network, scenario_from_dict

ROOT = Path(__file__).resolve().parents[1]
PROBLEM_DIR = ROOT / "problems" / "cloud_transfer"
CANDIDATES = Path(__file__).resolve().parent / "cloud_candidates"
TRAIN = ["intra_aws", "intra_azure", "intra_gcp", "inter_agz", "inter_gaz2"]


def tiny_network(tmp_path: Path) -> Network:
    """aws:a -> aws:b -> gcp:c plus a -> c and c -> a (1-VM Gbps, $/GB)."""
    rows = [
        ("aws:a", "aws:b", 0.02, 2.0),
        ("aws:a", "gcp:c", 0.09, 3.0),
        ("aws:b", "gcp:c", 0.02, 1.0),
        ("gcp:c", "aws:a", 0.12, 4.0),
    ]
    path = tmp_path / "edges.csv"
    lines = ["src_region,dst_region,cost_per_gb,throughput_gbps_1vm"]
    lines += [f"{s},{d},{c},{t}" for s, d, c, t in rows]
    path.write_text("\n".join(lines) + "\n")
    return load_network(path)


def tiny_scenario(network: Network, egress_aws: float = 5.0) -> Scenario:
    return scenario_from_dict(
        "tiny",
        {
            "source_node": "aws:a",
            "dest_nodes": ["aws:b", "gcp:c"],
            "data_vol": 10,
            "num_partitions": 2,
            "ingress_limit": {"aws": 10, "gcp": 16, "azure": 16},
            "egress_limit": {"aws": egress_aws, "gcp": 7, "azure": 16},
        },
        network,
    )


def same_route(nodes_by_dst: dict[str, list[str]], partitions: int) -> dict:
    return {
        d: {str(p): [[u, v, {}] for u, v in itertools.pairwise(n)] for p in range(partitions)}
        for d, n in nodes_by_dst.items()
    }
