"""Item priorities: the fill takes items in decreasing priority."""

# EVOLVE-BLOCK-START
WEIGHT_EXPONENT = 0.4


def priority(value: float, weight: float, capacity: float) -> float:
    return value / weight**WEIGHT_EXPONENT
# EVOLVE-BLOCK-END


def order(values: list[float], weights: list[float], capacity: float) -> list[int]:
    return sorted(range(len(values)), key=lambda i: -priority(values[i], weights[i], capacity))
