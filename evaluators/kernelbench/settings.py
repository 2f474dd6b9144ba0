"""``evaluator_args`` of the kernelbench evaluator: parsed and checked, errors name the key."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from evaluators.kernelbench.static_gate import DEFAULT_ALLOWED_IMPORTS, GateSpec
from evolve.errors import UserError


@dataclass
class KernelBenchSettings:
    reference: str = "reference.py"
    backend: str = "triton"  # "triton": ModelNew must launch Triton kernels; "torch": any PyTorch
    class_name: str = "ModelNew"
    cpu_shapes: list[dict[str, Any]] = field(default_factory=lambda: [{}])
    gpu_shapes: list[dict[str, Any]] = field(default_factory=list)
    atol: float = 1e-5
    rtol: float = 1e-5
    gpu_atol: float | None = None
    gpu_rtol: float | None = None
    trials: int = 3  # value sets per shape checked in sequence (>= 2: one refill at least)
    deterministic: bool = True
    forbidden_ops: list[str] = field(default_factory=list)
    forbidden_aten_ops: list[str] = field(default_factory=list)
    allowed_aten_ops: list[str] = field(default_factory=list)
    allowed_imports: list[str] = field(default_factory=lambda: list(DEFAULT_ALLOWED_IMPORTS))
    forbidden_imports: list[str] = field(default_factory=list)
    device: str = "auto"  # "auto" | "cpu" | "cuda"
    memory_mb: int = 8192
    threads: int = 1
    min_correlation: float = 0.9  # outputs less correlated with the reference are rejected
    cpu_timing_repeat: int = 3
    gpu_warmup: int = 10
    gpu_repeat: int = 100
    timing_rounds: int = 2  # alternating candidate/reference/calibration processes (GPU)
    inspect_share: float = 0.1  # timed calls whose whole output is checked afterwards
    inspect_elements: int = 1 << 22  # larger outputs are checked on a keyed sample
    quarantine_speedup: float = 10.0
    gpu_max_processes: int = 64

    def tolerance(self, device: str) -> tuple[float, float]:
        if device == "cpu":
            return self.atol, self.rtol
        return (self.gpu_atol if self.gpu_atol is not None else self.atol,
                self.gpu_rtol if self.gpu_rtol is not None else self.rtol)

    def gate_spec(self) -> GateSpec:
        return GateSpec(backend=self.backend, forbidden_ops=list(self.forbidden_ops),
                        allowed_imports=tuple(self.allowed_imports),
                        forbidden_imports=list(self.forbidden_imports),
                        class_name=self.class_name)


def _where(key: str) -> str:
    return f"evaluator_args.{key}"


# Keys of earlier versions, with what replaced them.
REMOVED = {
    "timing_sets": "every timed call now gets inputs from its own key; remove the key",
    "l2_flush_mb": ("the L2 cache is no longer flushed by code in the candidate's process "
                    "(docs/problems/kernelbench.md); remove the key"),
}


def _shape_list(value: Any, key: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise UserError("expected a list of mappings like {rows: 4, cols: 64}", _where(key))
    for i, shape in enumerate(value):
        for name, size in shape.items():
            if (not isinstance(name, str) or isinstance(size, bool)
                    or not isinstance(size, (int, float, str))):
                raise UserError(f"entry {i}: {name!r} must map to a number or string",
                                _where(key))
    return [dict(v) for v in value]


def parse_settings(args: dict[str, Any]) -> KernelBenchSettings:
    """Build settings from ``evaluator_args``; unknown keys and bad values raise UserError."""
    settings = KernelBenchSettings()
    known = set(KernelBenchSettings.__dataclass_fields__) - {"cpu_shapes", "gpu_shapes"}
    for key, value in args.items():
        if key == "shapes":
            if isinstance(value, list):
                settings.cpu_shapes = _shape_list(value, "shapes")
            elif isinstance(value, dict):
                unknown = set(value) - {"cpu", "gpu"}
                if unknown:
                    raise UserError(f"unknown keys {sorted(unknown)} (expected cpu, gpu)",
                                    _where("shapes"))
                if "cpu" in value:
                    settings.cpu_shapes = _shape_list(value["cpu"], "shapes.cpu")
                if "gpu" in value:
                    settings.gpu_shapes = _shape_list(value["gpu"], "shapes.gpu")
            else:
                raise UserError("expected {cpu: [...], gpu: [...]} or a list of shapes",
                                _where("shapes"))
            continue
        if key in REMOVED:
            raise UserError(f"no longer used: {REMOVED[key]}", _where(key))
        if key not in known:
            raise UserError(f"unknown argument (known: {', '.join(sorted(known | {'shapes'}))})",
                            _where(key))
        default = getattr(settings, key)
        setattr(settings, key, _coerce(value, default, key))
    _check(settings)
    return settings


def _coerce(value: Any, default: Any, key: str) -> Any:
    if key in ("gpu_atol", "gpu_rtol"):
        if value is None:
            return None
        default = 0.0
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise UserError(f"expected true or false, got {value!r}", _where(key))
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise UserError(f"expected an integer, got {value!r}", _where(key))
        return value
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise UserError(f"expected a number, got {value!r}", _where(key))
        return float(value)
    if isinstance(default, list):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise UserError("expected a list of strings", _where(key))
        return list(value)
    if not isinstance(value, str):
        raise UserError(f"expected a string, got {value!r}", _where(key))
    return value


def _check(s: KernelBenchSettings) -> None:
    if s.backend not in ("triton", "torch"):
        raise UserError(f"expected 'triton' or 'torch', got {s.backend!r}", _where("backend"))
    if s.device not in ("auto", "cpu", "cuda"):
        raise UserError(f"expected 'auto', 'cpu' or 'cuda', got {s.device!r}", _where("device"))
    if s.trials < 2:
        raise UserError("must be at least 2 (the in-place refill check needs a second value set)",
                        _where("trials"))
    for key in ("atol", "rtol", "gpu_atol", "gpu_rtol"):
        value = getattr(s, key)
        if value is not None and value < 0:
            raise UserError("must not be negative", _where(key))
    for key in ("cpu_timing_repeat", "gpu_repeat", "threads", "timing_rounds",
                "inspect_elements"):
        if getattr(s, key) < 1:
            raise UserError("must be at least 1", _where(key))
    if s.gpu_repeat < 100 and s.gpu_shapes:
        raise UserError("must be at least 100 (median of >= 100 timed calls)", _where("gpu_repeat"))
    if s.gpu_warmup < 0:
        raise UserError("must not be negative", _where("gpu_warmup"))
    if not 0 < s.inspect_share <= 1:
        raise UserError("must be in (0, 1]", _where("inspect_share"))
    if not -1 <= s.min_correlation <= 1:
        raise UserError("must be in [-1, 1]", _where("min_correlation"))
    if s.quarantine_speedup <= 1:
        raise UserError("must be greater than 1", _where("quarantine_speedup"))
    if not s.cpu_shapes:
        raise UserError("needs at least one shape", _where("shapes.cpu"))
