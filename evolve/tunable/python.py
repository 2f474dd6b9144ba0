"""Literals of a Python source: the syntax tree says what is a value, tokenize finds comments.

A literal counts only where the syntax tree has a constant (so numbers inside strings
and comments never do), a unary minus belongs to its number (``-0.5`` is one literal),
and literals in structural positions (indexes, slices, exponents, dictionary keys,
type annotations, docstrings, f-strings) are left out. Each literal is named after what it sets: the
assignment target, keyword argument, parameter default, dictionary key or compared name.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Iterator

from evolve.tunable.rules import SpaceError, Value
from evolve.tunable.space import Found

NEWLINE_RE = re.compile(r"\r\n|\r|\n")


def line_starts(source: str) -> list[int]:
    """Character offset of each line's start, numbered the way Python's parser numbers lines."""
    return [0] + [m.end() for m in NEWLINE_RE.finditer(source)]


def comments_by_line(source: str) -> dict[int, str]:
    comments: dict[int, str] = {}
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.COMMENT:
                comments[token.start[0]] = token.string
    except (tokenize.TokenError, SyntaxError) as exc:
        raise SpaceError(1, f"cannot tokenize the source ({exc})") from None
    return comments


def python_literals(source: str) -> list[Found]:
    """Every literal in a value position, in source order."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise SpaceError(exc.lineno or 1, f"syntax error: {exc.msg}") from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise SpaceError(1, f"cannot parse the source ({type(exc).__name__})") from None
    starts = line_starts(source)
    lines = NEWLINE_RE.split(source)
    parents: dict[int, ast.AST] = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[id(child)] = node
    found = [
        literal
        for node in _value_constants(tree, parents)
        if (literal := _found(source, node, parents, starts, lines)) is not None
    ]
    return sorted(found, key=lambda f: f.start)


def _value_constants(tree: ast.AST, parents: dict[int, ast.AST]) -> Iterator[ast.Constant]:
    skip: set[int] = set()
    for node in ast.walk(tree):
        for part in _structural_parts(node):
            skip.update(id(sub) for sub in ast.walk(part))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and id(node) not in skip:
            value = node.value
            if value is None or isinstance(value, (bool, int, float, str)):
                yield node


def _structural_parts(node: ast.AST) -> Iterator[ast.AST]:
    """Sub-trees whose literals are structure, not settings."""
    if isinstance(node, ast.Subscript):
        yield node.slice
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
        yield node.right
    elif isinstance(node, ast.JoinedStr):
        yield node
    elif isinstance(node, (ast.AnnAssign, ast.arg)) and node.annotation is not None:
        yield node.annotation
    elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.returns is not None:
        yield node.returns
    elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
        yield node.value  # docstrings and bare expressions
    elif isinstance(node, (ast.MatchValue, ast.MatchSingleton)):
        yield node
    elif isinstance(node, ast.Dict):
        yield from (key for key in node.keys if key is not None)  # keys name, values set


def _found(
    source: str,
    node: ast.Constant,
    parents: dict[int, ast.AST],
    starts: list[int],
    lines: list[str],
) -> Found | None:
    value: Value = node.value  # type: ignore[assignment]  # _value_constants filtered it
    span: ast.expr = node
    parent = parents.get(id(node))
    signed = isinstance(parent, ast.UnaryOp) and isinstance(parent.op, (ast.USub, ast.UAdd))
    if signed and isinstance(value, (int, float)) and not isinstance(value, bool):
        assert isinstance(parent, ast.UnaryOp)
        span = parent
        value = -value if isinstance(parent.op, ast.USub) else value
    if span.end_lineno is None or span.end_col_offset is None:
        return None
    start = _offset(starts, lines, span.lineno, span.col_offset)
    end = _offset(starts, lines, span.end_lineno, span.end_col_offset)
    text = source[start:end]
    col = start - starts[span.lineno - 1]
    return Found(value, text, start, end, span.lineno, col, _base(span, parents))


def _offset(starts: list[int], lines: list[str], lineno: int, byte_col: int) -> int:
    """A character offset from the parser's (line, UTF-8 byte column)."""
    line = lines[lineno - 1]
    chars = len(line.encode("utf-8")[:byte_col].decode("utf-8", errors="ignore"))
    return starts[lineno - 1] + chars


def _base(node: ast.AST, parents: dict[int, ast.AST]) -> str:
    """The name a literal gets from what it sets (see the module docstring)."""
    child, parent = node, parents.get(id(node))
    while parent is not None:
        name = _name_from(parent, child)
        if name:
            return name
        if isinstance(parent, ast.stmt):
            break
        child, parent = parent, parents.get(id(parent))
    return f"line{getattr(node, 'lineno', 0)}"


def _name_from(parent: ast.AST, child: ast.AST) -> str:
    if isinstance(parent, ast.keyword) and parent.arg:
        return parent.arg
    if isinstance(parent, ast.arguments):
        return _default_name(parent, child)
    if isinstance(parent, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
        return _target_name(targets[0])
    if isinstance(parent, ast.Dict):
        for key, value in zip(parent.keys, parent.values):
            if value is child and isinstance(key, ast.Constant) and isinstance(key.value, str):
                return key.value
    if isinstance(parent, ast.Compare):
        for operand in (parent.left, *parent.comparators):
            if operand is not child and isinstance(operand, (ast.Name, ast.Attribute)):
                return _target_name(operand)
    if isinstance(parent, ast.Return):
        return "return"
    if isinstance(parent, ast.Call) and child in parent.args:
        return _target_name(parent.func)
    return ""


def _default_name(arguments: ast.arguments, child: ast.AST) -> str:
    positional = [*arguments.posonlyargs, *arguments.args]
    for arg, default in zip(positional[len(positional) - len(arguments.defaults) :],
                            arguments.defaults):  # fmt: skip
        if default is child:
            return arg.arg
    for arg, kw_default in zip(arguments.kwonlyargs, arguments.kw_defaults):
        if kw_default is child:
            return arg.arg
    return ""


def _target_name(target: ast.AST) -> str:
    if isinstance(target, ast.Name):
        return target.id
    if isinstance(target, ast.Attribute):
        return target.attr
    if isinstance(target, (ast.Subscript, ast.Starred)):
        return _target_name(target.value)
    if isinstance(target, (ast.Tuple, ast.List)) and target.elts:
        return _target_name(target.elts[0])
    return ""
