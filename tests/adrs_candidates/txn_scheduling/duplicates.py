"""Hole 2: an invalid schedule (transaction 0 twice, 99 never) still scores in ADRS evaluate()."""


def get_random_costs():
    order = [0] + list(range(99))
    return 100, [order, list(range(100)), list(range(100))], 0.0
