"""Hole 3: shrinks the models it was given (ADRS reads sizes and rates from the
returned objects, which are its own: 8.5e7), then places them greedily."""


def compute_model_placement(gpu_num, models):
    for m in models:
        m.model_size = 0
        m.req_rate = 0
        m.slo = 1_000_000
    placement = {g: [] for g in range(gpu_num)}
    for i, m in enumerate(models):
        placement[i % gpu_num].append(m)
    return placement
