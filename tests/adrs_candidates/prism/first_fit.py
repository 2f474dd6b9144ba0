"""First fit by GPU id, models in input order (the algorithm of ADRS
initial_program_naive.py). Valid here, but it fills GPUs to exactly 80 GB, which
leaves no KV-cache memory: ADRS scores such a GPU 1e6, here its pressure is infinite."""


def compute_model_placement(gpu_num, models):
    placement = {g: [] for g in range(gpu_num)}
    used = [0] * gpu_num
    for model in models:
        for g in range(gpu_num):
            if used[g] + model.model_size <= 80:
                placement[g].append(model)
                used[g] += model.model_size
                break
    return placement
