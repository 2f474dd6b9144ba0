"""Hole 1: the output is never compared with the input. Returns the first row 28,479
times: every prompt after the first is a full cache hit (hit rate ~1.0)."""

import pandas as pd
from solver import Algorithm


class Evolved(Algorithm):
    def reorder(self, df, early_stop=0, row_stop=None, col_stop=None, col_merge=[],
                one_way_dep=[], distinct_value_threshold=0.8, parallel=True):
        return pd.DataFrame([df.iloc[0].tolist()] * len(df), columns=df.columns), []
