"""Trusted harness that runs inside the sandbox child (it is the sandbox's *program*).

The evaluator ships this file as the program and the candidate source as a data file
(``model_new.py``). The sandbox imports this module; the evaluator's calls then run
``load`` (import the model file, build the model), ``check`` (run the correctness steps
on inputs the trusted side sent) and ``time_forward`` (timing). Everything returned is
plain data; the trusted side compares it with the reference it computed itself.

This code shares a process with the candidate once ``load`` has run, so nothing it
reports is trusted blindly: values are recomputed and compared on the trusted side,
and the self-reported facts (aliasing, launch counts, aten ops, CUDA-event times) are
defence in depth behind the static gate. It imports nothing from ``evolve``.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
import time
import traceback
from typing import Any

_STATE: dict[str, Any] = {"launches": 0, "recording": None}

# The zygote cached its temp dir before the child was confined; PyTorch's compile caches
# (imported lazily, e.g. by dispatch modes) must go to the child's writable work dir.
os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", os.path.join(os.getcwd(), ".torch_cache"))
os.environ.setdefault("TRITON_CACHE_DIR", os.path.join(os.getcwd(), ".triton_cache"))
tempfile.tempdir = None


def _torch() -> Any:
    import torch

    return torch


def _count_launches() -> None:
    """Count ``kernel[grid](...)`` launches; pause aten recording while a kernel runs
    (the Triton interpreter copies tensors with aten ops of its own)."""
    if _STATE.get("launch_hook"):
        return
    try:
        from triton.runtime.jit import KernelInterface
    except ImportError:
        return
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

    KernelInterface.__getitem__ = counted  # type: ignore[method-assign]
    _STATE["launch_hook"] = True


def _op_recorder() -> Any:
    from torch.utils._python_dispatch import TorchDispatchMode

    class OpRecorder(TorchDispatchMode):
        @classmethod
        def _should_skip_dynamo(cls) -> bool:
            return False  # True would import torch._dynamo (seconds) for nothing here

        def __init__(self) -> None:
            super().__init__()
            self.ops: set[str] = set()
            self.paused = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
            if not self.paused:
                self.ops.add(str(func.overloadpacket.__name__))
            return func(*args, **(kwargs or {}))

    return OpRecorder()


def load(filename: str, class_name: str, init_inputs: list[Any], init_seed: int, device: str,
         compile_model: bool = False) -> dict[str, Any]:
    """Import the model file from the work dir (once) and build ``class_name(*init_inputs)``
    with the torch RNG seeded by ``init_seed`` (the trusted side builds the reference the
    same way, so randomly initialised parameters match)."""
    torch = _torch()
    interpret = os.environ.get("TRITON_INTERPRET") == "1"
    if "triton" in sys.modules:
        _count_launches()
    module = _STATE.setdefault("modules", {}).get(filename)
    if module is None:
        path = os.path.join(os.getcwd(), filename)
        module_name = os.path.splitext(filename)[0]
        spec = importlib.util.spec_from_file_location(module_name, path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {filename}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
        _STATE["modules"][filename] = module
    _count_launches()  # the model file may be the first to import triton
    cls = getattr(module, class_name)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(init_seed)
        model = cls(*init_inputs)
    if isinstance(model, torch.nn.Module):
        model = model.to(device)
    if compile_model:
        model = torch.compile(model)
    _STATE["model"] = model
    _STATE["device"] = device
    triton = sys.modules.get("triton")
    interpreted = bool(triton is not None and triton.knobs.runtime.interpret)
    return {"triton_interpret_env": interpret, "triton_interpreted": interpreted,
            "cuda": bool(torch.cuda.is_available())}


def _sync() -> None:
    torch = _torch()
    if _STATE.get("device", "cpu").startswith("cuda"):
        torch.cuda.synchronize()


def _to_device(values: list[Any]) -> list[Any]:
    torch = _torch()
    device = _STATE["device"]
    return [v.to(device).clone() if isinstance(v, torch.Tensor) else v for v in values]


def _storage_span(t: Any) -> tuple[int, int]:
    storage = t.untyped_storage()
    return storage.data_ptr(), storage.data_ptr() + storage.nbytes()


def _aliases(outputs: list[Any], inputs: list[Any]) -> list[list[int]]:
    torch = _torch()
    found = []
    for i, out in enumerate(outputs):
        if not isinstance(out, torch.Tensor):
            continue
        o_start, o_end = _storage_span(out)
        for j, inp in enumerate(inputs):
            if isinstance(inp, torch.Tensor) and inp.numel() and out.numel():
                i_start, i_end = _storage_span(inp)
                if o_start < i_end and i_start < o_end:
                    found.append([i, j])
    return found


def _poison(specs: list[list[Any]]) -> None:
    """Leave NaN-filled blocks of the expected output sizes in the allocator, so an
    output that is never written (``torch.empty``) shows up as NaN, not as old data."""
    torch = _torch()
    blocks = []
    for shape, dtype_name in specs:
        dtype = getattr(torch, dtype_name.removeprefix("torch."))
        fill = float("nan") if dtype.is_floating_point else -12345
        blocks.append(torch.full(tuple(shape), fill, dtype=dtype, device=_STATE["device"]))
    del blocks


def _snapshot(value: Any) -> tuple[list[Any], str]:
    """(list of CPU copies of the output tensors, structure tag) for the trusted side."""
    torch = _torch()
    if isinstance(value, torch.Tensor):
        return [value.detach().clone().cpu()], "tensor"
    if isinstance(value, (tuple, list)) and all(isinstance(v, torch.Tensor) for v in value):
        return [v.detach().clone().cpu() for v in value], f"{type(value).__name__}:{len(value)}"
    return [], f"other:{type(value).__name__}"


def check(steps: list[dict[str, Any]], poison: list[list[Any]]) -> list[dict[str, Any]]:
    """Run the correctness steps in order. A step is ``{"kind": "fresh"|"same"|"refill",
    "inputs": [...]}``: *fresh* builds new input buffers, *same* and *refill* copy the
    given values into the existing buffers in place and call again."""
    torch = _torch()
    model = _STATE["model"]
    results: list[dict[str, Any]] = []
    buffers: list[Any] = []
    for step in steps:
        if step["kind"] == "fresh" or not buffers:
            buffers = _to_device(step["inputs"])
        else:
            for buf, value in zip(buffers, step["inputs"]):
                if isinstance(buf, torch.Tensor):
                    buf.copy_(value.to(buf.device))
        _poison(poison)
        recorder = _op_recorder()
        _STATE["launches"] = 0
        _sync()
        try:
            _STATE["recording"] = recorder
            with torch.no_grad(), recorder:
                value = model(*buffers)
            _sync()
        except Exception as exc:  # noqa: BLE001 - reported to the trusted side as data
            _STATE["recording"] = None
            tail = "".join(traceback.format_tb(exc.__traceback__)[-4:])
            results.append({"error": f"{type(exc).__name__}: {exc}\n{tail}"[:4000]})
            break
        finally:
            _STATE["recording"] = None
        outputs, structure = _snapshot(value)
        flat = [value] if isinstance(value, torch.Tensor) else list(value) if isinstance(
            value, (tuple, list)) else []
        results.append({
            "structure": structure,
            "outputs": outputs,
            "inputs_after": [b.detach().clone().cpu() if isinstance(b, torch.Tensor) else b
                             for b in buffers],
            "aliases": _aliases(flat, buffers),
            "launches": int(_STATE["launches"]),
            "aten_ops": sorted(recorder.ops),
        })
        del value, flat
    return results


def time_forward(input_sets: list[list[Any]], warmup: int, repeat: int, flush_mb: int,
                 strict: bool, verify: list[int]) -> dict[str, Any]:
    """Time ``repeat`` calls, each on freshly refilled inputs (cycling through
    ``input_sets``), after ``warmup`` untimed calls.

    CUDA: the L2 cache is flushed before every call; CUDA events bracket the call and the
    device is fully synchronized after it; host wall time around call + device sync is
    recorded beside the events as a cross-check. ``strict`` builds new buffers for every
    call. CPU: host wall time only. Outputs of the calls listed in ``verify`` come back so
    the trusted side can check that timed calls compute the right thing.
    """
    torch = _torch()
    model = _STATE["model"]
    cuda = _STATE["device"].startswith("cuda")
    staged = [_to_device(s) for s in input_sets]
    buffers = [[v.clone() if isinstance(v, torch.Tensor) else v for v in staged[0]]]
    flush = None
    if cuda and flush_mb > 0:
        flush = torch.empty(flush_mb * (1 << 20) // 4, dtype=torch.int32, device=_STATE["device"])
    event_ms: list[float] = []
    wall_ms: list[float] = []
    kept: dict[int, Any] = {}
    with torch.no_grad():
        for i in range(warmup + repeat):
            source = staged[(i - warmup) % len(staged)]
            if strict:
                buffers[0] = [v.clone() if isinstance(v, torch.Tensor) else v for v in source]
            else:
                for buf, value in zip(buffers[0], source):
                    if isinstance(buf, torch.Tensor):
                        buf.copy_(value)
            if flush is not None:
                flush.zero_()
            if cuda:
                start_event = torch.cuda.Event(enable_timing=True)
                end_event = torch.cuda.Event(enable_timing=True)
                torch.cuda.synchronize()
                wall_start = time.perf_counter()
                start_event.record()
                value = model(*buffers[0])
                end_event.record()
                torch.cuda.synchronize()
                wall = (time.perf_counter() - wall_start) * 1e3
                event = start_event.elapsed_time(end_event)
            else:
                wall_start = time.perf_counter()
                value = model(*buffers[0])
                wall = (time.perf_counter() - wall_start) * 1e3
                event = wall
            timed = i - warmup
            if timed >= 0:
                event_ms.append(float(event))
                wall_ms.append(float(wall))
                if timed in verify:
                    kept[timed] = _snapshot(value)[0]
            del value
    return {"event_ms": event_ms, "wall_ms": wall_ms,
            "verified": {k: v for k, v in kept.items()}, "sets": len(staged)}
