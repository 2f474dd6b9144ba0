"""Static gate for kernel candidates: checks on the source text, before anything runs.

The gate reads the candidate with ``ast`` (it never imports or executes it) and rejects:
imports outside an allow-list (and any in the problem's deny-list); the reference ops the
problem asks the candidate to implement (``torch.softmax``, ``x.softmax``, ``@``, ...);
anything that touches streams, events, timers or CUDA graphs; assignments to attributes of
torch/triton modules (monkeypatching); dynamic escapes (``eval``, ``getattr`` with a
computed name, dunder attributes). For Triton problems it also requires a
``@triton.jit`` kernel that is launched (``kernel[grid](...)``).

Names are resolved through import aliases and simple re-bindings (``F = torch.nn.functional``,
``sm = torch.softmax``), so ``F.softmax`` and ``sm(x)`` are both seen as ``torch...softmax``.
The dynamic checks in the harness (launch counting, recorded aten ops) back this up.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

DEFAULT_ALLOWED_IMPORTS = (
    "torch", "torch.nn", "torch.nn.functional", "triton", "triton.language", "math",
    "typing", "__future__", "functools", "dataclasses", "numbers",
    "triton.language.extra", "triton.language.extra.libdevice",
)
# Prefixes that give a way around the gate or the timer (private internals, compilers,
# custom extensions, timing helpers, driver access).
BANNED_PATHS = (
    "torch._C", "torch._ops", "torch.ops", "torch._refs", "torch._prims", "torch._decomp",
    "torch.library", "torch.utils", "torch._dynamo", "torch._inductor", "torch.compile",
    "torch.jit", "torch.fx", "torch.overrides", "torch.cuda.Stream", "torch.cuda.stream",
    "torch.cuda.Event", "torch.cuda.synchronize", "torch.cuda.current_stream",
    "torch.cuda.default_stream", "torch.cuda.set_stream", "torch.cuda.ExternalStream",
    "torch.cuda.graph", "torch.cuda.graphs", "torch.cuda.CUDAGraph", "torch.cuda.streams",
    "torch.cuda.StreamContext", "torch.cuda.nvtx", "torch.cuda.memory", "torch.Stream",
    "torch.Event", "torch.set_default_device", "torch.backends",
    "triton.runtime", "triton.testing", "triton.compiler", "triton.knobs", "triton.backends",
    "triton._C", "triton.tools", "triton.profiler", "triton.experimental",
)
# Attribute names rejected on any object: stream/event/timer methods.
BANNED_ATTRIBUTES = frozenset({
    "Stream", "Event", "stream", "synchronize", "record_stream", "wait_stream", "wait_event",
    "elapsed_time", "CUDAGraph", "perf_counter", "perf_counter_ns", "monotonic",
    "process_time", "set_stream", "current_stream", "default_stream",
})
BANNED_BUILTINS = frozenset({
    "eval", "exec", "compile", "open", "globals", "locals", "vars", "setattr", "delattr",
    "breakpoint", "__import__", "memoryview",
})
ALLOWED_DUNDERS = frozenset({"__init__", "__name__"})


@dataclass
class GateSpec:
    """What one problem's gate enforces (built from evaluator_args)."""

    backend: str = "triton"
    forbidden_ops: list[str] = field(default_factory=list)  # "torch.softmax", ".softmax", "@"
    allowed_imports: tuple[str, ...] = DEFAULT_ALLOWED_IMPORTS
    forbidden_imports: list[str] = field(default_factory=list)
    class_name: str = "ModelNew"


@dataclass
class GateViolation:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


def _is_under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + ".")


