"""Source-level mutation operators used by the offline mutation engine.

Each operator takes a :class:`Source` (program text with its EVOLVE-BLOCK line ranges)
and a seeded RNG, and returns a :class:`Mutation` with the new program text, or None
when it does not apply. Operators only touch lines inside EVOLVE-BLOCK bodies; the
caller checks that the result still parses.
"""

from __future__ import annotations

import ast
import io
import keyword
import math
import random
import re
import tokenize
from collections.abc import Iterator
from dataclasses import dataclass

from evolve.edits import editable_ranges

NUMBER_RE = re.compile(r"(?<![\w.])(\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?(?![\w.])")
OPERATOR_SWAPS = {
    "<": "<=",
    "<=": "<",
    ">": ">=",
    ">=": ">",
    "+": "-",
    "-": "+",
    "*": "/",
    "/": "*",
    "+=": "-=",
    "-=": "+=",
    "*=": "/=",
    "/=": "*=",
}
NAME_SWAPS = {"min": "max", "max": "min"}
PROTECTED_STATEMENTS = (
    ast.Return,
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.Global,
    ast.Nonlocal,
)


@dataclass
class Mutation:
    code: str
    description: str


class Source:
    """A program's text, lines, editable line indexes and (for Python) its syntax tree."""

    def __init__(self, code: str, language: str = "python") -> None:
        self.code = code
        self.language = language
        self.lines = code.splitlines()
        self.trailing_newline = code.endswith("\n")
        self.ranges = editable_ranges(code)
        self.editable = {i for s, e in self.ranges for i in range(s, e)}
        self.tree: ast.Module | None = None
        if language == "python":
            try:
                self.tree = ast.parse(code)
            except SyntaxError:
                self.tree = None

    def join(self, lines: list[str]) -> str:
        return "\n".join(lines) + ("\n" if self.trailing_newline else "")

    def span_editable(self, first: int, last: int) -> bool:
        """Lines ``first..last`` (1-based, inclusive) all inside one EVOLVE-BLOCK body."""
        return any(s <= first - 1 and last <= e for s, e in self.ranges)

    def replace_span(self, row: int, col: int, end_col: int, text: str) -> str:
        lines = list(self.lines)
        line = lines[row]
        lines[row] = line[:col] + text + line[end_col:]
        return self.join(lines)


# ---------------------------------------------------------------- numbers


def perturb_number(text: str, rng: random.Random, scale: float) -> str | None:
    """A nearby literal of the same kind: ints stay ints, floats move by a small factor."""
    if "_" in text or text[:2].lower() in ("0x", "0o", "0b") or text[-1:] in "jJ":
        return None
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return None
    if isinstance(value, int):
        if abs(value) <= 16:
            new = value + rng.choice((-2, -1, 1, 1, 2))
            new = max(0, new) if value >= 0 else new
        else:
            new = round(value * math.exp(rng.gauss(0.0, scale)))
        if new == value:
            new = value + 1
        return str(new)
    if not isinstance(value, float) or not math.isfinite(value):
        return None
    if value == 0.0 or rng.random() < 0.25:
        step = rng.gauss(0.0, scale) * max(abs(value), 0.01)
        new_value = abs(value + step) if value >= 0 else value + step
    else:
        new_value = value * math.exp(rng.gauss(0.0, scale))
    rendered = f"{new_value:.4g}"
    if not any(ch in rendered for ch in ".eEn"):
        rendered += ".0"
    if rendered == text or float(rendered) == value:
        rendered = f"{value * (1.1 if rng.random() < 0.5 else 0.9):.6g}"
        if not any(ch in rendered for ch in ".eEn"):
            rendered += ".0"
    return rendered if float(rendered) != value else None


def _python_tokens(source: Source) -> list[tokenize.TokenInfo]:
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source.code).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return []
    return tokens


def perturb_constant(source: Source, rng: random.Random, scale: float) -> Mutation | None:
    if source.tree is not None:
        spots = [
            (t.start[0] - 1, t.start[1], t.end[1], t.string)
            for t in _python_tokens(source)
            if t.type == tokenize.NUMBER
            and t.start[0] == t.end[0]
            and t.start[0] - 1 in source.editable
        ]
    else:  # other languages: decimal literals found by pattern
        spots = [
            (row, m.start(), m.end(), m.group(0))
            for row in sorted(source.editable)
            for m in NUMBER_RE.finditer(source.lines[row])
        ]
    rng.shuffle(spots)
    for row, col, end_col, text in spots:
        new = perturb_number(text, rng, scale)
        if new is not None:
            return Mutation(
                source.replace_span(row, col, end_col, new),
                f"change the constant {text} to {new} on line {row + 1}",
            )
    return None


