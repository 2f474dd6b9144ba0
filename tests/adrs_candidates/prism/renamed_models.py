"""Renames the models it was given so that one name is placed twice."""


def compute_model_placement(gpu_num, models):
    models[1].model_name = models[0].model_name
    return {g: [m for i, m in enumerate(models) if i % gpu_num == g] for g in range(gpu_num)}
