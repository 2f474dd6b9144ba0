"""Hole 3: returns look-alike objects of its own with negative sizes and the real
models' names (ADRS computes pressure from them: about 1e18), round-robin."""


class Fake:
    def __init__(self, name):
        self.model_name = name
        self.model_size = -1e9
        self.req_rate = 1e-9
        self.slo = 1e9


def compute_model_placement(gpu_num, models):
    placement = {g: [] for g in range(gpu_num)}
    for i, m in enumerate(models):
        placement[i % gpu_num].append(Fake(m.model_name))
    return placement
