"""Hole 5: patches the simulator in its own process so every order costs 0, then
reports the patched cost of the input order."""

import txn_simulator
from workloads import WORKLOAD_1, WORKLOAD_2, WORKLOAD_3

txn_simulator.Workload.get_opt_seq_cost = lambda self, seq: 0


def get_random_costs():
    orders, total = [], 0
    for text in (WORKLOAD_1, WORKLOAD_2, WORKLOAD_3):
        workload = txn_simulator.Workload(text)
        order = list(range(workload.num_txns))
        orders.append(order)
        total += workload.get_opt_seq_cost(order)
    return total, orders, 0.0
