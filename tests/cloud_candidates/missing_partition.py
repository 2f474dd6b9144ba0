"""Routes only the first partition: 'sends less data', ten times cheaper if accepted."""


def search_algorithm(src, dsts, G, num_partitions):
    return {d: {"0": [[src, d, G[src][d]]]} for d in dsts}
