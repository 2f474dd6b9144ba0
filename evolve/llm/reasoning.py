"""Reasoning ("thinking") text inside answers: kept in the stored answer, never parsed.

Reasoning models served by llama.cpp, vLLM, Ollama or SGLang without a reasoning parser
put their thinking into the answer itself, as ``<think> ... </think>`` (DeepSeek-R1,
Qwen3, QwQ) or ``<thinking>``/``<reasoning>`` blocks. Some chat templates open the block
in the prompt, so the answer starts inside it and only its closing tag appears. The
thinking often quotes code and even SEARCH/REPLACE drafts, so edits are parsed from what
follows it.
"""

from __future__ import annotations

import re

_TAGS = ("think", "thinking", "reasoning")
_BLOCK = re.compile(r"<(think|thinking|reasoning)>.*?</\1>", re.DOTALL | re.IGNORECASE)
_OPEN = re.compile(r"<(think|thinking|reasoning)>", re.IGNORECASE)
_CLOSE = re.compile(r"</(think|thinking|reasoning)>", re.IGNORECASE)
_EDIT = re.compile(r"^(?:```|<{5,}\s*SEARCH)", re.MULTILINE)  # an answer began before the tag


def split_reasoning(text: str) -> tuple[str, str]:
    """``(reasoning, answer)``: the reasoning blocks of ``text`` and what is left.

    A block that is never closed (the answer was cut while thinking) takes the rest of
    the text; a closing tag before any opening one closes a block the prompt opened.
    """
    thoughts: list[str] = []
    first_close = _CLOSE.search(text)
    first_open = _OPEN.search(text)
    if first_close is not None and (
        (first_open is None or first_close.start() < first_open.start())
        and not _EDIT.search(text[: first_close.start()])
    ):
        thoughts.append(text[: first_close.start()])
        text = text[first_close.end():]

    def keep(match: re.Match[str]) -> str:
        thoughts.append(match.group(0))
        return ""

    text = _BLOCK.sub(keep, text)
    dangling = _OPEN.search(text)
    if dangling is not None:
        thoughts.append(text[dangling.start():])
        text = text[: dangling.start()]
    return "\n".join(t.strip() for t in thoughts if t.strip()), text.strip("\n")


def answer_body(text: str) -> str:
    """The part of an answer edits are parsed from: ``text`` without its reasoning."""
    lowered = text.lower()
    if not any(f"{tag}>" in lowered for tag in _TAGS):
        return text
    return split_reasoning(text)[1]
