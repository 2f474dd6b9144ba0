"""Plain data that crosses the sandbox boundary.

The candidate's return values are converted to *plain data* inside the sandbox child
(``to_plain``) and decoded on the trusted side by a restricted unpickler that can only
rebuild builtin containers/scalars, numpy arrays, dtypes and scalars (never object
dtype) and :class:`TensorValue`. No candidate class is ever instantiated on the trusted
side, so a hostile ``__eq__``/``__len__``/``__getattr__`` cannot run there.

Bytes written by the candidate's process go through :func:`loads_candidate`, which
bounds what gets built *before* building it: the opcode stream is scanned first (no
shared references, so the decoded value is a tree no larger than the byte count; no
out-of-band buffers), then the decoded tree is walked without recursion to check its
depth, its types and the total size of its arrays.
"""

from __future__ import annotations

import io
import pickle
import pickletools
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
    """Pickle plain data without a memo: shared sub-objects are written out each time, so
    honest output never contains the back-references :func:`loads_candidate` refuses."""
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=5)
    pickler.fast = True  # no memo (to_plain output is a tree: no cycles to guard against)
    pickler.dump(obj)
    return buffer.getvalue()


def _checked_dtype(*args: Any) -> np.dtype[Any]:
    dtype: np.dtype[Any] = np.dtype(*args)
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
        if factory.__name__ == "_reconstruct" and (len(args) < 2 or args[1] != (0,)):
            # numpy pickles an empty array and sets its data from bytes afterwards; any
            # other shape would allocate memory the payload never paid for.
            raise pickle.UnpicklingError("malformed array reconstruction")
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


# ---------------------------------------------------------------- bounded decoding

# Opcodes honest plain data never contains: back-references (which turn a few hundred
# bytes into an exponentially large structure), out-of-band buffers, extension codes,
# persistent ids and the old-style class instantiation opcodes.
_REFUSED_OPCODES = frozenset({
    "GET", "BINGET", "LONG_BINGET", "NEXT_BUFFER", "READONLY_BUFFER", "PERSID",
    "BINPERSID", "EXT1", "EXT2", "EXT4", "INST", "OBJ", "NEWOBJ_EX",
})
_MAX_INT_BITS = 1 << 16


@dataclass(frozen=True)
class DecodeLimits:
    """What one decoded candidate value may cost the trusted side."""

    max_bytes: int = 512 * 1024 * 1024  # payload size, and the total size of its arrays
    max_objects: int = 2_000_000  # opcodes in the payload (bounds the objects built)
    max_depth: int = MAX_DEPTH + 8  # room for the protocol's own wrapping


class CandidateDataError(ValueError):
    """Candidate bytes that are not acceptable plain data; the message says why."""


def _scan(data: bytes, limits: DecodeLimits) -> None:
    if len(data) > limits.max_bytes:
        raise CandidateDataError(f"{len(data)} bytes (limit {limits.max_bytes})")
    count = 0
    try:
        for opcode, _arg, _pos in pickletools.genops(data):
            count += 1
            if opcode.name in _REFUSED_OPCODES:
                raise CandidateDataError(f"refused pickle opcode {opcode.name}")
            if count > limits.max_objects:
                raise CandidateDataError(f"more than {limits.max_objects} objects")
    except CandidateDataError:
        raise
    except Exception as exc:  # noqa: BLE001 - any malformed stream
        raise CandidateDataError(f"malformed data ({type(exc).__name__})") from None


_LEAVES = (type(None), bool, int, float, complex, str, bytes)


def _check_tree(value: Any, limits: DecodeLimits) -> None:
    """Iterative walk: depth, allowed types, dict keys, total array bytes."""
    array_bytes = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > limits.max_depth:
            raise CandidateDataError(f"nested deeper than {limits.max_depth} levels")
        kind = type(item)
        if kind in _LEAVES:
            if kind is int and item.bit_length() > _MAX_INT_BITS:
                raise CandidateDataError("an integer is too large")
        elif kind in (list, tuple):
            stack.extend((child, depth + 1) for child in item)
        elif kind is dict:
            for key, child in item.items():
                if type(key) not in (str, int):
                    raise CandidateDataError("a dict key is not a str or int")
                stack.append((child, depth + 1))
        elif kind is np.ndarray or kind is TensorValue:
            array = getattr(item, "array", None) if kind is TensorValue else item
            if type(array) is not np.ndarray or array.dtype.hasobject:
                raise CandidateDataError("an array is not plain data")
            array_bytes += int(array.nbytes)
            if array_bytes > limits.max_bytes:
                raise CandidateDataError(f"arrays larger than {limits.max_bytes} bytes")
        elif isinstance(item, np.generic):
            if item.dtype.hasobject:
                raise CandidateDataError("a numpy scalar is not plain data")
        else:
            raise CandidateDataError(f"unexpected type {kind.__name__}")


def loads_candidate(data: bytes, limits: DecodeLimits | None = None) -> Any:
    """Decode bytes written by the candidate's process, bounded before anything is built.

    Raises :class:`CandidateDataError` (a ``ValueError``) with a one-line reason.
    """
    limits = limits or DecodeLimits()
    _scan(data, limits)
    try:
        value = PlainUnpickler(io.BytesIO(data)).load()
    except MemoryError:
        raise CandidateDataError("decoding ran out of memory") from None
    except Exception as exc:  # noqa: BLE001 - any malformed stream
        raise CandidateDataError(f"malformed data ({type(exc).__name__}: "
                                 f"{str(exc)[:200]})") from None
    _check_tree(value, limits)
    return value
