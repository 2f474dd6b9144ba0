"""Stored text made safe for the medium it is shown in.

Everything a run holds (code, reasons, metric names, artifacts, model, run and problem
names, ``run.json``) comes from candidates, evaluators, configs or whoever handed the
run folder over. Views call these functions on the way out, when they print or render,
so runs written by any version of evolve are covered:

- ``clean(value, limit)``: text with control characters and terminal escape sequences
  removed, cut to ``limit`` characters with a note of how much was left out.
- ``line(value, limit)``: ``clean`` on one line (names, keys, ids, statuses).
- ``terminal(value, limit)``: ``clean`` with Rich markup escaped, for strings that are
  printed as markup; ``TerminalGuard`` strips control characters from everything a
  console prints, whatever the call site did.
- ``html(value, limit)``: ``clean``, HTML-escaped.
- ``chart(value, limit)``: ``line`` with Plotly's label markup (``<a>``, ``<span>``,
  ``<br>``) escaped so it is drawn as text.
- ``log(value, limit)``: ``line``, for one log record (no forged log lines).
- ``csv_cell(value, limit)``: ``line`` that a spreadsheet will not run as a formula.
- ``bounded(mapping)``: a mapping with capped keys, values and number of entries.
- ``clean_json(value)``: a JSON-like value (for ``--json`` output) with every string,
  keys included, cleaned; its structure is kept.

Every function caps the length, ``NAME_CHARS`` by default for one-line fields.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from itertools import islice
from typing import Any

from markupsafe import Markup, escape
from rich.console import Console, ConsoleOptions, ConsoleRenderable, RenderableType, RenderResult
from rich.console import RenderHook as _RenderHook
from rich.markup import escape as _markup_escape
from rich.measure import Measurement
from rich.segment import Segment

NAME_CHARS = 200  # names, keys, ids, statuses, chart labels
TEXT_CHARS = 4_000  # reasons, artifacts, messages
CODE_CHARS = 100_000  # program code and diffs
MAX_ENTRIES = 100  # entries shown of one mapping (metrics, artifacts, ...)

# Escape sequences are removed whole, so no half of one is left to be read as text:
# CSI (ESC [ or 0x9b ... final byte), and the string commands OSC/DCS/SOS/PM/APC
# (ESC ] P X ^ _ or their 8-bit forms ... BEL or ST), then any other ESC + one byte.
_SEQUENCES = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)"
    r"|\x1b[@-Z\\-~]"
)
# C0 controls but tab and newline, DEL, C1 controls, and the Unicode bidirectional
# overrides/isolates, which reorder how a line reads ("Trojan source").
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_SURROGATES = re.compile("[\ud800-\udfff]")  # undecodable bytes; unprintable, unencodable
_WHITESPACE = re.compile(r"\s+")
_SPREADSHEET_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


def strip_controls(text: str) -> str:
    """``text`` without escape sequences, control characters or unpaired surrogates."""
    if text.isprintable():  # the common case: nothing to do (tab and newline are not printable)
        return text
    text = _SEQUENCES.sub("", text)
    text = _CONTROLS.sub("", text)
    return _SURROGATES.sub("\ufffd", text)


_CUT_NOTE = re.compile(r"\.\.\. \([\d,]+ more characters\)\Z")


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, saying how many were left out (text that
    was already cut to ``limit`` or less is left as it is)."""
    if len(text) <= limit:
        return text
    note = _CUT_NOTE.search(text, max(0, len(text) - 40))
    if note is not None and note.start() <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit:,} more characters)"


def clean(value: object, limit: int = TEXT_CHARS) -> str:
    """Stored text for any medium: no control characters, at most ``limit`` characters.

    Only the start of a huge value is scanned, so the cost is bounded by ``limit``.
    """
    return _cut(_text(value), limit, strip_controls)


def line(value: object, limit: int = NAME_CHARS) -> str:
    """``clean`` on one line: newlines and runs of whitespace become one space."""
    return _cut(_text(value), limit, lambda t: _WHITESPACE.sub(" ", strip_controls(t)).strip())


