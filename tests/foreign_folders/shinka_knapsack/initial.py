"""Chooses items for a knapsack; the evaluator checks the capacity and scores the value."""

# EVOLVE-BLOCK-START
def choose_items(values, weights, capacity, seed=1):
    """Greedy by value: take the most valuable items that still fit."""
    order = sorted(range(len(values)), key=lambda i: -values[i])
    chosen, load = [], 0
    for i in order:
        if load + weights[i] <= capacity:
            chosen.append(i)
            load += weights[i]
    return chosen
# EVOLVE-BLOCK-END


def run_experiment(seed=1):
    from evaluate_data import ITEMS
    values = [v for v, _ in ITEMS["items"]]
    weights = [w for _, w in ITEMS["items"]]
    return choose_items(values, weights, ITEMS["capacity"], seed=seed)
