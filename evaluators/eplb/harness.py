"""Trusted wrapper shipped into the sandbox child, around the candidate module.

The evaluator runs this file as the sandbox program and ships the candidate as
``candidate_program.py`` next to it. It adds what the candidate's own return value
cannot tell: whether the call modified its input tensor. The candidate runs in the
same process and could tamper with this wrapper, but it could then only hide a
modification of its own copy of the input; the trusted side scores against its own
copy of every window, so the score stays correct. Every call, planned or timed, goes
through ``checked_rebalance``, so the candidate cannot tell them apart; the timing
itself is done outside this process, by the sandbox zygote.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from typing import Any

import torch

CANDIDATE_FILE = "candidate_program.py"
FUNCTION = "rebalance_experts"

_spec = importlib.util.spec_from_file_location(
    "eplb_candidate", os.path.join(os.path.dirname(os.path.abspath(__file__)), CANDIDATE_FILE)
)
if _spec is None or _spec.loader is None:
    raise ImportError(f"cannot load {CANDIDATE_FILE}")
candidate = importlib.util.module_from_spec(_spec)
sys.modules["eplb_candidate"] = candidate
_spec.loader.exec_module(candidate)


def _function() -> Any:
    function = getattr(candidate, FUNCTION, None)
    if not callable(function):
        raise AttributeError(f"the program defines no function {FUNCTION}()")  # noqa: TRY004
    return function


def checked_rebalance(
    weight: torch.Tensor, num_replicas: int, num_groups: int, num_nodes: int, num_gpus: int
) -> dict[str, Any]:
    """Call the candidate once; report its result and whether ``weight`` changed."""
    original = weight.clone()
    result = _function()(weight, num_replicas, num_groups, num_nodes, num_gpus)
    unchanged = (
        isinstance(weight, torch.Tensor)
        and weight.dtype == original.dtype
        and weight.shape == original.shape
        and bool(torch.equal(weight, original))
    )
    return {"result": result, "input_mutated": not unchanged}

