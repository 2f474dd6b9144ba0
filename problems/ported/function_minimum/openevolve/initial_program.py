"""Find the minimum of f on [-5, 5] x [-5, 5]."""

import math
import random


def f(x, y):
    """Many local minima; the global one is f(1, -2) = -1."""
    return 0.1 * ((x - 1) ** 2 + (y + 2) ** 2) - math.cos(2 * (x - 1)) * math.cos(2 * (y + 2))


# EVOLVE-BLOCK-START
def search(seed, budget=1000):
    """Random search: sample points, keep the best one seen."""
    rng = random.Random(seed)
    best = (0.0, 0.0)
    for _ in range(budget):
        x, y = rng.uniform(-5, 5), rng.uniform(-5, 5)
        if f(x, y) < f(*best):
            best = (x, y)
    return best
# EVOLVE-BLOCK-END
