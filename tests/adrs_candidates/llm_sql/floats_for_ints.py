"""Changes a cell's text: the integer timestamps become floats ('1157587200.0'), longer
strings that share more characters."""

from solver import Algorithm


class Evolved(Algorithm):
    def reorder(self, df, early_stop=0, row_stop=None, col_stop=None, col_merge=[],
                one_way_dep=[], distinct_value_threshold=0.8, parallel=True):
        out = df.copy()
        for group in col_merge:
            out = self.merging_columns(out, group)
        out["review/time"] = out["review/time"].astype(float)
        return out.sort_values(list(out.columns)), []
