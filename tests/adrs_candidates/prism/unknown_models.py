"""Hole 3: invents models that are not in the case (one tiny model per GPU)."""

from dataclasses import dataclass


@dataclass
class Model:
    model_name: str
    model_size: int
    req_rate: int
    slo: int
    cur_gpu_id: int


def compute_model_placement(gpu_num, models):
    return {g: [Model(f"ghost_{g}", 0, 0, 1, g)] for g in range(gpu_num)}
