"""Knapsack solver: Python orders the items, the C library (fill.c) fills the knapsack."""

import ctypes
import os

import scoring

_LIB = ctypes.CDLL(os.path.join(os.path.dirname(os.path.abspath(__file__)), "libfill.so"))
_LIB.fill.restype = ctypes.c_int
_LIB.fill.argtypes = [
    ctypes.c_int, ctypes.POINTER(ctypes.c_double), ctypes.POINTER(ctypes.c_double),
    ctypes.POINTER(ctypes.c_int), ctypes.c_double, ctypes.c_int, ctypes.POINTER(ctypes.c_int),
]


def solve(values: list[float], weights: list[float], capacity: float) -> list[int]:
    n = len(values)
    # EVOLVE-BLOCK-START
    passes = 1
    order = scoring.order(values, weights, capacity)
    # EVOLVE-BLOCK-END
    doubles = ctypes.c_double * n
    chosen = (ctypes.c_int * n)()
    count = _LIB.fill(n, doubles(*values), doubles(*weights), (ctypes.c_int * n)(*order),
                      float(capacity), passes, chosen)
    if count < 0:
        raise MemoryError("fill() ran out of memory")
    return [chosen[i] for i in range(count)]
