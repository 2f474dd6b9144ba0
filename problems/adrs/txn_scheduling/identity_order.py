"""Transaction scheduling: run the transactions in the order given (the ADRS reference point)."""

import time

from txn_simulator import Workload
from workloads import WORKLOAD_1, WORKLOAD_2, WORKLOAD_3


# EVOLVE-BLOCK-START
def get_best_schedule(workload, num_seqs):
    """Returns ``(makespan, order)`` with ``order`` the transactions in input order."""
    order = list(range(workload.num_txns))
    return workload.get_opt_seq_cost(order), order


# EVOLVE-BLOCK-END


def get_random_costs():
    """Schedule the three workloads; returns (total makespan, [order per workload], seconds)."""
    start = time.time()
    schedules, total = [], 0
    for text in (WORKLOAD_1, WORKLOAD_2, WORKLOAD_3):
        workload = Workload(text)
        _, order = get_best_schedule(workload, 10)
        schedules.append(order)
        total += workload.get_opt_seq_cost(order)
    return total, schedules, time.time() - start
