"""Transaction scheduling: greedy order by sampled marginal makespan (the ADRS initial program)."""

import random
import time

from txn_simulator import Workload
from workloads import WORKLOAD_1, WORKLOAD_2, WORKLOAD_3

# EVOLVE-BLOCK-START
SAMPLE_RATE = 1.0  # probability of a greedy step (otherwise a random transaction is taken)


def get_best_schedule(workload, num_seqs):
    """Order the transactions of ``workload`` to keep its makespan low.

    Start from a random transaction; at each step draw ``num_seqs`` unscheduled
    transactions at random and append the one that gives the shortest makespan so far.
    Returns ``(makespan, order)``, where ``order`` lists every index in
    ``range(workload.num_txns)`` exactly once.
    """
    count = workload.num_txns
    first = random.randint(0, count - 1)
    order = [first]
    pool = [t for t in range(count) if t != first]
    for _ in range(count - 1):
        if random.random() > SAMPLE_RATE:
            order.append(pool.pop(random.randint(0, len(pool) - 1)))
            continue
        drawn = []
        for _ in range(num_seqs):
            last = len(pool) <= 1
            drawn.append(pool.pop(0 if last else random.randint(0, len(pool) - 1)))
            if last:
                break
        costs = [workload.get_opt_seq_cost(order + [t]) for t in drawn]
        chosen = drawn[costs.index(min(costs))]
        order.append(chosen)
        drawn.remove(chosen)
        pool.extend(drawn)
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
