# EVOLVE-BLOCK-START
def sort_numbers(values):
    """One bubble-sort pass: not a full sort yet."""
    items = list(values)
    for i in range(len(items) - 1):
        if items[i] > items[i + 1]:
            items[i], items[i + 1] = items[i + 1], items[i]
    return items
# EVOLVE-BLOCK-END
