"""KernelBench files (``class Model``, ``get_inputs``, ``get_init_inputs``) -> problem folders.

Each file becomes a ``kernelbench`` problem whose ``reference.py`` is the file, byte for
byte; ``initial_program.py`` is the file's ``Model`` renamed ``ModelNew`` (its eager
PyTorch forward) inside an EVOLVE-BLOCK. On a GPU the file's own sizes are used. On CPU
the sizes scale down by this rule: every module-level integer of at least ``min_size``
(KernelBench keeps its sizes there) is divided by the smallest power of two that brings
the inputs and parameters to at most ``cpu_elements`` elements, and never below
``min_size``; smaller integers (dimensions to reduce over, kernel sizes, strides) are
kept. Elements are counted on PyTorch's meta device, so nothing is allocated at full
size. The scaled sizes are written into ``problem.yaml`` (``shapes.cpu``), and the
evaluator reports the resulting share of elements per shape (``size_scale[...]``).
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import json
import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from evolve.errors import UserError
from evolve.evaluation.registry import create_evaluator
from evolve.importers import problem_folders, slug
from evolve.problem import load_problem

CPU_ELEMENTS = 1 << 16
MIN_SIZE = 16
MAX_DIVISOR = 1 << 24
CPU_TOLERANCE = 1e-4  # float32 PyTorch vs a kernel on small CPU sizes
GPU_TOLERANCE = 1e-2  # KernelBench's own fp32 tolerance (TF32 matmuls), here scale-free


@dataclass
class Scaled:
    sizes: dict[str, int]
    divisor: int
    elements: int | None
    full_elements: int | None


def _load(path: Path) -> ModuleType:
    digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:12]
    spec = importlib.util.spec_from_file_location(f"_kernelbench_import_{digest}", path)
    if spec is None or spec.loader is None:
        raise UserError("cannot load this file as Python", str(path))
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # noqa: BLE001 - the user's file; say what went wrong
        raise UserError(f"importing it failed: {type(exc).__name__}: {exc}", str(path)) from None
    for name in ("Model", "get_inputs", "get_init_inputs"):
        if not hasattr(module, name):
            raise UserError(f"a KernelBench file defines {name}; this one does not", str(path))
    return module


Counter = Callable[[dict[str, int], bool], "int | None"]


def cpu_sizes(module: ModuleType, count: Counter, cpu_elements: int = CPU_ELEMENTS,
              min_size: int = MIN_SIZE) -> Scaled:
    """The CPU sizes of the module docstring's rule; ``count(shape, require_model)`` counts
    elements (None where the file cannot be sized so)."""
    sizes = {k: v for k, v in vars(module).items()
             if type(v) is int and v >= min_size and not k.startswith("_")}
    full = count({}, False)
    # Where the model builds at the file's sizes (on meta), it must build when scaled.
    model_builds = count({}, True) is not None
    divisor, best = 1, None
    while divisor <= MAX_DIVISOR:
        shape = {k: max(min_size, v // divisor) for k, v in sizes.items()}
        elements = count(shape, model_builds)
        if elements is not None:
            best = Scaled(shape, divisor, elements, full)
            if elements <= cpu_elements or all(v == min_size for v in shape.values()):
                return best
        divisor *= 2
    if best is None:
        raise UserError("could not count its inputs on PyTorch's meta device at any scale; "
                        "import it and set evaluator_args.shapes.cpu by hand",
                        getattr(module, "__file__", ""))
    return best


def _assigned(node: ast.stmt) -> set[str]:
    targets = node.targets if isinstance(node, ast.Assign) else \
        [node.target] if isinstance(node, (ast.AnnAssign, ast.AugAssign)) else []
    return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}


def initial_program(source: str, path: Path) -> str:
    """The file's imports, helpers and the module-level values ``Model`` uses, with
    ``Model`` renamed ``ModelNew`` inside an EVOLVE-BLOCK (no ``get_inputs``,
    ``get_init_inputs`` or unused sizes)."""
    tree = ast.parse(source)
    lines = source.splitlines()
    model = next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Model"),
                 None)
    if model is None:
        raise UserError("no top-level class Model", str(path))
    used = {n.id for n in ast.walk(model) if isinstance(n, ast.Name)}
    imports: list[str] = []
    values: list[str] = []
    helpers: list[str] = []
    for node in tree.body:
        start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
        text = "\n".join(lines[start - 1:node.end_lineno])
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            imports.append(text)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            if _assigned(node) & used:
                values.append(text)
        elif node is model or (isinstance(node, ast.FunctionDef)
                               and node.name in ("get_inputs", "get_init_inputs")):
            continue
        elif not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)):
            helpers.append(text)
    renamed = re.sub(r"\bModel\b", "ModelNew", "\n".join(
        lines[min([model.lineno, *(d.lineno for d in model.decorator_list)]) - 1:
              model.end_lineno]))
    header = (f'"""{path.name}: the reference\'s eager PyTorch forward as ModelNew (imported '
              'from KernelBench; evolve rewrites the EVOLVE-BLOCK)."""')
    parts = [header, "\n".join(imports), "\n".join(values), *helpers]
    head = "\n\n".join(p for p in parts if p)
    return f"{head}\n\n\n# EVOLVE-BLOCK-START\n{renamed}\n# EVOLVE-BLOCK-END\n"


