"""Compound growth with a rate to be found."""

# EVOLVE-BLOCK-START
RATE = 0.5


def growth(years):
    return (1 + RATE) ** years
# EVOLVE-BLOCK-END
