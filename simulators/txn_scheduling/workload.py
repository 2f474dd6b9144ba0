"""Transaction scheduling cost model (the ADRS ``txn_simulator`` interface).

Self-contained (standard library only): the evaluator ships this file into the sandbox
as ``txn_simulator.py``, so programs written for ADRS (``from txn_simulator import
Workload``) run unchanged, and scores it on the trusted side with its own copy.

A transaction is a list of operations ``r-K`` (read key K), ``w-K`` (write key K) or
``*`` (an idle slot); operation ``pos`` (1-based) of a transaction that starts at time
``s`` holds a one-unit lock on its key at time ``s + pos - 1``. Transactions are placed
in the given order, each as early as its locks allow:

- a write, or any operation after a key's latest lock is a write, goes after the
  key's latest lock (``latest + 1``);
- a read after a read may share time with earlier reads: it only has to follow the
  key's latest write (or nothing, if the key was never written).

The makespan is the largest end time. Equal to ``Workload.get_opt_seq_cost`` of ADRS
(``openevolve/examples/ADRS/txn_scheduling/txn_simulator.py``), whose per-key lock
lists are kept sorted by time with later insertions after equal times; only three
numbers per key are needed to reproduce it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

Op = tuple[str, str, int, int]  # (kind "r"/"w", key, 1-based position, transaction length)


def parse_transactions(workload: dict[str, str]) -> list[list[Op]]:
    """``{"txn0": "r-1 w-2 *", ...}`` -> per transaction, its key operations (in dict order)."""
    txns: list[list[Op]] = []
    for name, text in workload.items():
        tokens = text.split(" ")
        ops: list[Op] = []
        for pos, token in enumerate(tokens, start=1):
            if token == "*":
                continue
            kind, sep, key = token.partition("-")
            if not sep or kind not in ("r", "w") or not key or "-" in key:
                raise ValueError(f"{name}: operation {token!r} is not r-KEY, w-KEY or *")
            ops.append((kind, key, pos, len(tokens)))
        if not ops:
            raise ValueError(f"{name}: a transaction needs at least one read or write")
        txns.append(ops)
    return txns


def schedule_makespan(txns: Sequence[Sequence[Op]], order: Sequence[int]) -> int:
    """Makespan of running ``txns`` in ``order`` (indices; not checked to be a permutation)."""
    # key -> [latest lock time, kind of the lock placed last at that time, latest write time]
    locks: dict[str, list[Any]] = {}
    makespan = 0
    for index in order:
        ops = txns[index]
        start = 1
        for kind, key, pos, _ in ops:
            state = locks.get(key)
            if state is None:
                continue
            if state[1] == "w" or kind == "w":
                earliest = state[0] + 1
            else:
                earliest = state[2] + 1 if state[2] >= 0 else 0
            start = max(start, earliest - pos + 1)
        makespan = max(makespan, start + ops[0][3] - 1)
        for kind, key, pos, _ in ops:
            at = start + pos - 1
            state = locks.get(key)
            if state is None:
                locks[key] = [at, kind, at if kind == "w" else -1]
                continue
            if at >= state[0]:
                state[0], state[1] = at, kind
            if kind == "w" and at > state[2]:
                state[2] = at
    return makespan


class Workload:
    """A workload of transactions, built from a JSON object ``{"txn0": "r-1 w-2 *", ...}``.

    Attributes kept from ADRS: ``workload`` (the transaction strings), ``num_txns``,
    ``txns`` (per transaction, its ``(kind, key, pos, txn_len)`` operations), ``debug``.
    """

    def __init__(self, workload_json: str, debug: bool = False, verify: bool = False) -> None:
        data = json.loads(workload_json)
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise ValueError("a workload is a JSON object of transaction strings")
        self.workload = list(data.values())
        self.txns = parse_transactions(data)
        self.num_txns = len(self.txns)
        self.debug = debug
        self.verify = verify

    def get_opt_seq_cost(self, txn_seq: Sequence[int]) -> int:
        """Makespan of running the transactions in ``txn_seq`` order."""
        return schedule_makespan(self.txns, txn_seq)