# ---------------------------------------------------------------- operators


def _binary_position(previous: tokenize.TokenInfo | None) -> bool:
    """True when an operator follows an operand (so it is binary, not unary or *args)."""
    if previous is None:
        return False
    if previous.type in (tokenize.NUMBER, tokenize.STRING):
        return True
    if previous.type == tokenize.NAME:
        return not keyword.iskeyword(previous.string) or previous.string in (
            "True",
            "False",
            "None",
        )
    return previous.string in (")", "]", "}")


def swap_operator(source: Source, rng: random.Random) -> Mutation | None:
    spots: list[tuple[int, int, int, str, str]] = []
    if source.tree is not None:
        tokens = [
            t for t in _python_tokens(source) if t.type not in (tokenize.NL, tokenize.COMMENT)
        ]
        for index, tok in enumerate(tokens):
            row = tok.start[0] - 1
            if row not in source.editable or tok.start[0] != tok.end[0]:
                continue
            previous = tokens[index - 1] if index else None
            following = tokens[index + 1] if index + 1 < len(tokens) else None
            if tok.type == tokenize.OP and tok.string in OPERATOR_SWAPS:
                if tok.string in ("+", "-", "*", "/") and not _binary_position(previous):
                    continue
                spots.append(
                    (row, tok.start[1], tok.end[1], tok.string, OPERATOR_SWAPS[tok.string])
                )
            elif tok.type == tokenize.NAME and tok.string in NAME_SWAPS:
                if following is None or following.string != "(":
                    continue
                spots.append((row, tok.start[1], tok.end[1], tok.string, NAME_SWAPS[tok.string]))
    else:
        pattern = re.compile(r"(?<=\s)(<=|>=|<|>|\+|-|\*|/)(?=\s)")
        for row in sorted(source.editable):
            for m in pattern.finditer(source.lines[row]):
                spots.append((row, m.start(), m.end(), m.group(0), OPERATOR_SWAPS[m.group(0)]))
    if not spots:
        return None
    row, col, end_col, old, new = rng.choice(spots)
    return Mutation(
        source.replace_span(row, col, end_col, new),
        f"replace '{old}' with '{new}' on line {row + 1}",
    )


# ---------------------------------------------------------------- statements


def _first_line(node: ast.stmt) -> int:
    decorators: list[ast.expr] = getattr(node, "decorator_list", [])
    return min([node.lineno] + [d.lineno for d in decorators])


def _statement_lists(source: Source) -> Iterator[list[ast.stmt]]:
    """Statement lists whose statements all lie inside the EVOLVE-BLOCKs."""
    if source.tree is None:
        return
    for node in ast.walk(source.tree):
        for attr in ("body", "orelse", "finalbody"):
            body = getattr(node, attr, None)
            if not (isinstance(body, list) and body and isinstance(body[0], ast.stmt)):
                continue
            if all(source.span_editable(_first_line(s), s.end_lineno or s.lineno) for s in body):
                yield body


def _is_docstring(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )


def _movable(stmt: ast.stmt) -> bool:
    return not isinstance(stmt, PROTECTED_STATEMENTS) and not _is_docstring(stmt)


def _own_lines(body: list[ast.stmt], index: int) -> tuple[int, int] | None:
    """0-based inclusive line span of ``body[index]`` if no other statement shares it."""
    stmt = body[index]
    first, last = _first_line(stmt) - 1, (stmt.end_lineno or stmt.lineno) - 1
    for other_index, other in enumerate(body):
        if other_index != index:
            o_first, o_last = _first_line(other) - 1, (other.end_lineno or other.lineno) - 1
            if o_first <= last and first <= o_last:
                return None
    return first, last


def _feeds(first: ast.stmt, second: ast.stmt) -> bool:
    """True when ``second`` reads a name ``first`` binds: swapping them would read it
    before it exists (an UnboundLocalError, not a new idea)."""
    read = {
        n.id for n in ast.walk(second) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
    }
    return bool(_bound_names(first) & read)


