"""Trusted wrapper run as the sandbox program (candidate: ``candidate_program.py`` beside
it, with ``harness_support.py``).

Calls the candidate's ``run_repair(telemetry, topology)`` and passes back, per interface
id, only the three scored fields; the evaluator checks their shape and scores them
against the truth, which never enters this process.
"""

from __future__ import annotations

from typing import Any

from harness_support import function, load_candidate, seed_generators

FIELDS = ("rx_rate", "tx_rate", "interface_status")


def repair(telemetry: dict[str, Any], topology: dict[str, list[str]], seed: int) -> dict[str, Any]:
    seed_generators(seed)
    run_repair = function(load_candidate(__file__), "run_repair")
    result = run_repair(telemetry, topology)
    if not isinstance(result, dict):
        raise TypeError(
            "run_repair must return a dict interface_id -> repaired fields, "
            f"got {type(result).__name__}"
        )
    out: dict[str, Any] = {}
    for key, fields in dict.items(result):
        name = str.__str__(key) if isinstance(key, str) else repr(key)[:60]
        if isinstance(fields, dict):
            out[name] = {f: dict.get(fields, f) for f in FIELDS}
        else:
            out[name] = f"<{type(fields).__name__}>"
    return out
