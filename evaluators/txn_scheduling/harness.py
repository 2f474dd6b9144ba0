"""Trusted wrapper run as the sandbox program (candidate: ``candidate_program.py`` beside
it, with ``harness_support.py``, and ``txn_simulator.py`` and ``workloads.py`` for the
ADRS imports).

It seeds the random generators, calls the candidate's ``get_random_costs()`` and passes
back only the schedules and the makespan the candidate reports; the evaluator recomputes
every makespan itself and ignores the reported one except to show it.
"""

from __future__ import annotations

from typing import Any

from harness_support import function, load_candidate, seed_generators


def schedules(seed: int) -> dict[str, Any]:
    seed_generators(seed)
    value = function(load_candidate(__file__), "get_random_costs")()
    if not isinstance(value, (tuple, list)) or len(value) != 3:
        raise TypeError(
            "get_random_costs() must return (makespan, schedules, time_taken), "
            f"got {type(value).__name__}"
            + (f" of length {len(value)}" if isinstance(value, (tuple, list)) else "")
        )
    reported = value[0]
    if isinstance(reported, bool) or not isinstance(reported, (int, float)):
        reported = None
    return {"schedules": value[1], "reported_makespan": reported}
