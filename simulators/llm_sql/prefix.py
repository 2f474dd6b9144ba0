"""Prefix reuse of a sequence of prompts (rows rendered as strings).

The ADRS metric inserts the rows one by one into a character trie and counts, for each
row, the longest prefix it shares with any earlier row. That total equals the total
length minus the number of distinct non-empty prefixes of all rows (each row adds one
trie node per character beyond its match), so it does not depend on the order of the
rows at all: only on the strings. Counting distinct prefixes needs one sort and the
common prefix of neighbours in sorted order.
"""

from __future__ import annotations

from typing import Any


def common_prefix(a: str, b: str) -> int:
    """Length of the longest common prefix (binary search on slice equality, in C)."""
    low, high = 0, min(len(a), len(b))
    while low < high:
        mid = (low + high + 1) // 2
        if a[:mid] == b[:mid]:
            low = mid
        else:
            high = mid - 1
    return low


def prefix_hits(strings: list[str]) -> tuple[int, int]:
    """(characters served from a prefix cache, total characters) for ``strings``."""
    total = sum(len(s) for s in strings)
    ordered = sorted(strings)
    nodes = 0
    previous = ""
    for s in ordered:
        nodes += len(s) - common_prefix(previous, s)
        previous = s
    return total - nodes, total


def trie_hits(strings: list[str]) -> tuple[int, int]:
    """The same count the ADRS way, row by row through a trie (for checking)."""
    root: dict[str, Any] = {}
    hits = total = 0
    for s in strings:
        node, matched = root, 0
        for ch in s:
            if ch not in node:
                break
            node = node[ch]
            matched += 1
        hits += matched
        total += len(s)
        node = root
        for ch in s:
            node = node.setdefault(ch, {})
    return hits, total
