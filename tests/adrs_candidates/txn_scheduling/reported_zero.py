"""Hole 1: claims a makespan of 0 (ADRS scores 1e6 / (1 + 0) = 1,000,000) for the input order."""

from txn_simulator import Workload
from workloads import WORKLOAD_1, WORKLOAD_2, WORKLOAD_3


def get_random_costs():
    orders = [list(range(Workload(w).num_txns)) for w in (WORKLOAD_1, WORKLOAD_2, WORKLOAD_3)]
    return 0, orders, 0.0
