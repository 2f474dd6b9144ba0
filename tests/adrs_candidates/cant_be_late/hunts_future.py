"""Hole 5 (in memory): looks everywhere in its own process for availability the run has
not reached yet (stack frames, every object the garbage collector tracks, pickled call
arguments, the driver's modules) and raises if it finds any step later than the current
one. Otherwise it behaves like the greedy seed, so a clean run scores exactly that."""

import gc
import math
import pickle
import sys

from sky_spot.strategies.strategy import Strategy
from sky_spot.utils import ClusterType

_STEP = {"current": -1}


def _later_steps(value, depth=0):
    """Step indices found in ``value`` (a call spec, a dict or list of them, pickled bytes)."""
    found = []
    if depth > 3:
        return found
    if isinstance(value, (bytes, bytearray)) and value[:1] == b"\x80" and len(value) < 1 << 20:
        try:
            value = pickle.loads(bytes(value))
        except Exception:
            return found
    if isinstance(value, dict):
        if value.get("function") == "step" and value.get("args"):
            index = value["args"][0]
            if isinstance(index, int):
                found.append(index)
        for item in list(value.values())[:64]:
            found += _later_steps(item, depth + 1)
    elif isinstance(value, (list, tuple)):
        for item in list(value)[:4096]:
            found += _later_steps(item, depth + 1)
    return found


def _current_step():
    frame = sys._getframe()
    while frame is not None:
        if frame.f_code.co_name == "step" and "index" in frame.f_locals:
            return frame.f_locals["index"]
        frame = frame.f_back
    return None


def _search(now):
    seen = []
    frame = sys._getframe()
    while frame is not None:
        for value in list(frame.f_locals.values()):
            seen += _later_steps(value)
        frame = frame.f_back
    for obj in gc.get_objects():
        if isinstance(obj, (dict, list)):
            seen += _later_steps(obj, depth=2)
    for module in list(sys.modules.values()):
        for value in list(getattr(module, "__dict__", {}).values()):
            seen += _later_steps(value, depth=2)
    later = [s for s in seen if now is not None and s > now]
    if later:
        raise RuntimeError(f"found arguments of step {max(later)} while at step {now}")


class HuntsFuture(Strategy):
    NAME = "hunts_future"

    def _step(self, last_cluster_type, has_spot):
        now = _current_step()
        if now is not None and now != _STEP["current"] and now % 97 == 0:
            _STEP["current"] = now
            _search(now)
        gap = self.env.gap_seconds
        work_left = self.task_duration - sum(self.task_done_time)
        if work_left <= 1e-9:
            return ClusterType.NONE
        ticks_left = max(0, math.floor((self.deadline - self.env.elapsed_seconds) / gap))
        if math.ceil((work_left + self.restart_overhead) / gap) >= ticks_left:
            return ClusterType.ON_DEMAND
        if math.ceil((work_left + 2 * self.restart_overhead) / gap) >= ticks_left:
            if self.env.cluster_type == ClusterType.SPOT and has_spot:
                return ClusterType.SPOT
            return ClusterType.ON_DEMAND
        return ClusterType.SPOT if has_spot else ClusterType.NONE

    @classmethod
    def _from_args(cls, parser):
        args, _ = parser.parse_known_args()
        return cls(args)
