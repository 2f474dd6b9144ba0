"""Plain data that crosses the sandbox boundary.

The candidate's return values are converted to *plain data* inside the sandbox child
(``to_plain``) and decoded on the trusted side by a restricted unpickler
(``loads_plain``) that can only rebuild builtin containers/scalars, numpy arrays,
dtypes and scalars (never object dtype) and :class:`TensorValue`. No candidate class
is ever instantiated on the trusted side, so a hostile ``__eq__``/``__len__``/
``__getattr__`` cannot run there.
"""

from __future__ import annotations

import io
import pickle
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

MAX_DEPTH = 64  # nesting deeper than this is refused rather than recursed into


@dataclass
class TensorValue:
    """A torch tensor as plain data: dtype name (``"torch.float32"``), shape, values."""

    dtype: str
    shape: tuple[int, ...]
    array: np.ndarray

    def to_torch(self) -> Any:
        import torch

        dtype = getattr(torch, self.dtype.removeprefix("torch."))
        if self.dtype == "torch.bfloat16":
            # numpy has no bfloat16: the array holds the float32 values.
            return torch.from_numpy(np.array(self.array, dtype=np.float32)).to(dtype)
        return torch.from_numpy(np.array(self.array)).to(dtype).reshape(self.shape)

    def __setstate__(self, state: dict[str, Any]) -> None:
        # Validates what the restricted unpickler rebuilds from untrusted bytes.
        dtype, shape, array = state.get("dtype"), state.get("shape"), state.get("array")
        if type(dtype) is not str or type(shape) is not tuple or type(array) is not np.ndarray:
            raise pickle.UnpicklingError("malformed TensorValue")
        if not all(type(n) is int for n in shape) or array.dtype.hasobject:
            raise pickle.UnpicklingError("malformed TensorValue")
        self.dtype, self.shape, self.array = dtype, shape, array


def _plain_array(value: np.ndarray) -> np.ndarray:
    if value.dtype.hasobject:
        raise TypeError("numpy arrays of dtype object cannot cross the sandbox boundary")
    # Copy into a base-class ndarray so subclasses (and their methods) stay behind.
    return np.array(value.view(np.ndarray), copy=True, subok=False)


def _plain_tensor(value: Any) -> TensorValue:
    import torch

    tensor = value.detach().cpu()
    if tensor.dtype == torch.bfloat16:
        array = tensor.to(torch.float32).numpy()
    else:
        array = tensor.resolve_conj().resolve_neg().numpy()
    return TensorValue(str(tensor.dtype), tuple(int(n) for n in tensor.shape), np.array(array))


def to_plain(obj: Any, _depth: int = 0) -> Any:
    """Convert a candidate's value to plain data (runs inside the sandbox child).

    Accepts None/bool/int/float/str/bytes, list/tuple/dict with str keys, numpy arrays
    and scalars, torch tensors (-> :class:`TensorValue`). Subclasses of builtins are
    copied to the builtin type. Any other object raises ``TypeError`` naming its type;
    evaluators that need custom conversion pass a trusted converter
    (``CandidateCall.convert``).
    """
    if _depth > MAX_DEPTH:
        raise TypeError(f"value is nested deeper than {MAX_DEPTH} levels")
    kind = type(obj)
    if obj is None or kind in (bool, int, float, str, bytes):
        return obj
    if isinstance(obj, np.ndarray):
        return _plain_array(obj)
    if isinstance(obj, np.generic):
        if obj.dtype.hasobject:
            raise TypeError("numpy object scalars cannot cross the sandbox boundary")
        return np.array(obj).view(np.ndarray)[()]
    if kind is TensorValue:
        shape = tuple(int.__int__(n) for n in tuple.__iter__(obj.shape))
        return TensorValue(str.__str__(obj.dtype), shape, _plain_array(obj.array))
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(obj, torch.Tensor):
        return _plain_tensor(obj)
    # Exact-type checks above; subclasses below are rebuilt through base-class methods
    # so a hostile override is never what produces the plain value.
    if isinstance(obj, bool):
        return bool(int.__int__(obj))
    if isinstance(obj, int):
        return int.__int__(obj)
    if isinstance(obj, float):
        return float.__float__(obj)
    if isinstance(obj, str):
        return str.__str__(obj)
    if isinstance(obj, bytes):
        return bytes(memoryview(obj))
    if isinstance(obj, (list, tuple)):
        items = list.__iter__(obj) if isinstance(obj, list) else tuple.__iter__(obj)
        converted = [to_plain(item, _depth + 1) for item in items]
        return converted if isinstance(obj, list) else tuple(converted)
    if isinstance(obj, dict):
        out: dict[Any, Any] = {}
        for key, item in dict.items(obj):
            if type(key) not in (str, int):
                raise TypeError(f"dict keys must be str or int, got {type(key).__name__}")
            out[key] = to_plain(item, _depth + 1)
        return out
    raise TypeError(
        f"cannot convert {kind.__module__}.{kind.__qualname__} to plain data "
        "(return builtins, numpy arrays or torch tensors, or give the call a converter)"
    )


def dumps_plain(obj: Any) -> bytes:
    return pickle.dumps(obj, protocol=5)


def _checked_dtype(*args: Any) -> np.dtype:
    dtype = np.dtype(*args)
    if dtype.hasobject:
        raise pickle.UnpicklingError("object dtype is not plain data")
    return dtype


def _guard(factory: Callable[..., Any]) -> Callable[..., Any]:
    def build(*args: Any) -> Any:
        for arg in args:
            if isinstance(arg, np.dtype) and arg.hasobject:
                raise pickle.UnpicklingError("object dtype is not plain data")
        if args and isinstance(args[0], type) and args[0] is not np.ndarray:
            raise pickle.UnpicklingError("only numpy.ndarray may be reconstructed")
        return factory(*args)

    return build


def _numpy_globals() -> dict[tuple[str, str], Any]:
    from numpy.lib import format as _np_format  # noqa: F401  (ensures numpy internals loaded)

    allowed: dict[tuple[str, str], Any] = {("numpy", "dtype"): _checked_dtype}
    for prefix in ("numpy._core", "numpy.core"):
        multiarray = sys.modules.get(f"{prefix}.multiarray")
        numeric = sys.modules.get(f"{prefix}.numeric")
        if multiarray is not None:
            allowed[(f"{prefix}.multiarray", "_reconstruct")] = _guard(multiarray._reconstruct)
            allowed[(f"{prefix}.multiarray", "scalar")] = _guard(multiarray.scalar)
        if numeric is not None and hasattr(numeric, "_frombuffer"):
            allowed[(f"{prefix}.numeric", "_frombuffer")] = _guard(numeric._frombuffer)
    allowed[("numpy", "ndarray")] = np.ndarray
    allowed[("evolve.evaluation.plain", "TensorValue")] = TensorValue
    return allowed


_ALLOWED = _numpy_globals()


class PlainUnpickler(pickle.Unpickler):
    """Rebuilds plain data only; any other global raises ``UnpicklingError``."""

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}") from None


def loads_plain(data: bytes) -> Any:
    """Decode bytes produced by :func:`dumps_plain` without running foreign code."""
    return PlainUnpickler(io.BytesIO(data)).load()
