"""Hole 2: one model per GPU, inventing GPU ids past gpu_num (ADRS: 40.3)."""


def compute_model_placement(gpu_num, models):
    return {i: [m] for i, m in enumerate(models)}
