"""Hole 5: an empty placement (ADRS: max over nothing = -inf -> 0 -> score 1.0)."""


def compute_model_placement(gpu_num, models):
    return {}