def _cut(text: str, limit: int, transform: Callable[[str], str]) -> str:
    head = text[: 2 * limit + 64]  # a margin: removed sequences shorten the text
    done = transform(head)
    if len(head) < len(text):
        return f"{done[:limit]}... ({len(text) - limit:,} more characters)"
    return clip(done, limit)


def terminal(value: object, limit: int = TEXT_CHARS, *, one_line: bool = False) -> str:
    """``clean`` (or ``line``) with Rich markup escaped: safe inside a markup string."""
    return _markup_escape(line(value, limit) if one_line else clean(value, limit))


def html(value: object, limit: int = TEXT_CHARS, *, one_line: bool = False) -> Markup:
    """``clean`` (or ``line``), HTML-escaped."""
    return escape(line(value, limit) if one_line else clean(value, limit))


def chart(value: object, limit: int = NAME_CHARS) -> str:
    """A Plotly label: one line, its pseudo-HTML tags and entities shown as text.

    Plotly draws ``<a href>``, ``<span style>``, ``<br>`` and entities in every label,
    tick and hover text; escaped, they are drawn as the characters themselves.
    """
    text = line(value, limit)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("%{", "% {")  # inside a hovertemplate, %{...} would be a field


def log(value: object, limit: int = TEXT_CHARS) -> str:
    """One log record's worth of text: a stored newline cannot start a forged record."""
    return line(value, limit)


def csv_cell(value: object, limit: int = TEXT_CHARS) -> str:
    """A CSV field that a spreadsheet shows as text, never evaluates as a formula."""
    text = line(value, limit)
    return "'" + text if text.startswith(_SPREADSHEET_FORMULA) else text


def bounded(
    mapping: Mapping[Any, Any] | Any,
    *,
    entries: int = MAX_ENTRIES,
    value_chars: int = TEXT_CHARS,
) -> dict[str, Any]:
    """A mapping fit to show: keys as ``line``, text values as ``clean``, numbers and
    booleans as they are, other values as compact JSON text; at most ``entries``
    entries (sorted by key), with one more entry saying how many were left out.

    A value that is not a mapping (a damaged field) becomes ``{"(damaged)": text}``.
    """
    if not isinstance(mapping, Mapping):
        return {"(damaged)": clean(mapping, value_chars)}
    items: list[tuple[str, Any]] = []
    for key, value in islice(mapping.items(), entries * 4):
        items.append((line(key), _value(value, value_chars)))
    items.sort(key=lambda kv: kv[0])
    shown = dict(items[:entries])
    left = len(mapping) - len(shown)
    if left > 0:
        shown[f"... {left:,} more entries"] = ""
    return shown


def _value(value: Any, limit: int) -> Any:
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, (str, bytes, bytearray)):
        return clean(value, limit)
    try:
        text = json.dumps(value, default=str, ensure_ascii=False)[: 2 * limit + 64]
    except (TypeError, ValueError, RecursionError):
        text = "(unprintable value)"
    return clean(text, limit)


def clean_json(value: Any, limit: int = CODE_CHARS) -> Any:
    """``value`` with every string in it (dict keys too) passed through ``clean``."""
    if isinstance(value, (str, bytes, bytearray)):
        return clean(value, limit)
    if isinstance(value, Mapping):
        return {clean(k, NAME_CHARS): clean_json(v, limit) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean_json(v, limit) for v in value]
    return value


class TerminalGuard(_RenderHook):
    """A Rich render hook: every segment a console prints loses its control characters.

    Rich's own styling travels as control segments or as styles, not as text, so it is
    kept; anything that reached the text of a segment (a stored name, a traceback) is
    cleaned. Install with ``guard(console)``.
    """

    def process_renderables(self, renderables: list[ConsoleRenderable]) -> list[ConsoleRenderable]:
        return [_Guarded(r) for r in renderables]


class _Guarded:
    def __init__(self, inner: RenderableType) -> None:
        self.inner = inner

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for segment in console.render(self.inner, options):
            if segment.control or segment.text.isprintable():
                yield segment
            else:
                yield Segment(strip_controls(segment.text), segment.style)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, self.inner)


def guard(console: Console) -> Console:
    """Install ``TerminalGuard`` on ``console`` (once) and return it."""
    if not any(isinstance(hook, TerminalGuard) for hook in console._render_hooks):
        console.push_render_hook(TerminalGuard())
    return console
