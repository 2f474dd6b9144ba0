"""Inputs and models of a KernelBench-format reference, built on any device.

Shipped into the sandbox as ``kb_inputs.py`` (the harness builds every input there, from
a per-call key) and used on the trusted side only on PyTorch's ``meta`` device, which
records shapes and allocates nothing. It imports nothing from ``evolve``.

A *shape* is a mapping of size names to values. A name that ``get_inputs`` or
``get_init_inputs`` takes as a keyword argument is passed to it; any other name must be
a module-level variable of the reference (KernelBench files keep their sizes there:
``batch_size = 4096``), which is set before the functions run. ``.cuda()`` and
``device="cuda"`` in the reference map to the evaluation device.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

import torch
from torch.overrides import TorchFunctionMode

_ORIGINAL_GLOBALS = "__kb_original_globals__"


class DeviceMap(TorchFunctionMode):
    """Sends tensors that the code asks to put on CUDA to ``device`` instead."""

    def __init__(self, device: str) -> None:
        super().__init__()
        self.device = torch.device(device)

    def _map(self, value: Any) -> Any:
        if isinstance(value, (str, torch.device)):
            try:
                if torch.device(value).type == "cuda":
                    return self.device
            except (RuntimeError, TypeError):
                return value
        return value

    def __torch_function__(self, func: Any, types: Any, args: tuple[Any, ...] = (),
                           kwargs: dict[str, Any] | None = None) -> Any:
        kwargs = dict(kwargs or {})
        if func is torch.Tensor.cuda:
            return args[0].to(self.device)
        if "device" in kwargs:
            kwargs["device"] = self._map(kwargs["device"])
        if func is torch.Tensor.to:
            args = tuple(self._map(a) for a in args)
        return func(*args, **kwargs)


@contextmanager
def on_device(device: str) -> Iterator[None]:
    """New tensors default to ``device``; CUDA requests map to it."""
    with torch.device(device), DeviceMap(device):
        yield


def _parameters(fn: Any) -> tuple[set[str], bool]:
    params = inspect.signature(fn).parameters.values()
    names = {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    return names, any(p.kind is p.VAR_KEYWORD for p in params)


def unknown_names(module: ModuleType, shape: dict[str, Any]) -> list[str]:
    """Names in ``shape`` that are neither a keyword of the reference's functions nor a
    module-level variable it defines."""
    accepted: set[str] = set()
    for fn in (module.get_inputs, module.get_init_inputs):
        names, takes_any = _parameters(fn)
        if takes_any:
            return []
        accepted |= names
    return [k for k in shape if k not in accepted and not hasattr(module, k)]


def set_sizes(module: ModuleType, sizes: dict[str, Any]) -> None:
    """Set the module-level variables named in ``sizes`` that ``module`` defines; every
    variable set earlier goes back to the file's value first."""
    original: dict[str, Any] = module.__dict__.setdefault(_ORIGINAL_GLOBALS, {})
    for name, value in original.items():
        setattr(module, name, value)
    for name, value in sizes.items():
        if hasattr(module, name):
            original.setdefault(name, getattr(module, name))
            setattr(module, name, value)


def apply_shape(module: ModuleType, shape: dict[str, Any]
                ) -> tuple[dict[str, Any], dict[str, Any]]:
    """Set the module-level sizes of ``shape`` (the others back to the file's values) and
    return the keyword arguments for ``get_inputs`` and ``get_init_inputs``."""
    kwargs: list[dict[str, Any]] = []
    for fn in (module.get_inputs, module.get_init_inputs):
        names, takes_any = _parameters(fn)
        kwargs.append({k: v for k, v in shape.items() if takes_any or k in names})
    set_sizes(module, module_sizes(module, shape))
    return kwargs[0], kwargs[1]


def module_sizes(module: ModuleType, shape: dict[str, Any]) -> dict[str, Any]:
    """The entries of ``shape`` that are module-level variables, not function arguments."""
    accepted: set[str] = set()
    for fn in (module.get_inputs, module.get_init_inputs):
        names, takes_any = _parameters(fn)
        if takes_any:
            return {}
        accepted |= names
    return {k: v for k, v in shape.items() if k not in accepted}


def make_inputs(module: ModuleType, kwargs: dict[str, Any], key: int, device: str) -> list[Any]:
    """``get_inputs(**kwargs)`` with the torch RNG seeded by ``key``, built on ``device``."""
    torch.manual_seed(key)
    with on_device(device):
        values = list(module.get_inputs(**kwargs))
    return [v.contiguous() if isinstance(v, torch.Tensor) else v for v in values]


def make_init_inputs(module: ModuleType, kwargs: dict[str, Any], device: str) -> list[Any]:
    with on_device(device):
        return list(module.get_init_inputs(**kwargs))


def build_model(cls: Any, init_inputs: list[Any], init_seed: int, device: str) -> Any:
    """``cls(*init_inputs)`` with the torch RNG seeded by ``init_seed``, on ``device`` (the
    candidate's model and the reference are built alike, so random parameters match)."""
    torch.manual_seed(init_seed)
    with on_device(device):
        model = cls(*init_inputs)
    return model.to(device) if isinstance(model, torch.nn.Module) else model


def element_count(module: ModuleType, shape: dict[str, Any], require_model: bool = False
                  ) -> int:
    """Elements of the inputs and of the model's parameters at ``shape``, counted on the
    meta device (nothing is allocated); the model's are left out when it cannot be built
    there, unless ``require_model``. Module-level sizes are restored afterwards."""
    try:
        input_kw, init_kw = apply_shape(module, shape)
        with torch.random.fork_rng(devices=[]):
            inputs = make_inputs(module, input_kw, 0, "meta")
            count = sum(v.numel() for v in inputs if isinstance(v, torch.Tensor))
            try:
                model = build_model(module.Model, make_init_inputs(module, init_kw, "meta"), 0,
                                    "meta")
            except Exception:  # noqa: BLE001 - a model that cannot be built on meta
                if require_model:
                    raise
                return int(count)
        if isinstance(model, torch.nn.Module):
            count += sum(p.numel() for p in model.parameters())
            count += sum(b.numel() for b in model.buffers())
        return int(count)
    finally:
        apply_shape(module, {})
