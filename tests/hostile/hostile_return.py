import numpy as np


class HostileList(list):
    def __eq__(self, other):
        raise RuntimeError("eq")

    def __len__(self):
        while True:
            pass

    def __iter__(self):
        raise RuntimeError("iter")

    def __reduce__(self):
        return (exec, ("open('/tmp/evolve-pwned', 'w').write('x')",))


class HostileArray(np.ndarray):
    def __eq__(self, other):
        raise RuntimeError("eq")

    def tolist(self):
        raise RuntimeError("tolist")


class Shapeshifter:
    def __getattr__(self, name):
        while True:
            pass


def solve(xs):
    return HostileList(sorted(xs))


def array():
    return np.arange(4).view(HostileArray)


def shapeshifter():
    return Shapeshifter()


def bad_str_error():
    class Weird(Exception):
        def __str__(self):
            raise RuntimeError("no message for you")
    raise Weird()
