"""Trusted harness that runs inside a sandbox child (it is the sandbox's *program*).

The evaluator ships this file as the program, with the model file (the candidate's
``model_new.py``, or the reference itself, or the calibration model), the reference as
``reference_model.py`` (its ``get_inputs`` builds every input here) and the helpers
``kb_inputs.py`` and ``kb_sums.py``. The candidate's process and the reference's
process receive the same calls, one at a time, each timed by the sandbox zygote:

* ``load`` builds the model for one shape;
* ``forward(key, sums_key, previous_key, mode)`` builds fresh inputs from ``key``, runs
  forward, and answers with the output's shapes and dtypes, its keyed sums under
  ``sums_key`` and the previous output's keyed sums under ``previous_key`` (a key the
  process sees only now). Modes: ``timed``; ``check`` and ``check-new`` (correctness
  phase: the aten-op recorder runs and freed memory is filled with NaN; ``check`` copies
  the new values into the previous call's input buffers, ``check-new`` does not);
* ``inspect`` (sent only after a forward has answered, at positions the process cannot
  know in advance) returns that forward's outputs, keyed sums of its inputs after the
  call, and what was seen during it (launches, aten ops, output/input aliasing);
* ``settle`` returns the last output's sums under a key it sees only now.

Nothing here measures time. This code shares a process with the candidate, so every
answer is compared on the trusted side with the answer of the reference's process.
It imports nothing from ``evolve``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
import tempfile
from typing import Any

import kb_inputs
import kb_sums
import torch

REFERENCE_FILE = "reference_model.py"
_STATE: dict[str, Any] = {"launches": 0, "recording": None, "modules": {}, "outputs": None,
                          "inputs": None, "facts": {}}

# The zygote cached its temp dir before the child was confined; compile caches must go
# to the child's own writable work dir.
os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", os.path.join(os.getcwd(), ".torch_cache"))
os.environ.setdefault("TRITON_CACHE_DIR", os.path.join(os.getcwd(), ".triton_cache"))
tempfile.tempdir = None


def _count_launches() -> None:
    """Count ``kernel[grid](...)`` launches; pause aten recording while a kernel runs
    (the Triton interpreter copies tensors with aten ops of its own)."""
    if _STATE.get("launch_hook") or "triton" not in sys.modules:
        return
    from triton.runtime.jit import KernelInterface

    original = KernelInterface.__getitem__

    def counted(self: Any, grid: Any) -> Any:
        launcher = original(self, grid)

        def launch(*args: Any, **kwargs: Any) -> Any:
            _STATE["launches"] += 1
            recorder = _STATE["recording"]
            if recorder is not None:
                recorder.paused += 1
            try:
                return launcher(*args, **kwargs)
            finally:
                if recorder is not None:
                    recorder.paused -= 1

        return launch

    KernelInterface.__getitem__ = counted
    _STATE["launch_hook"] = True


def _op_recorder() -> Any:
    from torch.utils._python_dispatch import TorchDispatchMode

    class OpRecorder(TorchDispatchMode):  # type: ignore[no-untyped-call]
        @classmethod
        def _should_skip_dynamo(cls) -> bool:
            return False  # True would import torch._dynamo (seconds) for nothing here

        def __init__(self) -> None:
            super().__init__()  # type: ignore[no-untyped-call]
            self.ops: set[str] = set()
            self.paused = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
            if not self.paused:
                self.ops.add(str(func.overloadpacket.__name__))
            return func(*args, **(kwargs or {}))

    return OpRecorder()


def _module(filename: str) -> Any:
    module = _STATE["modules"].get(filename)
    if module is None:
        name = os.path.splitext(filename)[0]
        spec = importlib.util.spec_from_file_location(name, os.path.join(os.getcwd(), filename))
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {filename}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        _STATE["modules"][filename] = module
    return module


def load(model_file: str, class_name: str, shape: dict[str, Any], init_seed: int, device: str,
         compile_model: bool = False, init_args: list[Any] | None = None) -> dict[str, Any]:
    """Build ``class_name`` from ``model_file`` for ``shape`` (init inputs from the
    reference, or ``init_args``), with the torch RNG seeded by ``init_seed``."""
    _STATE.update(outputs=None, inputs=None, facts={}, model=None)
    reference = _module(REFERENCE_FILE)
    input_kwargs, init_kwargs = kb_inputs.apply_shape(reference, shape)
    _STATE.update(reference=reference, input_kwargs=input_kwargs, device=device)
    module = _module(model_file)
    if module is not reference:  # a model file may use the same size names
        kb_inputs.set_sizes(module, kb_inputs.module_sizes(reference, shape))
    _count_launches()  # the model file may be the first to import triton
    init = init_args if init_args is not None else kb_inputs.make_init_inputs(
        reference, init_kwargs, device)
    model = kb_inputs.build_model(getattr(module, class_name), init, init_seed, device)
    if compile_model:
        model = torch.compile(model)
    _STATE["model"] = model
    triton = sys.modules.get("triton")
    return {"triton_interpreted": bool(triton is not None and triton.knobs.runtime.interpret),
            "cuda": bool(torch.cuda.is_available())}


def _sync() -> None:
    if str(_STATE.get("device", "cpu")).startswith("cuda"):
        torch.cuda.synchronize()


def _specs(tensors: list[Any]) -> list[tuple[Any, Any, Any]]:
    return [(t.shape, t.dtype, t.device) for t in tensors
            if isinstance(t, torch.Tensor) and t.is_floating_point()]


def _poison(specs: list[tuple[Any, Any, Any]]) -> None:
    """Leave NaN-filled blocks of these sizes in the allocator, so an output that is never
    written (``torch.empty``) tends to show NaN rather than old data."""
    blocks = [torch.full(shape, float("nan"), dtype=dtype, device=device)
              for shape, dtype, device in specs]
    del blocks


def _flatten(value: Any) -> tuple[list[Any], str]:
    if isinstance(value, torch.Tensor):
        return [value], "tensor"
    if isinstance(value, (tuple, list)) and all(isinstance(v, torch.Tensor) for v in value):
        return list(value), f"{type(value).__name__}:{len(value)}"
    return [], f"other:{type(value).__name__}"


def _span(t: Any) -> tuple[int, int]:
    storage = t.untyped_storage()
    return storage.data_ptr(), storage.data_ptr() + storage.nbytes()


def _aliases(outputs: list[Any], inputs: list[Any]) -> list[list[int]]:
    found = []
    for i, out in enumerate(outputs):
        for j, inp in enumerate(inputs):
            if isinstance(inp, torch.Tensor) and inp.numel() and out.numel():
                (a, b), (c, d) = _span(out), _span(inp)
                if a < d and c < b:
                    found.append([i, j])
    return found


def _inputs(key: int, mode: str) -> list[Any]:
    fresh: list[Any] = kb_inputs.make_inputs(_STATE["reference"], _STATE["input_kwargs"], key,
                                             _STATE["device"])
    old: list[Any] | None = _STATE["inputs"] if mode == "check" else None
    if old is None or len(old) != len(fresh) or any(
            isinstance(o, torch.Tensor) != isinstance(f, torch.Tensor)
            or (isinstance(o, torch.Tensor) and (o.shape != f.shape or o.dtype != f.dtype))
            for o, f in zip(old, fresh)):
        return fresh
    for buffer, value in zip(old, fresh):
        if isinstance(buffer, torch.Tensor):
            buffer.copy_(value)
    return [b if isinstance(b, torch.Tensor) else f for b, f in zip(old, fresh)]


def forward(key: int, sums_key: int, previous_key: int | None, mode: str) -> dict[str, Any]:
    """One call of the model on fresh inputs (see the module docstring)."""
    previous = None
    if previous_key is not None and _STATE["outputs"] is not None:
        previous = kb_sums.sums(_STATE["outputs"], previous_key)
    check = mode != "timed"
    released = _specs(_STATE["outputs"]) if _STATE["outputs"] is not None else None
    _STATE["outputs"] = None
    if mode != "check":
        _STATE["inputs"] = None
    inputs = _inputs(key, mode)
    if check:  # the previous outputs' sizes (the inputs' before the first call)
        _poison(_specs(inputs) if released is None else released)
    _STATE["inputs"], _STATE["facts"] = inputs, {}
    recorder = _op_recorder() if check else None
    _STATE["launches"] = 0
    _sync()
    try:
        _STATE["recording"] = recorder
        with torch.no_grad(), recorder if recorder is not None else contextlib.nullcontext():
            value = _STATE["model"](*inputs)
        _sync()
    finally:
        _STATE["recording"] = None
    outputs, structure = _flatten(value)
    _STATE["facts"] = {"launches": int(_STATE["launches"]),
                       "aten_ops": sorted(recorder.ops) if recorder is not None else [],
                       "aliases": _aliases(outputs, inputs)}
    _STATE["outputs"] = outputs
    return {"structure": structure,
            "outputs": [[list(o.shape), str(o.dtype)] for o in outputs],
            "sums": kb_sums.sums(outputs, sums_key), "previous": previous}


def _sample(tensor: Any, key: int, limit: int) -> Any:
    if tensor.numel() <= limit:
        return tensor.detach().cpu().clone()
    generator = torch.Generator().manual_seed(key)
    index = torch.randint(tensor.numel(), (limit,), generator=generator)
    return {"sample": tensor.detach().reshape(-1)[index.to(tensor.device)].cpu()}


def inspect(sample_key: int, limit: int) -> dict[str, Any]:
    """The last forward's outputs (a keyed sample of those above ``limit`` elements),
    keyed sums of its inputs as they are now, and the facts seen during the call."""
    outputs = _STATE["outputs"] or []
    inputs = [t for t in _STATE["inputs"] or [] if isinstance(t, torch.Tensor)]
    return {"outputs": [_sample(o, sample_key, limit) for o in outputs],
            "inputs": kb_sums.sums(inputs, sample_key), **_STATE["facts"]}


def settle(key: int) -> list[list[float]] | None:
    """The last output's sums under ``key``."""
    return kb_sums.sums(_STATE["outputs"], key) if _STATE["outputs"] is not None else None
