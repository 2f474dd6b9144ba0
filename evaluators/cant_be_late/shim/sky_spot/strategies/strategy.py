"""The published ``Strategy`` base class: state a strategy reads, set by ``reset``.

The driver advances runs itself (observation, progress, guarantee, billing) and calls
only ``_from_args``, ``reset``, ``_step`` and ``_before_decision_hook``; ``step`` and
``_apply_strong_guarantee`` are kept for strategies that call them, but overriding them
changes nothing: the trusted side applies the guarantee to every decision.
"""

import math
import typing

from sky_spot import task as task_lib
from sky_spot.utils import ClusterType


class Strategy:
    NAME = "abstract"
    SUBCLASSES: typing.Dict[str, type] = {}

    def __init__(self, args) -> None:
        self.args = args

    def __init_subclass__(cls) -> None:
        cls.SUBCLASSES[cls.NAME] = cls

    def reset(self, env, task) -> None:
        args = self.args
        self.task = task
        self.deadline = args.deadline_hours * 3600
        self.task_duration = self.task.get_total_duration_seconds()
        self.restart_overheads = [oh * 3600 for oh in args.restart_overhead_hours]
        self.restart_overhead = self.restart_overheads[0]
        self.inter_task_overheads = [oh * 3600 for oh in getattr(args, "inter_task_overhead", [0.0])]
        self.inter_task_overhead = self.inter_task_overheads[0]
        self.task_done_time = []
        self.task.set_progress_source(self.task_done_time)
        self.remaining_restart_overhead = 0.0
        self.remaining_inter_task_overhead = 0
        self._last_known_subtask_index = -1
        self.env = env

    def _apply_strong_guarantee(self, proposed_decision, last_cluster_type):
        gap = self.env.gap_seconds
        remaining_time = math.floor((self.deadline - self.env.elapsed_seconds) / gap) * gap
        remaining_task_time = self.task_duration - sum(self.task_done_time)
        if remaining_task_time <= 1e-3:
            return proposed_decision
        total = math.ceil((remaining_task_time + self.restart_overhead) / gap) * gap
        if total >= remaining_time:
            if last_cluster_type == ClusterType.SPOT and self.remaining_restart_overhead < 1e-3:
                return ClusterType.SPOT
            return ClusterType.ON_DEMAND
        return proposed_decision

    def _before_decision_hook(self, last_cluster_type, request_type) -> None:
        pass

    def step(self):
        raise NotImplementedError("the evaluation advances runs itself; implement _step")

    def _step(self, last_cluster_type, has_spot):
        raise NotImplementedError

    @property
    def task_done(self) -> bool:
        return self.task.is_done

    @property
    def name(self) -> str:
        return self.NAME

    @property
    def config(self) -> dict:
        return {"name": self.NAME, "deadline": self.deadline,
                "task_duration": self.task_duration, "restart_overhead": self.restart_overhead}

    def info(self) -> dict:
        return {"Strategy/RemainingRestartOverhead(seconds)": self.remaining_restart_overhead}

    @classmethod
    def get(cls, name: str):
        return cls.SUBCLASSES[name]

    @classmethod
    def _from_args(cls, parser):
        raise NotImplementedError


def _multi_region_strategy():
    from sky_spot.strategies.multi_strategy import MultiRegionStrategy

    return MultiRegionStrategy


def __getattr__(name: str):
    if name == "MultiRegionStrategy":
        return _multi_region_strategy()
    raise AttributeError(name)