def _problem_yaml(name: str, path: Path, scaled: Scaled, min_size: int) -> str:
    share = (f"{scaled.elements / scaled.full_elements:.3g} of the file's elements"
             if scaled.elements and scaled.full_elements else "elements not counted")
    cpu = json.dumps([scaled.sizes])
    rule = (f"module-level sizes of at least {min_size} divided by {scaled.divisor} "
            f"(not below {min_size})")
    return f"""# Imported from the KernelBench file {path.name} by `evolve import kernelbench`
# (docs/importing.md). reference.py is that file, unchanged.
name: kernels-{name}
description: description.md
initial_programs: [initial_program.py]
evaluator: kernelbench
evaluator_args:
  reference: reference.py
  backend: torch
  shapes:
    # CPU: {rule}: {share}
    cpu: {cpu}
    gpu: [{{}}]  # the file's own sizes
  atol: {CPU_TOLERANCE:g}
  rtol: {CPU_TOLERANCE:g}
  gpu_atol: {GPU_TOLERANCE:g}
  gpu_rtol: {GPU_TOLERANCE:g}
constraints:
  timeout_s: 600
preload: [numpy, torch, triton]
"""


def _description(name: str, path: Path, source: str, scaled: Scaled) -> str:
    sizes = ", ".join(f"{k}={v}" for k, v in scaled.sizes.items()) or "none"
    return f"""# {name} (KernelBench)

Write `ModelNew`, a drop-in replacement for the `Model` below that is faster on the GPU:
the same constructor arguments (from `get_init_inputs()`), the same `forward` inputs
(from `get_inputs()`) and the same outputs, within the tolerance. Custom Triton kernels,
and any PyTorch code, are allowed. Each output is checked against `Model` on fresh
random inputs on every call; the score is the speedup over eager PyTorch on a GPU
(1.0 for any correct program without one). Do not modify the inputs.

On a GPU the sizes are the file's own; on CPU they are scaled down ({sizes}).

```python
{source.rstrip()}
```

Source: {path.name}, in KernelBench format.
"""


class KernelBenchImporter:
    """``evolve import kernelbench FILE... -o DIR``; settings: ``cpu_elements`` (the CPU
    size budget) and ``min_size`` (integers below it are not sizes)."""

    def __init__(self, cpu_elements: int = CPU_ELEMENTS, min_size: int = MIN_SIZE) -> None:
        if cpu_elements < 1 or min_size < 1:
            raise UserError("cpu_elements and min_size must be at least 1", "import.args")
        self.cpu_elements = cpu_elements
        self.min_size = min_size

    def import_problems(self, sources: Sequence[Path], output: Path,
                        overwrite: bool = False) -> list[Path]:
        written = []
        for source, folder in problem_folders(sources, output):
            written.append(self.import_file(source, folder, overwrite))
        return written

    def import_file(self, path: Path, folder: Path, overwrite: bool) -> Path:
        if not path.is_file():
            raise UserError("a KernelBench source is one .py file", str(path))
        if folder.exists() and any(folder.iterdir()) and not overwrite:
            raise UserError("exists and is not empty (use --force to replace it)", str(folder))
        source = path.read_text(encoding="utf-8")
        module = _load(path)
        program = initial_program(source, path)
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        try:
            shutil.copyfile(path, folder / "reference.py")
            # Sizes are counted by the kernelbench evaluator itself, on the meta device.
            evaluator = create_evaluator("kernelbench", folder, {"device": "cpu"})
            scaled = cpu_sizes(module, evaluator.element_count,  # type: ignore[attr-defined]
                               self.cpu_elements, self.min_size)
            name = slug(folder.name)
            (folder / "initial_program.py").write_text(program, encoding="utf-8")
            (folder / "problem.yaml").write_text(
                _problem_yaml(name, path, scaled, self.min_size), encoding="utf-8")
            (folder / "description.md").write_text(_description(name, path, source, scaled),
                                                   encoding="utf-8")
            _check(folder)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return folder


def _check(folder: Path) -> None:
    """The folder loads as a problem and its evaluator accepts the arguments written."""
    problem = load_problem(folder)
    args: dict[str, Any] = dict(problem.config.evaluator_args)
    create_evaluator(problem.config.evaluator, problem.directory, args)
