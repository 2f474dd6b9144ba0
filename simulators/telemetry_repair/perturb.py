"""Counter faults applied to a row before the candidate sees it (the ADRS test faults).

Per row one fault type is drawn from ``FAULTS``; every counter gets +-2 % noise, then

- ``dropped``: each interface with probability 0.2 reports rx = tx = 0;
- ``scaled``: each interface with probability 0.2 has rx and tx scaled, each by a
  factor from U(0.5, 0.8) or U(1.2, 1.5);
- ``correlated_dropped`` / ``correlated_scaled``: each router with probability 0.2
  has all its interfaces reset to their true values and then zeroed / scaled so.

Draws are taken from a ``random.Random`` in exactly the order of the ADRS evaluator
(``apply_test_perturbations``), so the same seed gives the same faults; the state is
the caller's own generator, never the global one. What the candidate gets is the
public part only: status, rates, peer and routers (ADRS also passed the true rates
of correlated-fault routers, under ``_ground_truth_rx`` / ``_ground_truth_tx``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import numpy as np

from simulators.telemetry_repair.data import Network

FAULTS = ("dropped", "scaled", "correlated_dropped", "correlated_scaled")


@dataclass(frozen=True)
class Instance:
    """One row as the candidate sees it, with the truth kept apart."""

    row: int
    fault: str
    truth: np.ndarray  # [interfaces, 2] true (rx, tx)
    observed: np.ndarray  # [interfaces, 2] what the candidate is given

    def telemetry(self, network: Network) -> dict[str, dict[str, Any]]:
        return {
            name: {
                "interface_status": "up",
                "rx_rate": float(self.observed[i, 0]),
                "tx_rate": float(self.observed[i, 1]),
                "connected_to": network.peer[i],
                "local_router": network.local[i],
                "remote_router": network.remote[i],
            }
            for i, name in enumerate(network.interfaces)
        }


def _scale(rng: random.Random) -> float:
    low, high = rng.uniform(0.5, 0.8), rng.uniform(1.2, 1.5)
    return rng.choice([low, high])


def perturb(network: Network, row: int, truth: np.ndarray, rng: random.Random) -> Instance:
    fault = rng.choice(list(FAULTS))
    observed = truth.astype(float).copy()
    for i in range(len(network.interfaces)):
        observed[i, 0] *= rng.uniform(0.98, 1.02)
        observed[i, 1] *= rng.uniform(0.98, 1.02)
        if fault == "dropped" and rng.random() < 0.20:
            observed[i] = 0.0
        elif fault == "scaled" and rng.random() < 0.20:
            observed[i, 0] *= _scale(rng)
            observed[i, 1] *= _scale(rng)
    index = {name: i for i, name in enumerate(network.interfaces)}
    for members in network.topology().values():
        if rng.random() < 0.80:
            continue
        for name in members:
            i = index[name]
            if fault == "correlated_dropped":
                observed[i] = 0.0
            elif fault == "correlated_scaled":
                observed[i, 0] = truth[i, 0] * _scale(rng)
                observed[i, 1] = truth[i, 1] * _scale(rng)
    return Instance(row, fault, truth.astype(float).copy(), observed)


def adrs_instances(
    network: Network, rates: np.ndarray, seed: int = 42, count: int = 30
) -> tuple[list[Instance], list[int]]:
    """The ADRS test set: ``count`` rows sampled with ``Random(seed)``, each perturbed
    in turn from the same generator. Returns the instances and the rows left out."""
    rng = random.Random(seed)
    rows = rng.sample(range(len(rates)), min(count, len(rates)))
    instances = [perturb(network, r, rates[r], rng) for r in rows]
    return instances, sorted(set(range(len(rates))) - set(rows))


def drawn_instances(
    network: Network, rates: np.ndarray, rows: list[int], seed: int, draws: int
) -> list[Instance]:
    """``draws`` independent fault draws for each of ``rows`` (holdout)."""
    rng = random.Random(seed)
    return [perturb(network, r, rates[r], rng) for _ in range(draws) for r in rows]
