"""Merges the col_merge groups in the order listed (id then name) instead of by column
score; otherwise the fixed column order. Accepted: both orders join the same cells."""

from solver import Algorithm


class Evolved(Algorithm):
    def reorder(self, df, early_stop=0, row_stop=None, col_stop=None, col_merge=[],
                one_way_dep=[], distinct_value_threshold=0.8, parallel=True):
        for group in col_merge:
            df = self.merging_columns(df, list(group))
        _, stats = self.calculate_col_stats(df)
        order = [col for col, _, _, _ in stats]
        return df[order].sort_values(order), []
