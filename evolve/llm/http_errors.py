"""HTTP error bodies summarised for one line of a log or an error message.

A proxy in front of a model server answers failures with whole HTML pages, and some
servers echo the request; neither belongs in a run's log or database. An error is
reported as its status, its content type and the first line that says something: a
JSON error's message, an HTML page's title (or first line of text), else the body's
first non-empty line, capped.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

SUMMARY_CHARS = 200
_HTML_START = re.compile(r"<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>]", re.IGNORECASE)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_HEADING = re.compile(r"<h1[^>]*>(.*?)</h1>", re.IGNORECASE | re.DOTALL)
_SCRIPT_OR_STYLE = re.compile(r"<(script|style)[^>]*>.*?</\1>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>")


def _cap(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SUMMARY_CHARS else text[: SUMMARY_CHARS - 3] + "..."


def _html_line(page: str) -> str:
    for pattern in (_TITLE, _HEADING):
        found = pattern.search(page)
        if found and _TAG.sub("", found.group(1)).strip():
            return html.unescape(_TAG.sub("", found.group(1)))
    return first_line(html.unescape(_TAG.sub("\n", _SCRIPT_OR_STYLE.sub("", page))))


def first_line(text: str) -> str:
    """The first non-blank line of ``text``."""
    return next((part.strip() for part in text.splitlines() if part.strip()), "")


def _json_message(body: Any) -> str:
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict):
            for key in ("message", "detail", "msg"):
                if isinstance(error.get(key), str) and error[key].strip():
                    return first_line(str(error[key]))
        elif isinstance(error, str) and error.strip():
            return first_line(error)
        if isinstance(body.get("detail"), str):
            return first_line(str(body["detail"]))
    return ""


def summarise_text(text: str) -> str:
    """One capped line for an error message that may hold an HTML page or JSON."""
    page = _HTML_START.search(text)
    if page is not None:
        before = first_line(text[: page.start()]).rstrip(" -:")
        found = _html_line(text[page.start():])
        return _cap(f"{before}: {found}" if before and found else before or found or "HTML page")
    start = text.find("{")
    if start >= 0:  # a JSON error body, alone or after a client's prefix
        try:
            message = _json_message(json.loads(text[start:]))
        except (ValueError, RecursionError):
            message = ""
        if message:
            before = first_line(text[:start]).rstrip(" -:")
            return _cap(f"{before}: {message}" if before else message)
    return _cap(first_line(text))


def summarise_response(status: int, content_type: str, body: Any) -> str:
    """``HTTP <status> (<content type>): <first line>`` for an error response.

    ``body`` is the parsed JSON (a dict) or the text of the response; an empty
    ``content_type`` (unknown) is left out.
    """
    kind = content_type.split(";", 1)[0].strip().lower()
    if isinstance(body, dict):
        line = _json_message(body) or _cap(json.dumps(body)[:SUMMARY_CHARS])
    elif isinstance(body, (bytes, bytearray)):
        line = summarise_text(bytes(body).decode("utf-8", "replace"))
    elif body is None:
        line = ""
    else:
        line = summarise_text(str(body))
    where = f"HTTP {status} ({kind})" if kind else f"HTTP {status}"
    return f"{where}: {_cap(line) or 'empty body'}"
