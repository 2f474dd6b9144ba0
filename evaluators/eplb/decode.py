"""Turn what came back from the sandbox into a checked placement, or a specific reason."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from evolve.evaluation.plain import TensorValue
from simulators.eplb import check_placement

OUTPUT_NAMES = ("phy2log", "log2phy", "logcnt")


@dataclass
class Placement:
    phy2log: np.ndarray  # [layers, replicas] int64
    logcnt: np.ndarray  # [layers, experts] int64


class InvalidOutput(ValueError):
    """The candidate's output breaks the interface; the message says how."""


def _tensor(value: Any, name: str) -> np.ndarray:
    if not isinstance(value, TensorValue):
        kind = "numpy.ndarray" if isinstance(value, np.ndarray) else type(value).__name__
        raise InvalidOutput(f"{name} must be a torch.Tensor, got {kind}")
    return np.asarray(value.array).reshape(value.shape)


def decode_result(value: Any, num_layers: int, num_experts: int, num_replicas: int) -> Placement:
    """Check the (phy2log, log2phy, logcnt) triple; raise InvalidOutput with the reason."""
    if not isinstance(value, (tuple, list)) or len(value) != 3:
        what = (
            f"a {type(value).__name__} of length {len(value)}"
            if isinstance(value, (tuple, list))
            else type(value).__name__
        )
        raise InvalidOutput(f"rebalance_experts must return (phy2log, log2phy, logcnt), got {what}")
    phy2log, log2phy, logcnt = (_tensor(v, n) for v, n in zip(value, OUTPUT_NAMES))
    reason = check_placement(phy2log, log2phy, logcnt, num_layers, num_experts, num_replicas)
    if reason:
        raise InvalidOutput(reason)
    for item, name in zip(value, OUTPUT_NAMES):
        if item.dtype != "torch.int64":
            raise InvalidOutput(f"{name} must have dtype torch.int64, got {item.dtype}")
    return Placement(phy2log=phy2log.astype(np.int64), logcnt=logcnt.astype(np.int64))


def same_output(first: Any, second: Any) -> bool:
    """Exact equality of two decoded results (dtype, shape and values of every tensor)."""
    if not isinstance(first, (tuple, list)) or not isinstance(second, (tuple, list)):
        return False
    if len(first) != len(second):
        return False
    for a, b in zip(first, second):
        if not isinstance(a, TensorValue) or not isinstance(b, TensorValue):
            return False
        if a.dtype != b.dtype or a.shape != b.shape or not np.array_equal(a.array, b.array):
            return False
    return True
