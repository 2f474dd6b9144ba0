"""Checks that a candidate's schedules are permutations of the workloads' transactions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


class InvalidSchedule(ValueError):
    """A schedule that is not an order of every transaction exactly once."""


def _indices(schedule: Any, name: str, size: int) -> list[int]:
    if isinstance(schedule, (np.ndarray, list, tuple)) and len(schedule) != size:
        raise InvalidSchedule(
            f"schedule for {name} has {len(schedule)} entries; it must list each of its "
            f"{size} transactions exactly once"
        )
    if isinstance(schedule, np.ndarray):
        if schedule.ndim != 1 or schedule.dtype.kind not in "iu":
            raise InvalidSchedule(
                f"schedule for {name} must be a 1-D list of transaction indices, got an array "
                f"of shape {schedule.shape} and dtype {schedule.dtype}"
            )
        items: list[Any] = [int(v) for v in schedule.tolist()]
    elif isinstance(schedule, (list, tuple)):
        items = list(schedule)
    else:
        raise InvalidSchedule(
            f"schedule for {name} must be a list of transaction indices, "
            f"got {type(schedule).__name__}"
        )
    out: list[int] = []
    for position, item in enumerate(items):
        if isinstance(item, (bool, np.bool_)) or not isinstance(item, (int, np.integer)):
            raise InvalidSchedule(
                f"schedule for {name}: entry {position} is {type(item).__name__}, "
                "not a transaction index"
            )
        out.append(int(item))
    seen = np.zeros(size, dtype=np.int64)
    for index in out:
        if not 0 <= index < size:
            raise InvalidSchedule(
                f"schedule for {name}: transaction {index} is out of range 0..{size - 1}"
            )
        seen[index] += 1
    if (seen != 1).any():
        twice = int(np.flatnonzero(seen > 1)[0])
        missing = int(np.flatnonzero(seen == 0)[0])
        raise InvalidSchedule(
            f"schedule for {name}: transaction {twice} appears {int(seen[twice])} times and "
            f"transaction {missing} is missing"
        )
    return out


def check_schedules(value: Any, names: Sequence[str], sizes: Sequence[int]) -> list[list[int]]:
    """One permutation of ``range(size)`` per workload, in workload order; raises
    InvalidSchedule naming the first problem."""
    if isinstance(value, np.ndarray) and value.ndim == 2:
        value = list(value)
    if not isinstance(value, (list, tuple)):
        raise InvalidSchedule(
            f"schedules must be a list with one schedule per workload, got {type(value).__name__}"
        )
    if len(value) != len(names):
        raise InvalidSchedule(
            f"expected {len(names)} schedules, one per workload ({', '.join(names)}), "
            f"got {len(value)}"
        )
    return [_indices(s, n, size) for s, n, size in zip(value, names, sizes)]
