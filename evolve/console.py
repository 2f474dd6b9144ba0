"""Consoles for command output.

On a terminal, tables and panels are laid out for its width and plain lines are left to
the terminal to wrap (so a path copied from the screen stays whole). Anywhere else (a
pipe, a file, a log) nothing is wrapped, cut or padded to a width: a line of output is a
line of text. Whether output is a terminal is asked of the stream itself, not of
variables such as ``COLUMNS`` or ``FORCE_COLOR``, which say nothing about a pipe.
"""

from __future__ import annotations

import sys
from typing import IO, Any

from rich.console import Console
from rich.text import Text

# Width given to rich when output is not a terminal: tables and panels (none of which
# expand) take their natural width, so this only has to exceed any line we print.
UNLIMITED_WIDTH = 1_000_000


def stream_is_terminal(stream: IO[str] | None) -> bool:
    target = stream if stream is not None else sys.stdout
    try:
        return bool(target.isatty())
    except (AttributeError, ValueError):  # closed or file-like without isatty
        return False


class OutputConsole(Console):
    """A rich Console that prints plain lines (str, Text) without hard wraps."""

    def __init__(self, file: IO[str] | None = None, stderr: bool = False) -> None:
        stream = file if file is not None else (sys.stderr if stderr else None)
        self.interactive = stream_is_terminal(stream)
        super().__init__(
            file=file,
            stderr=stderr,
            highlight=False,
            width=None if self.interactive else UNLIMITED_WIDTH,
            soft_wrap=not self.interactive,
        )

    def print(self, *objects: Any, **kwargs: Any) -> None:
        if "soft_wrap" not in kwargs and all(isinstance(o, (str, Text)) for o in objects):
            kwargs["soft_wrap"] = True
        super().print(*objects, **kwargs)


def make_console(file: IO[str] | None = None, stderr: bool = False) -> OutputConsole:
    """The console every command prints through (stdout unless ``file``/``stderr``);
    control characters in anything it prints are removed (``safe_text.guard``)."""
    from evolve.safe_text import guard

    console = OutputConsole(file=file, stderr=stderr)
    guard(console)
    return console
