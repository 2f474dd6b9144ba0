"""Ignores col_merge: the beer id and name stay separate cells (which lets the name
lead a row on its own)."""

from solver import Algorithm


class Evolved(Algorithm):
    def reorder(self, df, early_stop=0, row_stop=None, col_stop=None, col_merge=[],
                one_way_dep=[], distinct_value_threshold=0.8, parallel=True):
        order = ["beer/name", "beer/style", "review/overall", "review/taste", "review/palate",
                 "review/appearance", "beer/beerId", "review/time", "review/profileName"]
        return df[order].sort_values(order), []
