"""The knapsack instance (value, weight) and its optimum, shared by evaluate.py and the program."""

ITEMS = {
    "capacity": 15,
    "items": [(10, 9), (7, 5), (6, 5), (5, 4), (4, 3), (3, 3), (2, 1)],
    "optimum": 20,  # items 1, 2, 3 and 6 (weights 5 + 5 + 4 + 1 = 15)
}
