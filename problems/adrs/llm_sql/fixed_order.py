"""One column order for every row: columns by score (long values shared by many rows
first), rows sorted. The fallback GGR uses past its depth limits, used alone."""

from typing import List, Tuple

import pandas as pd
from solver import Algorithm


# EVOLVE-BLOCK-START
class Evolved(Algorithm):
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
        _, stats = self.calculate_col_stats(df)
        ranked = [col for col, _, _, _ in stats]
        for group in col_merge:
            df = self.merging_columns(df, [c for c in ranked if c in group])
        _, stats = self.calculate_col_stats(df)
        order = [col for col, _, _, _ in stats]
        text = df[order].astype(object).where(df[order].notna(), "").astype(str)
        return text.sort_values(by=order).reset_index(drop=True), []
# EVOLVE-BLOCK-END
