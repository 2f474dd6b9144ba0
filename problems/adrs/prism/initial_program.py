"""GPU model placement: greedy by lowest KV-cache pressure (Prism's Algorithm 1, the ADRS
initial program)."""

GPU_MEM_SIZE = 80  # GB per GPU


# EVOLVE-BLOCK-START
def compute_model_placement(gpu_num, models):
    """Place every model on one of ``gpu_num`` GPUs, keeping the worst KV-cache pressure low.

    ``models`` are objects with ``model_name``, ``model_size`` (GB), ``req_rate``, ``slo``.
    A GPU's pressure is sum(req_rate / slo) / (GPU_MEM_SIZE - sum(model_size)).
    Returns ``{gpu_id: [model, ...]}`` for gpu_id in ``range(gpu_num)``.

    Models go in decreasing order of req_rate / slo, each to the GPU with the lowest
    current pressure among those with room for it.
    """
    placement = {gpu: [] for gpu in range(gpu_num)}
    free = [GPU_MEM_SIZE] * gpu_num
    load = [0.0] * gpu_num
    for model in sorted(models, key=lambda m: m.req_rate / m.slo, reverse=True):
        room = [g for g in range(gpu_num) if free[g] > 0 and model.model_size <= free[g]]
        if not room:
            raise ValueError(f"{model.model_name} ({model.model_size} GB) fits on no GPU: {free}")
        gpu = min(room, key=lambda g: load[g] / free[g])
        placement[gpu].append(model)
        load[gpu] += model.req_rate / model.slo
        free[gpu] -= model.model_size
    return placement


# EVOLVE-BLOCK-END
