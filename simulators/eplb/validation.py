"""Strict checks on a balancer's output; each failure is one specific reason.

A placement that breaks any rule is invalid, never a poor score: for instance a layer
whose cold experts have no replica makes the remaining load look balanced while those
experts' tokens have nowhere to go.
"""

from __future__ import annotations

import numpy as np

INTEGER_KINDS = "iu"


def _where(layer_expert: np.ndarray) -> str:
    layer, expert = (int(v) for v in layer_expert)
    return f"layer {layer}, expert {expert}"


def check_array(name: str, array: np.ndarray, shape: tuple[int, ...]) -> str | None:
    """Shape, finiteness and integer type of one output array."""
    if array.dtype.kind == "f" and np.isnan(array).any():
        return f"{name} contains NaN"
    if array.dtype.kind not in INTEGER_KINDS:
        return f"{name} must be an integer tensor (int64), got dtype {array.dtype}"
    if array.shape != shape:
        return f"{name} has shape {list(array.shape)}, expected {list(shape)}"
    return None


def check_placement(
    phy2log: np.ndarray,
    log2phy: np.ndarray,
    logcnt: np.ndarray,
    num_layers: int,
    num_experts: int,
    num_replicas: int,
) -> str | None:
    """Return why (phy2log, log2phy, logcnt) is not a valid placement, or None.

    Rules: phy2log [layers, replicas] holds expert ids in range; every expert has at least
    one slot; logcnt [layers, experts] equals the number of slots holding each expert (so
    counts sum to the slot count); log2phy [layers, experts, X] lists, in its first
    logcnt entries, exactly the slots holding that expert, padded with -1 after them.
    """
    reason = check_array("phy2log", phy2log, (num_layers, num_replicas))
    if reason:
        return reason
    reason = check_array("logcnt", logcnt, (num_layers, num_experts))
    if reason:
        return reason
    if log2phy.ndim != 3 or log2phy.shape[:2] != (num_layers, num_experts):
        return (
            f"log2phy has shape {list(log2phy.shape)}, expected "
            f"[{num_layers}, {num_experts}, X] (X >= largest replica count)"
        )
    reason = check_array("log2phy", log2phy, log2phy.shape)
    if reason:
        return reason

    phy2log, log2phy, logcnt = (a.astype(np.int64) for a in (phy2log, log2phy, logcnt))
    bad = (phy2log < 0) | (phy2log >= num_experts)
    if bad.any():
        layer, slot = np.argwhere(bad)[0]
        return (
            f"phy2log[{layer}, {slot}] = {int(phy2log[layer, slot])} is not an expert id "
            f"in [0, {num_experts})"
        )

    layer_base = np.arange(num_layers, dtype=np.int64)[:, None]
    held = np.bincount(
        (layer_base * num_experts + phy2log).ravel(), minlength=num_layers * num_experts
    ).reshape(num_layers, num_experts)
    if (held == 0).any():
        missing = held == 0
        first = np.argwhere(missing)[0]
        return (
            f"{int(missing.sum())} expert(s) have zero replicas (first: {_where(first)}); "
            "every logical expert needs at least one slot, or its tokens are dropped"
        )
    sums = logcnt.sum(axis=1)
    if (sums != num_replicas).any():
        layer = int(np.argmax(sums != num_replicas))
        return f"logcnt of layer {layer} sums to {int(sums[layer])}, expected {num_replicas} slots"
    if (logcnt != held).any():
        first = np.argwhere(logcnt != held)[0]
        return (
            f"logcnt disagrees with phy2log at {_where(first)}: logcnt says "
            f"{int(logcnt[tuple(first)])}, phy2log holds {int(held[tuple(first)])}"
        )

    width = log2phy.shape[2]
    if width < int(held.max()):
        return f"log2phy has {width} columns but an expert has {int(held.max())} replicas"
    used = np.arange(width)[None, None, :] < held[:, :, None]
    if (log2phy[~used] != -1).any():
        first = np.argwhere(~used & (log2phy != -1))[0]
        return (
            f"log2phy[{first[0]}, {first[1]}, {first[2]}] = {int(log2phy[tuple(first)])} "
            "should be -1 (padding after the expert's logcnt slots)"
        )
    out_of_range = used & ((log2phy < 0) | (log2phy >= num_replicas))
    if out_of_range.any():
        first = np.argwhere(out_of_range)[0]
        return (
            f"log2phy[{first[0]}, {first[1]}, {first[2]}] = {int(log2phy[tuple(first)])} "
            f"is not a slot id in [0, {num_replicas})"
        )
    clipped = np.where(used, log2phy, 0)
    expert_of_entry = np.take_along_axis(phy2log, clipped.reshape(num_layers, -1), axis=1)
    wrong = used & (expert_of_entry.reshape(clipped.shape) != np.arange(num_experts)[None, :, None])
    if wrong.any():
        first = np.argwhere(wrong)[0]
        slot = int(log2phy[tuple(first)])
        return (
            f"log2phy[{first[0]}, {first[1]}, {first[2]}] points at slot {slot}, which holds "
            f"expert {int(phy2log[first[0], slot])}, not {int(first[1])}"
        )
    # Every entry points at a slot of the right expert and counts match; a slot listed
    # twice would leave another slot of that expert unlisted.
    flat_entry = layer_base[:, :, None] * num_replicas + log2phy
    listed = np.bincount(flat_entry[used], minlength=num_layers * num_replicas).reshape(
        num_layers, num_replicas
    )
    if (listed != 1).any():
        layer, slot = np.argwhere(listed != 1)[0]
        times = int(listed[layer, slot])
        return f"log2phy lists slot {slot} of layer {layer} {times} times, expected once"
    return None
