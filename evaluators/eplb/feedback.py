"""Text feedback for the LLM: where a placement loses balance, and what it costs."""

from __future__ import annotations

import numpy as np

from simulators.eplb import WorkloadScore


def summary(metrics: dict[str, float], mode: str) -> str:
    primary = "slot" if mode == "adrs" else "gpu"
    return (
        f"score {metrics['score']:.4f} = balancedness_{primary} {metrics['balance']:.4f} x "
        f"(1 - {metrics['speed_weight']:g} + {metrics['speed_weight']:g} x speed term "
        f"{metrics['speed_term']:.3f}). Balancedness (mean load / max load, next window): "
        f"GPU {metrics['balancedness_gpu']:.4f}, node {metrics['balancedness_node']:.4f}, "
        f"slot {metrics['balancedness_slot']:.4f}; hottest GPU carries "
        f"{metrics['peak_to_mean_gpu']:.2f}x the mean on average. rebalance_experts takes "
        f"{metrics['candidate_time_ms']:.2f} ms per call (median, 1 thread), "
        f"{metrics['speedup_vs_reference']:.2f}x the speed of the reference balancer."
    )


def worst_layers(name: str, score: WorkloadScore, count: int = 5) -> str:
    layers = score.layer_balancedness_gpu
    order = np.argsort(layers, kind="stable")[:count]
    parts = ", ".join(f"layer {int(i)}: {float(layers[i]):.3f}" for i in order)
    return (
        f"{name}: layers with the lowest GPU balancedness (mean over rebalances; "
        f"overall mean {float(layers.mean()):.3f}): {parts}"
    )


def hottest_gpu(name: str, score: WorkloadScore) -> str:
    worst = max(range(len(score.plans)), key=lambda i: score.plans[i].hottest_gpu[2])
    layer, gpu, ratio = score.plans[worst].hottest_gpu
    return (
        f"{name}: the hottest GPU was GPU {gpu} in layer {layer} when the plan from "
        f"window {worst} met window {worst + 1}: {ratio:.2f}x that layer's mean GPU load"
    )


def rebalance_cost(name: str, score: WorkloadScore, num_layers: int, num_slots: int) -> str:
    return (
        f"{name}: per rebalance, {score.slots_changed:.0f} of {num_layers} x {num_slots} "
        "(layer, slot) pairs change expert; "
        f"{score.bytes_cross_gpu / 1e9:.1f} GB of expert weights move between GPUs, "
        f"{score.bytes_cross_node / 1e9:.1f} GB of it between nodes; "
        f"{score.same_gpu_duplicates:.0f} slots duplicate an expert already on the same GPU "
        "(not scored; informational)"
    )
