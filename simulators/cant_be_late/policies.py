"""The published strategies as vectorised policies (observation -> proposal codes).

They restate, array-wise, the ADRS programs that the problem folders ship as candidate
code: the greedy safety seed (``initial_greedy.py``), Uniform Progress from the NSDI'24
paper (``referenced_up.py``) and the multi-region starter (``EvolutionaryStrategy``).
Used for reference figures and for timing the simulator; the evaluator never trusts
them in place of a candidate's own decisions.
"""

from __future__ import annotations

import numpy as np

from simulators.cant_be_late.model import NONE, ON_DEMAND, REGION_STRIDE, SPOT
from simulators.cant_be_late.replay import Observation


def greedy(obs: Observation) -> np.ndarray:
    gap = obs.gap_s
    work_left = obs.duration_s - obs.done_s
    left_ticks = np.maximum(0.0, np.floor((obs.deadline_s - obs.tick * gap) / gap))
    need1 = np.ceil((work_left + obs.overhead_s) / gap)
    need2 = np.ceil((work_left + 2 * obs.overhead_s) / gap)
    safe = np.where(obs.has_spot, SPOT, NONE)
    zone2 = np.where((obs.running == SPOT) & obs.has_spot, SPOT, ON_DEMAND)
    choice = np.where(need1 >= left_ticks, ON_DEMAND, np.where(need2 >= left_ticks, zone2, safe))
    choice = np.where(work_left <= 1e-9, NONE, choice)
    codes: np.ndarray = choice + REGION_STRIDE * obs.region
    return codes


def uniform_progress(obs: Observation) -> np.ndarray:
    c0, deadline, d = obs.duration_s, obs.deadline_s, obs.overhead_s
    remaining = c0 - obs.done_s
    t = obs.tick * obs.gap_s
    decision = np.where(obs.has_spot, SPOT, NONE)
    behind = t * c0 / deadline - (c0 - remaining) > 0
    decision = np.where(behind, np.where(obs.has_spot, SPOT, ON_DEMAND), decision)
    hysteresis = (t + 2 * d) * c0 / deadline - (c0 - remaining) >= 0
    decision = np.where((obs.running == ON_DEMAND) & hysteresis, ON_DEMAND, decision)
    need = np.ceil((remaining + d) / obs.gap_s)
    left = np.floor((deadline - t) / obs.gap_s)
    decision = np.where(obs.has_spot, SPOT, decision)
    decision = np.where(need >= left, ON_DEMAND, decision)
    decision = np.where(remaining <= 1e-3, NONE, decision)
    codes: np.ndarray = decision + REGION_STRIDE * obs.region
    return codes


def round_robin_regions(obs: Observation) -> np.ndarray:
    """The multi-region starter: behind a linear schedule, run (spot if here, else
    on-demand); ahead, take spot here or move to the next region and wait."""
    c0, r0 = obs.duration_s, obs.deadline_s
    t = obs.tick * obs.gap_s
    actual = c0 - (c0 - obs.done_s)
    behind = np.where(r0 <= t, True, np.where(t == 0, False, actual < t * (c0 / r0)))
    urgent = np.where(obs.has_spot, SPOT, ON_DEMAND)
    region = np.where(behind | obs.has_spot, obs.region, (obs.region + 1) % obs.regions)
    choice = np.where(behind, urgent, np.where(obs.has_spot, SPOT, NONE))
    done = obs.duration_s - obs.done_s <= 1e-8
    choice = np.where(done, NONE, choice)
    region = np.where(done, obs.region, region)
    codes: np.ndarray = choice + REGION_STRIDE * region
    return codes


POLICIES = {"greedy": greedy, "uniform_progress": uniform_progress,
            "round_robin_regions": round_robin_regions}
