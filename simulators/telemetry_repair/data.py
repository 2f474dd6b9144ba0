"""Abilene link counters and the interface view the ADRS telemetry evaluator builds.

A row of ``abilene_links.csv`` holds, for every directed link ``R -> N``, the counter
``low_R_egress_to_N`` (what R sends to N) and ``low_N_ingress_from_R`` (what N receives
from R), in Mbps. Interface ``R_to_N`` (router R's side of the link to N) has
``tx_rate`` from ``low_R_egress_to_N`` and ``rx_rate`` from ``low_R_ingress_from_N``;
its peer is ``N_to_R``. Interfaces are numbered in the order their first column
appears, as in the ADRS adapter (``convert_csv_row_to_interfaces``).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

EGRESS, INGRESS = "_egress_to_", "_ingress_from_"


@dataclass(frozen=True)
class Network:
    interfaces: tuple[str, ...]  # "R_to_N"
    local: tuple[str, ...]  # R
    remote: tuple[str, ...]  # N
    peer: tuple[str, ...]  # "N_to_R"

    def topology(self) -> dict[str, list[str]]:
        """router -> its interfaces, in interface order (as the ADRS evaluator builds it)."""
        routers: dict[str, list[str]] = {}
        for name, router in zip(self.interfaces, self.local):
            routers.setdefault(router, []).append(name)
        return routers


@dataclass(frozen=True)
class Telemetry:
    network: Network
    timestamps: tuple[str, ...]
    rates: np.ndarray  # [rows, interfaces, 2]: ground truth (rx, tx) in Mbps


def load_telemetry(path: Path) -> Telemetry:
    with open(path, newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows = list(reader)
    interfaces: list[str] = []
    local: list[str] = []
    remote: list[str] = []
    slots: list[tuple[int, int]] = []  # per column after the timestamp: (interface, 0 rx / 1 tx)
    for column in header[1:]:
        name = column.removeprefix("low_")
        if EGRESS in name:
            router, other = name.split(EGRESS)
            field = 1
        elif INGRESS in name:
            router, other = name.split(INGRESS)
            field = 0
        else:
            raise ValueError(f"{path}: column {column!r} is not a link counter")
        interface = f"{router}_to_{other}"
        if interface not in interfaces:
            interfaces.append(interface)
            local.append(router)
            remote.append(other)
        slots.append((interfaces.index(interface), field))
    rates = np.zeros((len(rows), len(interfaces), 2))
    for r, row in enumerate(rows):
        for (i, field), text in zip(slots, row[1:]):
            rates[r, i, field] = float(text)
    peers = tuple(f"{n}_to_{r}" for r, n in zip(local, remote))
    network = Network(tuple(interfaces), tuple(local), tuple(remote), peers)
    return Telemetry(network, tuple(row[0] for row in rows), rates)
