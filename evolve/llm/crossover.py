"""Crossover operators: recombine the parent with inspiration programs.

Homologous recombination by name: a function that exists in both programs is swapped
in from the inspiration, or one statement of the inspiration's version is inserted
into the parent's; when the programs share no function, a whole EVOLVE-BLOCK body is
taken from an inspiration with the same block layout.
"""

from __future__ import annotations

import ast
import random

from evolve.llm.mutations import Mutation, Source, _first_line, _is_docstring


def _functions(source: Source) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    """Functions (any depth) whose whole text lies inside an EVOLVE-BLOCK, by name."""
    found: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
    if source.tree is None:
        return found
    for node in ast.walk(source.tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and source.span_editable(
            _first_line(node), node.end_lineno or node.lineno
        ):
            found.setdefault(node.name, node)
    return found


def _reindent(lines: list[str], old: str, new: str) -> list[str]:
    out = []
    for line in lines:
        if not line.strip():
            out.append("")
        elif line.startswith(old):
            out.append(new + line[len(old) :])
        else:
            out.append(new + line.lstrip())
    return out


def _indent_of(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _sources(
    inspirations: list[tuple[str, str]], language: str, need_tree: bool = True
) -> list[tuple[str, Source]]:
    parsed = []
    for program_id, code in inspirations:
        try:
            source = Source(code, language)
        except ValueError:  # unbalanced markers: not a usable donor
            continue
        if source.tree is not None or not need_tree:
            parsed.append((program_id, source))
    return parsed


def swap_function(
    source: Source, inspirations: list[tuple[str, str]], rng: random.Random
) -> Mutation | None:
    """Replace one of the parent's functions with the same-named one from an inspiration."""
    mine = _functions(source)
    options = []
    for program_id, donor in _sources(inspirations, "python"):
        for name, theirs in _functions(donor).items():
            if name in mine and ast.dump(theirs) != ast.dump(mine[name]):
                options.append((program_id, donor, name, theirs))
    if not options:
        return None
    program_id, donor, name, theirs = rng.choice(options)
    target = mine[name]
    first, last = _first_line(target) - 1, (target.end_lineno or target.lineno) - 1
    d_first, d_last = _first_line(theirs) - 1, (theirs.end_lineno or theirs.lineno) - 1
    donor_lines = donor.lines[d_first : d_last + 1]
    moved = _reindent(
        donor_lines, _indent_of(donor.lines[d_first]), _indent_of(source.lines[first])
    )
    new = source.lines[:first] + moved + source.lines[last + 1 :]
    return Mutation(source.join(new), f"take function {name}() from program {program_id}")


def insert_statement(
    source: Source, inspirations: list[tuple[str, str]], rng: random.Random
) -> Mutation | None:
    """Insert a statement from an inspiration's same-named function that the parent lacks."""
    mine = _functions(source)
    options = []
    for program_id, donor in _sources(inspirations, "python"):
        for name, theirs in _functions(donor).items():
            if name not in mine:
                continue
            have = {ast.dump(s) for s in mine[name].body}
            for index, stmt in enumerate(theirs.body):
                if _is_docstring(stmt) or isinstance(stmt, ast.Return) or ast.dump(stmt) in have:
                    continue
                options.append((program_id, donor, name, index, stmt, len(theirs.body)))
    if not options:
        return None
    program_id, donor, name, index, stmt, donor_len = rng.choice(options)
    body = mine[name].body
    position = round(index / max(donor_len, 1) * len(body))
    lowest = 1 if _is_docstring(body[0]) else 0
    highest = len(body) - 1 if isinstance(body[-1], ast.Return) else len(body)
    position = min(max(position, lowest), max(highest, lowest))
    if position < len(body):
        at = _first_line(body[position]) - 1
    else:
        at = body[-1].end_lineno or body[-1].lineno
    if not any(s <= at <= e for s, e in source.ranges):
        return None
    indent = _indent_of(source.lines[_first_line(body[0]) - 1])
    s_first, s_last = _first_line(stmt) - 1, (stmt.end_lineno or stmt.lineno) - 1
    moved = _reindent(donor.lines[s_first : s_last + 1], _indent_of(donor.lines[s_first]), indent)
    new = source.lines[:at] + moved + source.lines[at:]
    return Mutation(
        source.join(new),
        f"insert a statement from {name}() of program {program_id} at line {at + 1}",
    )


def swap_block(
    source: Source, inspirations: list[tuple[str, str]], rng: random.Random
) -> Mutation | None:
    """Take a whole EVOLVE-BLOCK body from an inspiration with the same number of blocks
    (other languages than Python need no syntax tree)."""
    options = []
    python = source.language == "python"
    for program_id, donor in _sources(inspirations, source.language, need_tree=python):
        if len(donor.ranges) != len(source.ranges):
            continue
        for number, ((s, e), (ds, de)) in enumerate(zip(source.ranges, donor.ranges)):
            if source.lines[s:e] != donor.lines[ds:de]:
                options.append((program_id, number, donor.lines[ds:de]))
    if not options:
        return None
    program_id, number, body = rng.choice(options)
    s, e = source.ranges[number]
    new = source.lines[:s] + body + source.lines[e:]
    return Mutation(source.join(new), f"take EVOLVE-BLOCK {number + 1} from program {program_id}")
