"""The published ``solver.Algorithm`` base class: column statistics and column merging."""

from typing import List

import pandas as pd


class Algorithm:
    def __init__(self, df: pd.DataFrame = None):
        self.df = df

    def reorder(self, df: pd.DataFrame) -> pd.DataFrame:
        raise NotImplementedError("Subclasses should implement this!")

    @staticmethod
    def calculate_length(value):
        if isinstance(value, bool):
            size = 4
        elif isinstance(value, (int, float)):
            size = len(str(value))
        elif isinstance(value, str):
            size = len(value)
        else:
            size = 0
        return size**2

    @staticmethod
    def get_groups_values(df: pd.DataFrame):
        if df.empty:
            return {}
        counts = df.stack().value_counts()
        return {} if counts.empty else counts

    @staticmethod
    def drop_col(df: pd.DataFrame, col):
        return df.drop(columns=[col])

    @staticmethod
    def drop_rows(df: pd.DataFrame, rows):
        return df.drop(index=rows)

    @staticmethod
    def merging_columns(df: pd.DataFrame, col_names: List[str], delimiter: str = "_",
                        prepended: bool = False) -> pd.DataFrame:
        """Join ``col_names`` into one column named by joining the names with ``delimiter``;
        the values are concatenated with nothing between them."""
        if not all(col in df.columns for col in col_names):
            raise ValueError("Column names not found in DataFrame")
        if len(set(df[col_names].nunique())) != 1:
            raise ValueError(f"Columns to be merged {col_names} do not have the same number "
                             "of unique values")
        merged = delimiter.join(col_names)
        if prepended:
            df[merged] = df[col_names].apply(
                lambda x: merged + ": " + delimiter.join(str(v).split(": ", 1)[1] for v in x),
                axis=1)
        else:
            df[merged] = df[col_names].apply(lambda x: "".join(f"{v}" for v in x), axis=1)
        return df.drop(columns=col_names)

    @staticmethod
    def calculate_col_stats(df: pd.DataFrame, enable_index=False):
        """(rows, [(column, distinct values, mean length squared, score), ...]) sorted by
        score, highest first; score = mean length^2 * (rows per distinct value - 1)."""
        num_rows = len(df)
        stats = []
        for col in df.columns:
            if col == "original_index":
                continue
            distinct = df[col].nunique()
            if df[col].dtype in ("object", "string") or df[col].dtype in ("int64", "float64"):
                mean_len = df[col].astype(str).str.len().mean()
            elif df[col].dtype == "bool":
                mean_len = 4
            else:
                mean_len = 0
            mean_len = mean_len**2
            if distinct == 0 or distinct == num_rows:
                score = 0
            else:
                score = mean_len * (num_rows / distinct - 1)
            stats.append((col, distinct, mean_len, score))
        if enable_index and "original_index" in df.columns:
            stats.append(("original_index", len(df), 0, 0))
        stats.sort(key=lambda item: item[3], reverse=True)
        return num_rows, stats
