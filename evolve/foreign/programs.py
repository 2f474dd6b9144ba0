"""What the foreign layouts share: initial programs, names and model entries."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from evolve.edits import evolve_blocks
from evolve.errors import UserError
from evolve.foreign.mapping import ForeignConfig

START, END = "# EVOLVE-BLOCK-START", "# EVOLVE-BLOCK-END"
OPENAI_BASE = "https://api.openai.com/v1"  # the default of both frameworks' clients
_ENV_REFERENCE = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")


def initial_program(folder: Path, name: str, warnings: list[str]) -> tuple[str, str]:
    """``(name, code)``; a file without EVOLVE-BLOCK markers evolves as a whole (as in
    OpenEvolve and ShinkaEvolve), so the markers are put around all of it."""
    path = folder / name
    try:
        code = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UserError("not a text file (invalid UTF-8)", str(path)) from None
    except OSError as exc:
        raise UserError(f"cannot read the initial program ({exc.strerror})", str(path)) from None
    try:
        blocks = evolve_blocks(code)
    except ValueError as exc:
        raise UserError(str(exc), str(path)) from None
    if not blocks:
        body = code if code.endswith("\n") or not code else code + "\n"
        code = f"{START}\n{body}{END}\n"
        warnings.append(f"{name}: no EVOLVE-BLOCK markers, so the whole file evolves "
                        "(the markers are added around it)")
    return name, code


def problem_name(folder: Path) -> str:
    text = "".join(c.lower() if c.isalnum() else "_" for c in folder.resolve().name)
    return text.strip("_") or "problem"


def api_key_env(config: ForeignConfig, key: str, value: str | None) -> str | None:
    """``${VAR}`` names the variable holding the key; a key written in the file is not
    copied (evolve reads keys from the environment only)."""
    if value is None:
        return None
    match = _ENV_REFERENCE.match(value)
    if match:
        return match.group(1)
    config.note(key, "a key written in the file is not copied (evolve reads keys from the "
                     "environment): export it as OPENAI_API_KEY, or name its variable in "
                     "llm.models[].api_key_env")
    return None


def openai_model(name: str, weight: float, base_url: str | None,
                 key_env: str | None) -> dict[str, Any]:
    """An ``llm.models`` entry for an OpenAI-compatible server."""
    entry: dict[str, Any] = {"name": name, "provider": "openai", "weight": weight}
    if base_url and base_url.rstrip("/") != OPENAI_BASE:
        entry["base_url"] = base_url
    if key_env:
        entry["api_key_env"] = key_env
    return entry