def swap_statements(source: Source, rng: random.Random) -> Mutation | None:
    pairs = []
    for body in _statement_lists(source):
        for i in range(len(body) - 1):
            if _movable(body[i]) and _movable(body[i + 1]) and not _feeds(body[i], body[i + 1]):
                a, b = _own_lines(body, i), _own_lines(body, i + 1)
                if a and b:
                    pairs.append((a, b))
    if not pairs:
        return None
    (a0, a1), (b0, b1) = rng.choice(pairs)
    lines = source.lines
    new = (
        lines[:a0] + lines[b0 : b1 + 1] + lines[a1 + 1 : b0] + lines[a0 : a1 + 1] + lines[b1 + 1 :]
    )
    return Mutation(source.join(new), f"swap the statements on lines {a0 + 1} and {b0 + 1}")


def _stateful(stmt: ast.stmt) -> bool:
    """Statements whose repetition changes behaviour (x += 1, x = f(x), xs.append(y))."""
    if isinstance(stmt, ast.AugAssign):
        return True
    if isinstance(stmt, ast.Assign):
        stored = {n.id for t in stmt.targets for n in ast.walk(t) if isinstance(n, ast.Name)}
        read = {n.id for n in ast.walk(stmt.value) if isinstance(n, ast.Name)}
        return bool(stored & read)
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)


def duplicate_statement(source: Source, rng: random.Random) -> Mutation | None:
    spans = []
    for body in _statement_lists(source):
        for i, stmt in enumerate(body):
            span = _own_lines(body, i)
            if span and _stateful(stmt):
                spans.append(span)
    if not spans:
        return None
    first, last = rng.choice(spans)
    lines = source.lines
    new = lines[: last + 1] + lines[first : last + 1] + lines[last + 1 :]
    return Mutation(source.join(new), f"repeat the statement on line {first + 1}")


def _bound_names(node: ast.AST) -> set[str]:
    names = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
            names.add(sub.id)
        elif isinstance(sub, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in sub.names)
        elif isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(sub.name)
        elif isinstance(sub, ast.arg):
            names.add(sub.arg)
    return names


def _direct_bindings(stmt: ast.stmt) -> set[str]:
    """Names a statement itself binds before they can be read (AugAssign needs one already)."""
    names: set[str] = set()
    parts: list[ast.AST] = []
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
        names.add(stmt.name)
        args = stmt.args
        names.update(a.arg for a in args.posonlyargs + args.args + args.kwonlyargs)
        names.update(a.arg for a in (args.vararg, args.kwarg) if a is not None)
    elif isinstance(stmt, ast.ClassDef):
        names.add(stmt.name)
    elif isinstance(stmt, ast.Assign):
        parts = list(stmt.targets)
    elif isinstance(stmt, (ast.AnnAssign, ast.For, ast.AsyncFor)):
        parts = [stmt.target]
    elif isinstance(stmt, (ast.With, ast.AsyncWith)):
        parts = [item.optional_vars for item in stmt.items if item.optional_vars is not None]
    elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
        names.update((a.asname or a.name).split(".")[0] for a in stmt.names)
    for part in parts:
        names.update(
            n.id for n in ast.walk(part) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
        )
    return names


def delete_statement(source: Source, rng: random.Random) -> Mutation | None:
    """Delete a statement when every name it binds is also bound elsewhere (no NameError)."""
    if source.tree is None:
        return None
    bindings = [(s, _direct_bindings(s)) for s in ast.walk(source.tree) if isinstance(s, ast.stmt)]
    candidates = []
    for body in _statement_lists(source):
        if len(body) < 2:
            continue
        for i, stmt in enumerate(body):
            span = _own_lines(body, i)
            if not span or not _movable(stmt):
                continue
            bound = _bound_names(stmt) - {"_"}
            if bound:
                inside = {id(n) for n in ast.walk(stmt)}
                elsewhere = set().union(*(b for s, b in bindings if id(s) not in inside))
                if not bound <= elsewhere:
                    continue
            candidates.append(span)
    if not candidates:
        return None
    first, last = rng.choice(candidates)
    new = source.lines[:first] + source.lines[last + 1 :]
    return Mutation(source.join(new), f"delete the statement on line {first + 1}")
