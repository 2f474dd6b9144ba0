"""Never returns."""

import time


def rebalance_experts(weight, num_replicas, num_groups, num_nodes, num_gpus):
    time.sleep(600)
