"""Defines the wrong function name."""


def rebalance(weight, num_replicas, num_groups, num_nodes, num_gpus):
    return None
