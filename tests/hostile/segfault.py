import ctypes


def solve(xs):
    return ctypes.string_at(0)
