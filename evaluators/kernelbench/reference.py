"""The problem's reference file on the trusted side: checked, never run at real sizes.

A reference file follows KernelBench: ``Model`` (an ``nn.Module`` with ``forward``),
``get_inputs()`` and ``get_init_inputs()``. Sizes come either as keyword arguments of
those functions (``get_inputs(rows=4, cols=64)``) or as module-level variables
(``batch_size = 4096``); a shape entry names either kind (``evaluators.kernelbench.inputs``).

The trusted process imports the file (problem code, trusted), checks that every shape
names something the file has, and counts elements on PyTorch's meta device. Inputs,
models and outputs are built only inside sandbox processes, from per-call keys.
"""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

from evaluators.kernelbench import inputs
from evolve.errors import UserError


class Reference:
    """Loads ``reference.py`` once; its source is shipped into every sandbox process."""

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

    def check_shape(self, shape: dict[str, Any], where: str) -> None:
        unknown = inputs.unknown_names(self.module, shape)
        if unknown:
            raise UserError(f"{unknown[0]!r} is neither an argument of get_inputs/"
                            f"get_init_inputs nor a module-level variable of "
                            f"{self.path.name}", where)

    def element_count(self, shape: dict[str, Any], require_model: bool = False) -> int | None:
        """Elements of inputs and parameters at ``shape`` (meta device), or None when the
        reference cannot be sized that way (or, with ``require_model``, its model cannot
        be built there)."""
        try:
            return inputs.element_count(self.module, shape, require_model)
        except Exception:  # noqa: BLE001 - e.g. data-dependent code in get_inputs
            return None
