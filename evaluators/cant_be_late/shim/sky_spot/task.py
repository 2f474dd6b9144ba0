"""A job of fixed length whose progress is the strategy's ``task_done_time`` list."""


class Task:
    def __init__(self, config: dict) -> None:
        self._config = config
        self._progress_source_list: list = []

    def set_progress_source(self, task_done_time_list: list) -> None:
        self._progress_source_list = task_done_time_list

    def get_current_progress_seconds(self) -> float:
        return sum(self._progress_source_list or [])

    def get_remaining_duration_seconds(self) -> float:
        return max(0.0, self.get_total_duration_seconds() - self.get_current_progress_seconds())

    def get_total_duration_hours(self) -> float:
        return self.get_total_duration_seconds() / 3600.0

    def get_total_duration_seconds(self) -> float:
        raise NotImplementedError

    def get_config(self) -> dict:
        return self._config


class SingleTask(Task):
    def __init__(self, config: dict) -> None:
        self._duration_seconds = float(config["duration"]) * 3600.0
        super().__init__(config)

    @property
    def is_done(self) -> bool:
        return self.get_remaining_duration_seconds() <= 1e-8

    def get_total_duration_seconds(self) -> float:
        return self._duration_seconds

    def get_info(self) -> dict:
        return {"task_type": "SingleTask", "Done(seconds)": self.get_current_progress_seconds(),
                "Remaining(seconds)": self.get_remaining_duration_seconds(),
                "task_is_done": self.is_done, "Target(seconds)": self._duration_seconds}

    def __str__(self) -> str:
        return f"SingleTask({self.get_total_duration_hours():.1f}h)"


class ChainedTask(Task):
    """Present so ``isinstance(task, ChainedTask)`` works; runs here are single tasks."""
