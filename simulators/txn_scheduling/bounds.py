"""A lower bound on the makespan of any order, for scoring against.

In the cost model (``workload.py``) a write on a key is placed after every lock the key
already holds, and a read after every write on it, so on each key the writes take
distinct time units, none shared with a read, and all reads take at least one more.
A key with ``m`` such units, touched by operations at positions ``pos`` of transactions
of length ``L``, needs its first unit no earlier than ``min(pos)`` and leaves at least
``min(L - pos)`` units of its transaction after its last one:

    makespan >= min(pos) + m - 1 + min(L - pos)          for every key
    makespan >= L                                        for every transaction

The first line also holds for the writes of a key alone (their positions and tails).
"""

from __future__ import annotations

from collections.abc import Sequence

from simulators.txn_scheduling.workload import Op


def makespan_lower_bound(txns: Sequence[Sequence[Op]]) -> int:
    every: dict[str, list[int]] = {}  # key -> [units, min pos, min tail]
    writes: dict[str, list[int]] = {}
    read: set[str] = set()
    bound = 0
    for ops in txns:
        bound = max(bound, ops[0][3])
        for kind, key, pos, length in ops:
            tables = (every, writes) if kind == "w" else (every,)
            if kind == "r":
                read.add(key)
            for table in tables:
                entry = table.setdefault(key, [0, pos, length - pos])
                entry[0] += kind == "w"
                entry[1] = min(entry[1], pos)
                entry[2] = min(entry[2], length - pos)
    for key, (units, first, tail) in every.items():
        bound = max(bound, first + units + (key in read) - 1 + tail)
    for units, first, tail in writes.values():
        bound = max(bound, first + units - 1 + tail)
    return bound
