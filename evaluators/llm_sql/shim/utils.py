"""The published ``utils`` helpers a program may call to estimate its own prefix reuse."""

from typing import Tuple

import pandas as pd


class TrieNode:
    def __init__(self):
        self.children = {}
        self.end_of_word = False


class Trie:
    def __init__(self):
        self.root = TrieNode()

    def insert(self, word):
        node = self.root
        for char in word:
            node = node.children.setdefault(char, TrieNode())
        node.end_of_word = True

    def longest_common_prefix(self, word):
        node, length = self.root, 0
        for char in word:
            if char not in node.children:
                break
            length += 1
            node = node.children[char]
        return length


def calculate_length(value):
    if isinstance(value, bool):
        size = 4
    elif isinstance(value, (int, float)):
        size = len(str(value))
    elif isinstance(value, str):
        size = len(value)
    else:
        size = 0
    return size**2


def evaluate_df_prefix_hit_cnt(df: pd.DataFrame) -> Tuple[int, float]:
    """(prefix hits, hit rate in percent) of the rows in order, one trie for all rows."""
    trie, hits, total = Trie(), 0, 0
    for _, row in df.iterrows():
        text = "".join(row.fillna("").astype(str).values)
        total += len(text)
        hits += min(len(text), trie.longest_common_prefix(text))
        trie.insert(text)
    return hits, (hits / total * 100) if total else 0.0
