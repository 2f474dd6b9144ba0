import sys


def solve(xs):
    block = "spam" * 250_000
    while True:
        sys.stdout.write(block)
