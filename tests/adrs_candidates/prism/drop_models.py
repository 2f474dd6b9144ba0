"""Hole 1: places one model and drops the rest (ADRS: 368.5)."""


def compute_model_placement(gpu_num, models):
    return {0: [models[0]]}
