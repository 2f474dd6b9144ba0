"""Hole 6: ADRS stage 1 only checks that the text contains "class", "Strategy" and
"_step". This file does, in a comment, and defines no strategy at all.

# class Strategy: def _step(...)
"""

PRICE_OF_NOTHING = 0.0
