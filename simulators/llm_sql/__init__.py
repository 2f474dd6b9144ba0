"""LLM-SQL prefix reuse (ADRS ``llm_sql``): order each row's cells, and the rows, so that
prompts built from the rows share long prefixes. The metric (``prefix``), the table as
the metric sees it with the permutation check (``table``) and seeded holdout tables
(``synthetic``). Pure: imports nothing from ``evolve``."""

from __future__ import annotations

from simulators.llm_sql.prefix import prefix_hits, trie_hits
from simulators.llm_sql.synthetic import HOLDOUT_TABLES, TableSpec, make_csv
from simulators.llm_sql.table import NotAPermutation, Table, check_answer, column_scores, render

__all__ = ["HOLDOUT_TABLES", "NotAPermutation", "Table", "TableSpec", "check_answer",
           "column_scores", "make_csv", "prefix_hits", "render", "trie_hits"]
