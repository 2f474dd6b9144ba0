"""Trusted wrapper run as the sandbox program (candidate: ``candidate_program.py`` beside
it, with ``harness_support.py``, ``solver.py``, ``utils.py`` and the table as CSV).

Three calls, so that the sandbox's clock times the candidate's ``reorder`` alone:
``load`` reads the table with pandas as the published evaluator does, ``run`` calls
``Evolved().reorder(df, ...)`` with the published arguments, ``answer`` renders the
returned frame's rows as text cells. The evaluator checks on the trusted side that
those rows are the input's rows with their cells reordered, and scores them there.

The sandbox cannot create processes (nor the semaphores a process pool needs), so
``concurrent.futures.ProcessPoolExecutor`` is a thread pool here: the published
program submits its halves to a process pool, and gets the same answers from threads.
"""

from __future__ import annotations

import concurrent.futures
from typing import Any

import pandas as pd
from harness_support import load_candidate, seed_generators

vars(concurrent.futures)["ProcessPoolExecutor"] = concurrent.futures.ThreadPoolExecutor

_STATE: dict[str, Any] = {}


def load(csv_name: str, seed: int) -> list[int]:
    seed_generators(seed)
    _STATE["df"] = pd.read_csv(csv_name)
    _STATE["result"] = None
    return list(_STATE["df"].shape)


def run(col_merge: list[list[str]]) -> None:
    evolved = getattr(load_candidate(__file__), "Evolved", None)
    if not isinstance(evolved, type):
        raise AttributeError("the program defines no class Evolved")
    _STATE["result"] = evolved().reorder(
        _STATE["df"], early_stop=100000, distinct_value_threshold=0.7, row_stop=4,
        col_stop=2, col_merge=col_merge,
    )


def _text(value: Any) -> str:
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float) and value != value:
        return ""
    return str(value)


def answer() -> list[list[str]]:
    result = _STATE["result"]
    frame = result[0] if isinstance(result, tuple) and result else result
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"reorder must return (DataFrame, ...), got {type(frame).__name__}")
    return [[_text(v) for v in row] for row in frame.astype(object).values.tolist()]
