"""Dependencies point one way: no package imports a higher layer, and no modules import
each other in a cycle. Every import counts, also those inside functions and under
``TYPE_CHECKING`` (a cycle hidden in a function is still a cycle).

The layers, lowest first, are the picture in docs/architecture.md; a unit may import
its own layer and the ones below. Adding a module means placing it here.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

LAYERS: list[set[str]] = [
    {"evolve", "evolve.errors", "evolve.safe_text", "evolve.registry", "evolve.edits",
     "evolve.loose_match", "evolve.tunable", "evolve.languages", "evolve.codebase",
     "evolve.file_edits"},
    {
        "evolve.config_sources",
        "evolve.config",
        "evolve.config_template",
        "evolve.console",
        "evolve.run_folder",
    },
    {"evolve.database", "evolve.prompts", "evolve.problem", "evolve.foreign"},
    {"evolve.llm", "evolve.evaluation"},
    {"evolve.search"},
    {"evolve.budget", "evolve.progress", "evolve.runs", "evolve.report", "evolve.importers"},
    {
        "evolve.programs",
        "evolve.proposal",
        "evolve.asking",
        "evolve.seeding",
        "evolve.controller",
        "evolve.tuning",
        "evolve.plugins",
        "evolve.preflight",
    },
    {"evolve.testing", "evolve.cli", "evolve.tune_cli"},
]
# Shipped evaluators sit beside the framework: they may use the evaluation seam (and what
# it stands on) and the simulators, nothing of the search or the loop.
EVALUATOR_MAY_IMPORT = {
    "evolve",
    "evolve.errors",
    "evolve.safe_text",
    "evolve.registry",
    "evolve.evaluation",
    "simulators",
    "evaluators",
}
# Packages with a known module cycle, each with the fix it waits for. A cycle inside such a
# package is tolerated; the test fails when the package has none left (delete the entry)
# and on any other cycle.
KNOWN_CYCLES: dict[str, str] = {}


def modules() -> dict[str, Path]:
    found = {}
    for root in ("evolve", "evaluators", "simulators"):
        for path in sorted((REPO / root).rglob("*.py")):
            if "migrations/versions" in path.as_posix():
                continue
            parts = list(path.relative_to(REPO).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def imports_of(name: str, path: Path, known: set[str]) -> Iterator[str]:
    """The modules ``name`` imports (every import statement in the file)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                yield candidate if candidate in known else base


def graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    return {
        name: {t for t in imports_of(name, path, known) if t in known and t != name}
        for name, path in found.items()
    }


def unit_of(module: str) -> str:
    parts = module.split(".")
    if parts[0] == "evolve":
        return ".".join(parts[:2])
    return ".".join(parts[:2]) if len(parts) > 1 else parts[0]


def layer_of(unit: str) -> int | None:
    return next((i for i, layer in enumerate(LAYERS) if unit in layer), None)


def test_every_framework_package_has_a_layer() -> None:
    units = {unit_of(m) for m in modules() if m.split(".")[0] == "evolve"}
    assert not sorted(u for u in units if layer_of(u) is None), "place new units in LAYERS"


def test_no_import_points_up_a_layer() -> None:
    upward = []
    for source, targets in graph().items():
        for target in targets:
            src, dst = unit_of(source), unit_of(target)
            if source.startswith("evolve"):
                if not target.startswith("evolve"):
                    upward.append(f"{source} -> {target} (the framework imports no evaluator)")
                    continue
                low, high = layer_of(dst), layer_of(src)
                if low is not None and high is not None and low > high:
                    upward.append(f"{source} -> {target}")
            elif source.startswith("simulators") and not target.startswith("simulators"):
                upward.append(f"{source} -> {target} (simulators import nothing of ours)")
            elif source.startswith("evaluators") and target.startswith("evolve"):
                if dst not in EVALUATOR_MAY_IMPORT:
                    upward.append(f"{source} -> {target}")
    assert not upward, "imports against the layering:\n" + "\n".join(sorted(upward))


def strongly_connected(edges: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm, iterative; components of more than one node."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    counter = 0
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(component)
    return found


def test_no_modules_import_each_other_in_a_cycle() -> None:
    cycles = [sorted(c) for c in strongly_connected(graph())]

    def known(cycle: list[str]) -> str | None:
        return next((p for p in KNOWN_CYCLES if all(m.startswith(p + ".") for m in cycle)), None)

    new = [c for c in cycles if known(c) is None]
    assert not new, f"import cycles: {new}"
    gone = sorted(set(KNOWN_CYCLES) - {known(c) for c in cycles})
    assert not gone, f"no cycle is left in {gone}; delete them from KNOWN_CYCLES"


def test_units_do_not_import_each_other_in_a_cycle() -> None:
    units: dict[str, set[str]] = {}
    for source, targets in graph().items():
        if source.startswith("evolve"):
            units.setdefault(unit_of(source), set()).update(
                unit_of(t)
                for t in targets
                if t.startswith("evolve") and unit_of(t) != unit_of(source)
            )
    assert not strongly_connected(units), "packages that import each other"


def test_the_checker_sees_what_it_must() -> None:
    edges = graph()
    assert "evolve.controller" in edges["evolve.cli"]  # imported inside a function
    assert strongly_connected({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]
    assert layer_of(unit_of("evolve.search.hooks")) > layer_of(unit_of("evolve.llm.base"))  # type: ignore[operator]