class _Resolver:
    """Maps names to dotted module paths through imports and simple re-bindings."""

    def __init__(self, tree: ast.Module) -> None:
        self.aliases: dict[str, str] = {}
        # (line, module imported or imported from, full dotted name of what was bound)
        self.imports: list[tuple[int, str, str]] = []
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for item in node.names:
                    self.imports.append((node.lineno, item.name, item.name))
                    if item.asname:
                        self.aliases[item.asname] = item.name
                    else:
                        root = item.name.split(".")[0]
                        self.aliases[root] = root
            elif isinstance(node, ast.ImportFrom):
                module = "." * node.level + (node.module or "")
                for item in node.names:
                    full = f"{module}.{item.name}"
                    self.imports.append((node.lineno, module, full))
                    self.aliases[item.asname or item.name] = full
        # Re-bindings like ``F = torch.nn.functional`` until nothing changes.
        changed = True
        while changed:
            changed = False
            for node in ast.walk(tree):
                targets: list[ast.expr] = []
                value: ast.expr | None = None
                if isinstance(node, ast.Assign):
                    targets, value = node.targets, node.value
                elif isinstance(node, (ast.AnnAssign, ast.NamedExpr)) and node.value is not None:
                    targets, value = [node.target], node.value
                if value is None:
                    continue
                path = self.resolve(value)
                if path is None:
                    continue
                for target in targets:
                    if isinstance(target, ast.Name) and self.aliases.get(target.id) != path:
                        self.aliases[target.id] = path
                        changed = True

    def resolve(self, node: ast.expr) -> str | None:
        """Dotted path of ``node`` when it is rooted at an imported name, else None."""
        if isinstance(node, ast.Name):
            return self.aliases.get(node.id)
        if isinstance(node, ast.Attribute):
            base = self.resolve(node.value)
            return f"{base}.{node.attr}" if base else None
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id == "getattr" and len(node.args) >= 2
                and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str)):
            base = self.resolve(node.args[0])
            return f"{base}.{node.args[1].value}" if base else None
        return None

    def root(self, node: ast.expr) -> ast.expr:
        while isinstance(node, (ast.Attribute, ast.Subscript)):
            node = node.value
        return node


def _decorator_path(resolver: _Resolver, node: ast.expr) -> str | None:
    target = node.func if isinstance(node, ast.Call) else node
    return resolver.resolve(target)


