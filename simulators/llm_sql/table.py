"""A table as the metric sees it: every cell rendered as text, merged columns joined.

A cell renders as ``str(value)``, and a missing value as ""; a row's prompt is its
cells concatenated with no separator (ADRS ``evaluate_df_prefix_hit_cnt``). Columns in
a ``col_merge`` group are joined into one cell (ADRS ``Algorithm.merging_columns``),
in decreasing order of the published column score, the order the published programs
use; the listed order is accepted too.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

MAX_MERGE_ORDERS = 16


def render(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


@dataclass(frozen=True)
class Table:
    name: str
    columns: list[str]
    cells: list[list[str]]  # rendered, one list per row, in ``columns`` order
    col_merge: list[list[str]]

    @property
    def rows(self) -> int:
        return len(self.cells)


def column_scores(columns: list[str], cells: list[list[str]]) -> dict[str, float]:
    """ADRS ``calculate_col_stats`` score: (mean length)^2 * (rows per distinct value - 1),
    0 for a column whose values are all distinct."""
    n = len(cells)
    scores = {}
    for j, col in enumerate(columns):
        values = [row[j] for row in cells]
        distinct = len(set(values))
        mean_len = sum(len(v) for v in values) / n if n else 0.0
        scores[col] = 0.0 if distinct in (0, n) else mean_len**2 * (n / distinct - 1)
    return scores


def merge_orders(table: Table) -> list[list[list[str]]]:
    """The member orders accepted for the merged groups: score order, listed order."""
    scores = column_scores(table.columns, table.cells)
    choices = []
    for group in table.col_merge:
        by_score = sorted(group, key=lambda c: -scores[c])
        choices.append([by_score] if by_score == list(group) else [by_score, list(group)])
    return [list(combo) for combo in itertools.islice(itertools.product(*choices),
                                                       MAX_MERGE_ORDERS)]


def units(table: Table, groups: list[list[str]]) -> list[list[str]]:
    """Each row's cells after joining every merge group (in the given member orders)."""
    index = {c: j for j, c in enumerate(table.columns)}
    merged = {c for g in groups for c in g}
    keep = [index[c] for c in table.columns if c not in merged]
    parts = [[index[c] for c in g] for g in groups]
    return [[row[j] for j in keep] + ["".join(row[j] for j in p) for p in parts]
            for row in table.cells]


class NotAPermutation(ValueError):
    """The answer is not the input's rows, each with its cells in some order."""


def row_key(cells: list[str]) -> tuple[str, ...]:
    return tuple(sorted(cells))


def check_answer(table: Table, answer: Any) -> list[str]:
    """The answer's rows as prompts, if it is a reordering of the table's rows with the
    cells of each row reordered (merged groups joined); NotAPermutation otherwise."""
    if not isinstance(answer, list) or not all(
        isinstance(r, list) and all(isinstance(c, str) for c in r) for r in answer
    ):
        raise NotAPermutation("the answer is not a list of rows of text cells")
    if len(answer) != table.rows:
        raise NotAPermutation(f"returned {len(answer):,} rows for {table.rows:,} input rows")
    wanted = Counter(row_key(r) for r in answer)
    best: tuple[int, Counter[tuple[str, ...]]] | None = None
    for groups in merge_orders(table):
        have = Counter(row_key(r) for r in units(table, groups))
        if have == wanted:
            return ["".join(r) for r in answer]
        missing = sum((wanted - have).values())
        if best is None or missing < best[0]:
            best = (missing, have)
    assert best is not None
    have = best[1]
    width = len(units(table, merge_orders(table)[0])[0]) if table.rows else 0
    for i, row in enumerate(answer):
        key = row_key(row)
        shown = " | ".join(c[:30] for c in row[:10])
        if key not in have:
            hint = f" ({len(row)} cells; input rows have {width} with merged columns joined)" \
                if len(row) != width else ""
            raise NotAPermutation(
                f"row {i} of the answer is not an input row with its cells reordered{hint}: "
                f"{shown}")
        if have[key] <= 0:
            raise NotAPermutation(
                f"row {i} of the answer repeats an input row more often than the input "
                f"has it: {shown}")
        have[key] -= 1
    raise NotAPermutation("the answer's rows do not match the input's rows")
