"""Seeded workloads of the three ADRS shapes, for holdout evaluation.

Shapes (each 100 transactions by default, like the ADRS workloads):

- ``hot``: 16 operations on distinct keys per transaction, keys drawn by a Zipf-like
  popularity over ``1..5000`` so a few hot keys are in nearly every transaction;
  45 % reads; each key tends to sit at its own position in a transaction, as in ADRS
  ``WORKLOAD_1``.
- ``mixed``: half long transactions ``r-a r-b w-b`` + 18 idle slots, half short
  ``r-a w-a r-b w-b *``; ``a`` in 1..4, ``b`` in 11..50 (ADRS ``WORKLOAD_2``).
- ``cross``: ``r-a`` + 7 idle slots + ``w-b``, with ``a`` in 1..5 and ``b`` in 6..10 for
  the first half and the reverse for the second (ADRS ``WORKLOAD_3``).
"""

from __future__ import annotations

import numpy as np

SHAPES = ("hot", "mixed", "cross")


def _hot(rng: np.random.RandomState, count: int) -> list[str]:
    keys = np.arange(1, 5001)
    weights = 1.0 / keys**1.6
    weights /= weights.sum()
    place = rng.random_sample(keys.size + 1)  # each key's usual place in a transaction
    txns = []
    for _ in range(count):
        chosen = rng.choice(keys, size=16, replace=False, p=weights)
        chosen = chosen[np.argsort(place[chosen] + 0.2 * rng.random_sample(16), kind="stable")]
        reads = rng.random_sample(16) < 0.45
        txns.append(" ".join(f"{'r' if r else 'w'}-{k}" for k, r in zip(chosen, reads)))
    return txns


def _mixed(rng: np.random.RandomState, count: int) -> list[str]:
    txns = []
    for i in range(count):
        a, b = int(rng.randint(1, 5)), int(rng.randint(11, 51))
        if i < count // 2:
            txns.append(" ".join([f"r-{a}", f"r-{b}", f"w-{b}"] + ["*"] * 18))
        else:
            txns.append(f"r-{a} w-{a} r-{b} w-{b} *")
    return txns


def _cross(rng: np.random.RandomState, count: int) -> list[str]:
    txns = []
    for i in range(count):
        low, high = int(rng.randint(1, 6)), int(rng.randint(6, 11))
        a, b = (low, high) if i < count // 2 else (high, low)
        txns.append(" ".join([f"r-{a}"] + ["*"] * 7 + [f"w-{b}"]))
    return txns


def generate_workload(shape: str, seed: int, count: int = 100) -> dict[str, str]:
    """``{"txn0": ..., "txn<count-1>": ...}`` of the given shape, reproducible from ``seed``."""
    makers = {"hot": _hot, "mixed": _mixed, "cross": _cross}
    if shape not in makers:
        raise ValueError(f"unknown workload shape {shape!r} (one of {', '.join(SHAPES)})")
    if count < 2:
        raise ValueError("a workload needs at least 2 transactions")
    rng = np.random.RandomState(seed)
    return {f"txn{i}": text for i, text in enumerate(makers[shape](rng, count))}
