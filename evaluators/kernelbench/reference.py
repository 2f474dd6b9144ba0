"""The problem's reference (trusted code shipped with the problem) on the trusted side.

A reference file follows KernelBench: ``Model`` (an ``nn.Module`` with ``forward``),
``get_inputs()`` and ``get_init_inputs()``. Both functions may take keyword arguments
named after shape parameters (``get_inputs(rows=4, cols=64)``); the evaluator passes the
subset of a shape entry each function accepts, so KernelBench files with no arguments
work unchanged (with no shapes configured).
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
from pathlib import Path
from types import ModuleType
from typing import Any

from evolve.errors import UserError


def _accepted_kwargs(fn: Any, shape: dict[str, Any]) -> dict[str, Any]:
    params = inspect.signature(fn).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return dict(shape)
    return {k: v for k, v in shape.items() if k in params}


class Reference:
    """Loads ``reference.py`` once and produces inputs and expected outputs."""

    def __init__(self, path: Path, where: str) -> None:
        if not path.is_file():
            raise UserError(f"reference file not found: {path}", where)
        self.path = path
        self.source = path.read_text(encoding="utf-8")
        digest = hashlib.sha1(str(path).encode()).hexdigest()[:12]
        spec = importlib.util.spec_from_file_location(f"_kernelbench_reference_{digest}", path)
        if spec is None or spec.loader is None:
            raise UserError(f"cannot load reference file {path}", where)
        module: ModuleType = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
        except Exception as exc:  # noqa: BLE001 - a broken reference is the problem author's
            raise UserError(f"reference file failed to import: {type(exc).__name__}: {exc}",
                            where) from None
        for name in ("Model", "get_inputs", "get_init_inputs"):
            if not hasattr(module, name):
                raise UserError(f"reference file {path.name} must define {name}", where)
        self.module = module

    def init_inputs(self, shape: dict[str, Any]) -> list[Any]:
        fn = self.module.get_init_inputs
        return list(fn(**_accepted_kwargs(fn, shape)))

    def inputs(self, shape: dict[str, Any], seed: int) -> list[Any]:
        """Fresh inputs for ``shape`` drawn from the global torch RNG seeded with ``seed``
        (the RNG state of this process is restored afterwards)."""
        import torch

        fn = self.module.get_inputs
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            values = list(fn(**_accepted_kwargs(fn, shape)))
        return [v.contiguous() if isinstance(v, torch.Tensor) else v for v in values]

    def build(self, shape: dict[str, Any], init_seed: int, device: str) -> Any:
        import torch

        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(init_seed)
            model = self.module.Model(*self.init_inputs(shape))
        return model.to(device) if isinstance(model, torch.nn.Module) else model

    def forward(self, model: Any, inputs: list[Any], device: str) -> list[Any]:
        """Reference outputs (as a list of CPU tensors) for ``inputs``."""
        import torch

        args = [v.to(device).clone() if isinstance(v, torch.Tensor) else v for v in inputs]
        with torch.no_grad():
            out = model(*args)
        outs = list(out) if isinstance(out, (tuple, list)) else [out]
        return [o.detach().cpu() for o in outs]
