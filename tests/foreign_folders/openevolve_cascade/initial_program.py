"""Estimates pi; the evaluator scores the error of the estimate."""


# EVOLVE-BLOCK-START
def estimate_pi(terms):
    """Leibniz series: simple, and slow to converge."""
    total = 0.0
    for k in range(terms):
        total += (-1) ** k / (2 * k + 1)
    return 4 * total
# EVOLVE-BLOCK-END
