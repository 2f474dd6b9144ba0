"""Index 100 in a workload of 100 transactions (0 never scheduled); ADRS's evaluate()
ignores the failed validity check and scores the reported makespan."""


def get_random_costs():
    return 100, [list(range(1, 101)), list(range(100)), list(range(100))], 0.0
