"""Transaction scheduling simulator (ADRS ``txn_scheduling``): the makespan of an order
of conflicting transactions, a lower bound, schedule checks and seeded workloads. Pure:
imports nothing from ``evolve``."""

from __future__ import annotations

from simulators.txn_scheduling.bounds import makespan_lower_bound
from simulators.txn_scheduling.generate import SHAPES, generate_workload
from simulators.txn_scheduling.schedules import InvalidSchedule, check_schedules
from simulators.txn_scheduling.workload import (
    Op,
    Workload,
    parse_transactions,
    schedule_makespan,
)

__all__ = [
    "SHAPES",
    "InvalidSchedule",
    "Op",
    "Workload",
    "check_schedules",
    "generate_workload",
    "makespan_lower_bound",
    "parse_transactions",
    "schedule_makespan",
]
