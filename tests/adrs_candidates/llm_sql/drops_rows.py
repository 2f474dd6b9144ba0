"""Hole 1: rows can be dropped. Keeps only the rows of the most reviewed beer."""

from solver import Algorithm


class Evolved(Algorithm):
    def reorder(self, df, early_stop=0, row_stop=None, col_stop=None, col_merge=[],
                one_way_dep=[], distinct_value_threshold=0.8, parallel=True):
        top = df["beer/beerId"].value_counts().index[0]
        return df[df["beer/beerId"] == top], []
