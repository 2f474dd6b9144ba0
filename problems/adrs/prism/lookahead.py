"""GPU model placement: look-ahead greedy plus single moves and pairwise swaps (the
algorithm of the ADRS best program for this problem)."""

GPU_MEM_SIZE = 80  # GB per GPU


# EVOLVE-BLOCK-START
def compute_model_placement(gpu_num, models):
    """Place every model on one of ``gpu_num`` GPUs, keeping the worst KV-cache pressure low.

    1. Models in decreasing (req_rate / slo, size) order; each goes to the GPU that gives
       the lowest worst-GPU pressure once placed (ties: the one left with more memory).
    2. Then, while it lowers the worst pressure: move one model (trying the most
       pressed GPUs first), or else swap two models between GPUs.
    """
    tie = 1e-9

    def pressure(load, free):
        return load / free if free > 0 else float("inf")

    def worst(loads, frees):
        return max(pressure(w, m) for w, m in zip(loads, frees))

    placement = {gpu: [] for gpu in range(gpu_num)}
    free = [GPU_MEM_SIZE] * gpu_num
    load = [0.0] * gpu_num
    ranked = sorted(models, key=lambda m: (m.req_rate / m.slo, m.model_size), reverse=True)
    for model in ranked:
        share = model.req_rate / model.slo
        choice, choice_worst, choice_free = None, float("inf"), -1.0
        for gpu in range(gpu_num):
            if model.model_size > free[gpu]:
                continue
            loads, frees = list(load), list(free)
            loads[gpu] = load[gpu] + share
            frees[gpu] = free[gpu] - model.model_size
            after = worst(loads, frees)
            if after < choice_worst - tie or (
                abs(after - choice_worst) <= tie and frees[gpu] > choice_free
            ):
                choice, choice_worst, choice_free = gpu, after, frees[gpu]
        if choice is None:
            raise ValueError(f"{model.model_name} ({model.model_size} GB) fits on no GPU")
        placement[choice].append(model)
        load[choice] += share
        free[choice] -= model.model_size

    def try_move(current):
        order = sorted(range(gpu_num), key=lambda g: pressure(load[g], free[g]), reverse=True)
        for src in order:
            for model in list(placement[src]):
                share = model.req_rate / model.slo
                for dst in range(gpu_num):
                    if dst == src or model.model_size > free[dst]:
                        continue
                    loads, frees = list(load), list(free)
                    loads[src] -= share
                    frees[src] += model.model_size
                    loads[dst] += share
                    frees[dst] -= model.model_size
                    if worst(loads, frees) < current:
                        placement[src].remove(model)
                        placement[dst].append(model)
                        return loads, frees
        return None

    def try_swap(current):
        for a in range(gpu_num):
            for b in range(a + 1, gpu_num):
                for x in placement[a]:
                    for y in placement[b]:
                        free_a = free[a] + x.model_size - y.model_size
                        free_b = free[b] + y.model_size - x.model_size
                        if free_a < 0 or free_b < 0:
                            continue
                        sx, sy = x.req_rate / x.slo, y.req_rate / y.slo
                        loads, frees = list(load), list(free)
                        loads[a] = loads[a] - sx + sy
                        loads[b] = loads[b] - sy + sx
                        frees[a], frees[b] = free_a, free_b
                        if worst(loads, frees) < current:
                            placement[a].remove(x)
                            placement[b].remove(y)
                            placement[a].append(y)
                            placement[b].append(x)
                            return loads, frees
        return None

    while True:
        current = worst(load, free)
        step = try_move(current) or try_swap(current)
        if step is None:
            return placement
        load, free = step


# EVOLVE-BLOCK-END
