"""Greedy group recursion (GGR, "Optimizing LLM Queries in Relational Workloads"), the
ADRS llm_sql seed, restated.

Each row becomes a prompt: its cells concatenated. A prompt cache serves the longest
prefix a prompt shares with an earlier one, so rows should start with the same long
values. GGR picks the value worth most to share (length squared times repeats),
moves it to the front of every row that holds it, and recurses on the rest of those
rows (column recursion) and on the rows without it (row recursion); past the depth
limits, cells keep a fixed order by column score and rows are sorted.
"""

from collections import Counter
from typing import List, Tuple

import pandas as pd
from solver import Algorithm


# EVOLVE-BLOCK-START
def _text(value) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value)


def _position_scores(rows: List[List[str]]) -> List[float]:
    """Score of each cell position: (mean length)^2 * (rows per distinct value - 1)."""
    n = len(rows)
    width = len(rows[0]) if rows else 0
    scores = []
    for j in range(width):
        values = [r[j] for r in rows]
        distinct = len(set(values))
        mean_len = sum(map(len, values)) / n
        scores.append(0.0 if distinct == n else mean_len ** 2 * (n / distinct - 1))
    return scores


class Evolved(Algorithm):
    def __init__(self, df: pd.DataFrame = None):
        super().__init__(df)
        self.row_stop = 0
        self.col_stop = 0
        self.early_stop = 0
        self.base = 2000

    def fixed(self, rows: List[Tuple[int, List[str]]]) -> List[Tuple[int, List[str]]]:
        """Cells ordered by position score, rows sorted by their cells."""
        if not rows or not rows[0][1]:
            return rows
        scores = _position_scores([cells for _, cells in rows])
        order = sorted(range(len(scores)), key=lambda j: -scores[j])
        out = [(i, [cells[j] for j in order]) for i, cells in rows]
        out.sort(key=lambda item: item[1])
        return out

    def ggr(self, rows: List[Tuple[int, List[str]]], row_depth: int,
            col_depth: int) -> List[Tuple[int, List[str]]]:
        if not rows or not rows[0][1]:
            return rows
        if row_depth >= self.row_stop or col_depth >= self.col_stop:
            return self.fixed(rows)
        counts = Counter(c for _, cells in rows for c in cells)
        value, worth = max(((v, len(v) ** 2 * (k - 1)) for v, k in counts.items()),
                           key=lambda item: item[1])
        if worth < self.early_stop or worth <= 0:
            return self.fixed(rows)
        group, rest = [], []
        for i, cells in rows:
            if value in cells:
                tail = list(cells)
                tail.remove(value)
                group.append((i, tail))
            else:
                rest.append((i, cells))
        group = [(i, [value] + tail)
                 for i, tail in self.ggr(group, row_depth, col_depth + 1)]
        return group + self.ggr(rest, row_depth + 1, col_depth)

    def split(self, rows: List[Tuple[int, List[str]]]) -> List[Tuple[int, List[str]]]:
        """Halve until a part has at most ``base`` rows; each part is grouped alone."""
        if len(rows) <= self.base:
            return self.ggr(rows, 0, 0)
        middle = len(rows) // 2
        return self.split(rows[:middle]) + self.split(rows[middle:])

    def reorder(
        self,
        df: pd.DataFrame,
        early_stop: int = 0,
        row_stop: int = None,
        col_stop: int = None,
        col_merge: List[List[str]] = [],
        one_way_dep: List[Tuple[str, str]] = [],
        distinct_value_threshold: float = 0.8,
        parallel: bool = True,
    ) -> Tuple[pd.DataFrame, List[List[str]]]:
        df = df.copy()
        if col_merge:
            _, stats = self.calculate_col_stats(df)
            ranked = [col for col, _, _, _ in stats]
            for group in col_merge:
                df = self.merging_columns(df, [c for c in ranked if c in group])
        cells = [[_text(v) for v in row] for row in df.astype(object).values.tolist()]
        columns = [str(c) for c in df.columns]

        # Nearly unique columns cannot be shared: they go last, out of the recursion.
        limit = len(df) * distinct_value_threshold
        tail_cols = [j for j, c in enumerate(columns) if df[c].nunique() > limit]
        head_cols = [j for j in range(len(columns)) if j not in tail_cols]
        tail_scores = _position_scores([[r[j] for j in tail_cols] for r in cells]) if cells else []
        tail_cols = [j for _, j in sorted(zip(tail_scores, tail_cols), key=lambda x: -x[0])]

        rows = [(i, [r[j] for j in head_cols]) for i, r in enumerate(cells)]
        self.early_stop = early_stop
        self.row_stop = row_stop or len(rows)
        self.col_stop = col_stop or len(head_cols) + 1
        ordered = self.split(self.fixed(rows))

        out = [head + [cells[i][j] for j in tail_cols] for i, head in ordered]
        out.sort()
        names = [columns[j] for j in head_cols + tail_cols]
        return pd.DataFrame(out, columns=names), []
# EVOLVE-BLOCK-END