def check_source(source: str, spec: GateSpec) -> list[GateViolation]:
    """Every gate violation in ``source`` (empty list: the candidate may run)."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        return [GateViolation(exc.lineno or 0, f"syntax error: {exc.msg}")]
    resolver = _Resolver(tree)
    found: list[GateViolation] = []

    def add(node: ast.AST, message: str) -> None:
        found.append(GateViolation(getattr(node, "lineno", 0), message))

    for line, module, full in resolver.imports:
        denied = any(_is_under(full, d) or _is_under(module, d) for d in spec.forbidden_imports)
        banned = any(_is_under(full, b) for b in BANNED_PATHS) or full.endswith(".*")
        if denied or banned or module not in spec.allowed_imports:
            allowed = ", ".join(spec.allowed_imports)
            found.append(GateViolation(line, f"import of '{full}' is not allowed "
                                             f"(allowed modules: {allowed})"))

    method_bans = {op[1:] for op in spec.forbidden_ops if op.startswith(".")}
    path_bans = [op for op in spec.forbidden_ops if not op.startswith(".") and op != "@"]
    seen_paths: set[tuple[int, str]] = set()
    matmul_banned = "@" in spec.forbidden_ops
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult) and matmul_banned:
            add(node, "uses the '@' matmul operator, which computes what this problem asks you "
                      "to implement in a kernel")
        if isinstance(node, ast.AugAssign) and isinstance(node.op, ast.MatMult) and matmul_banned:
            add(node, "uses the '@=' matmul operator")
        if isinstance(node, (ast.Attribute, ast.Name, ast.Call)):  # Call: getattr(mod, "x")
            path = resolver.resolve(node)
            if path and (node.lineno, path) not in seen_paths:
                seen_paths.add((node.lineno, path))
                for ban in path_bans:
                    if _is_under(path, ban):
                        add(node, f"uses {path}, the reference op this problem asks you to "
                                  "implement yourself")
                for ban in BANNED_PATHS:
                    if _is_under(path, ban):
                        add(node, f"uses {path}, which is not allowed in kernel candidates "
                                  "(private internals, compilers, streams, timers or drivers)")
        if isinstance(node, ast.Attribute):
            base_path = resolver.resolve(node.value) or ""
            # Method bans target tensors (x.softmax); triton.language functions are the
            # kernel's own building blocks (tl.erf, tl.softmax).
            if node.attr in method_bans and not _is_under(base_path, "triton"):
                add(node, f"calls .{node.attr}, the reference op this problem asks you to "
                          "implement yourself")
            if node.attr in BANNED_ATTRIBUTES:
                add(node, f"touches .{node.attr} (streams, events and timers are off limits: "
                          "the harness does the timing)")
            if node.attr.startswith("__") and node.attr not in ALLOWED_DUNDERS:
                add(node, f"accesses dunder attribute {node.attr}")
        if isinstance(node, ast.Name):
            if node.id in BANNED_BUILTINS:
                add(node, f"uses builtin '{node.id}', which is not allowed in kernel candidates")
            elif node.id.startswith("__") and node.id not in ALLOWED_DUNDERS:
                add(node, f"uses dunder name {node.id}")
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id == "getattr"
                and not (len(node.args) >= 2 and isinstance(node.args[1], ast.Constant))):
            add(node, "getattr with a computed attribute name is not allowed")
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and (
                node.name.startswith("__") and node.name not in ALLOWED_DUNDERS):
            add(node, f"defines dunder method {node.name} (operator/dispatch overrides are "
                      "not allowed)")
        if isinstance(node, (ast.Global, ast.Nonlocal)):
            add(node, "global/nonlocal state is not allowed (it invites caching across calls)")
        _check_monkeypatch(node, resolver, add)

    _check_model_class(tree, spec, add)
    if spec.backend == "triton":
        _check_triton_kernel(tree, resolver, add)
    return found


def _check_monkeypatch(node: ast.AST, resolver: _Resolver, add) -> None:  # type: ignore[no-untyped-def]
    targets: list[ast.expr] = []
    if isinstance(node, ast.Assign):
        targets = list(node.targets)
    elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
        targets = [node.target]
    elif isinstance(node, ast.Delete):
        targets = list(node.targets)
    flat: list[ast.expr] = []
    for target in targets:
        flat.extend(target.elts if isinstance(target, (ast.Tuple, ast.List)) else [target])
    for target in flat:
        if not isinstance(target, (ast.Attribute, ast.Subscript)):
            continue
        root = resolver.root(target)
        path = resolver.resolve(root) if isinstance(root, ast.Name) else None
        if path is not None:
            add(target,
                f"assigns to an attribute of {path} (monkeypatching modules is not allowed)")


def _check_model_class(tree: ast.Module, spec: GateSpec, add) -> None:  # type: ignore[no-untyped-def]
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == spec.class_name]
    if not classes:
        add(tree, f"no top-level class {spec.class_name} (the candidate must define it)")
        return
    methods = {n.name for n in classes[0].body if isinstance(n, ast.FunctionDef)}
    if "forward" not in methods:
        add(classes[0], f"{spec.class_name} has no forward method")


def _check_triton_kernel(tree: ast.Module, resolver: _Resolver, add) -> None:  # type: ignore[no-untyped-def]
    kernels: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            for deco in node.decorator_list:
                if _decorator_path(resolver, deco) in ("triton.jit", "triton.autotune",
                                                       "triton.heuristics"):
                    kernels.add(node.name)
    if not kernels:
        add(tree, "no @triton.jit kernel: this problem must be solved with a Triton kernel")
        return
    launched = any(
        isinstance(node, ast.Call) and isinstance(node.func, ast.Subscript)
        and isinstance(node.func.value, ast.Name) and node.func.value.id in kernels
        for node in ast.walk(tree)
    )
    if not launched:
        add(tree, f"the Triton kernel(s) {', '.join(sorted(kernels))} are never launched "
                  "(expected kernel[grid](...))")
