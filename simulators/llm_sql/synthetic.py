"""Seeded relational tables for holdout scoring: other column names, cardinalities,
value lengths and merge groups than the published beer table.

Each column draws from a vocabulary of made-up words with Zipf-like popularity; a merge
group is a key column with the columns that are functions of it (one value each per
key), as ``col_merge`` requires. The CSV text is what both sides read.
"""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass

SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "ba", "do", "fi", "gu",
             "ha", "je", "ko", "lu", "ma", "no", "pe", "qui", "ra", "so", "tu", "wi", "xa"]


@dataclass(frozen=True)
class Column:
    name: str
    distinct: int  # size of the vocabulary
    words: tuple[int, int] = (1, 2)  # made-up words per value
    kind: str = "text"  # "text", "int" or "fraction" (k/n)
    skew: float = 1.1  # Zipf exponent of popularity
    missing: float = 0.0  # share of empty cells
    key: str = ""  # a function of this column's value (merge group) instead of drawn


@dataclass(frozen=True)
class TableSpec:
    name: str
    rows: int
    columns: tuple[Column, ...]
    col_merge: tuple[tuple[str, ...], ...] = ()


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize()


def _vocabulary(rng: random.Random, col: Column) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < col.distinct:
        if col.kind == "int":
            value = str(rng.randint(10**8, 2 * 10**9))
        elif col.kind == "fraction":
            scale = rng.choice((5, 10, 20))
            value = f"{rng.randint(1, scale)}/{scale}"
        else:
            value = " ".join(_word(rng) for _ in range(rng.randint(*col.words)))
        if value not in seen:
            seen.add(value)
            out.append(value)
    return out


def make_csv(spec: TableSpec, seed: int) -> str:
    rng = random.Random(f"{spec.name}/{seed}")
    vocab = {c.name: _vocabulary(rng, c) for c in spec.columns}
    weights = {c.name: [1.0 / (i + 1) ** c.skew for i in range(c.distinct)]
               for c in spec.columns}
    drawn: dict[str, list[int]] = {}
    for c in spec.columns:
        if not c.key:
            drawn[c.name] = rng.choices(range(c.distinct), weights[c.name], k=spec.rows)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([c.name for c in spec.columns])
    for r in range(spec.rows):
        row = []
        for c in spec.columns:
            index = drawn[c.key][r] if c.key else drawn[c.name][r]
            value = vocab[c.name][index % c.distinct]
            row.append("" if c.missing and rng.random() < c.missing else value)
        writer.writerow(row)
    return out.getvalue()


HOLDOUT_TABLES = {
    "shop_reviews": TableSpec("shop_reviews", 6000, (
        Column("reviewer", 1500, (1, 2)),
        Column("review/date", 700, kind="int", skew=0.6),
        Column("review/rating", 5, kind="fraction", skew=0.4),
        Column("product/id", 400, kind="int"),
        Column("product/title", 400, (2, 5), key="product/id"),
        Column("product/category", 25, (1, 2), skew=0.8),
        Column("review/headline", 5500, (2, 4), skew=0.1),
    ), (("product/id", "product/title"),)),
    "support_tickets": TableSpec("support_tickets", 5000, (
        Column("customer", 900, (1, 2)),
        Column("plan", 4, (1, 1), skew=0.5),
        Column("region/code", 12, kind="int", skew=0.7),
        Column("region/name", 12, (1, 3), key="region/code"),
        Column("priority", 4, (1, 1), skew=0.3),
        Column("status", 5, (1, 1), skew=0.6),
        Column("agent", 60, (1, 2), missing=0.1),
        Column("created", 4000, kind="int", skew=0.05),
        Column("subject", 4800, (3, 6), skew=0.05),
    ), (("region/code", "region/name"),)),
}
