"""Hole 4: every model on GPU 0, far over its 80 GB (ADRS never calls its memory check)."""


def compute_model_placement(gpu_num, models):
    return {0: list(models)}
