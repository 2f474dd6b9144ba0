"""Languages of program files: how each one writes the EVOLVE-BLOCK marker comments.

A file's language comes from its name (extension, or the whole name for files such as
``Makefile``), unless the problem's ``languages`` mapping names it: keys are file
patterns (``*.inc``, ``src/kernel.cl``, matched against the path and the file name),
values are language names from :data:`LANGUAGES`. A language without comment syntax
("text") holds no EVOLVE-BLOCKs: such files are context only.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath

from evolve.edits import MARKER_RE


@dataclass(frozen=True)
class Language:
    name: str  # also the code-fence tag shown to the model
    comments: tuple[str, ...]  # line-comment openers a marker may start with ("/*" needs "*/")
    label: str  # how prompts name it ("C", "Python")


def _lang(name: str, comments: tuple[str, ...], label: str) -> Language:
    return Language(name, comments, label)


_SLASHES = ("//", "/*")
LANGUAGES: dict[str, Language] = {
    lang.name: lang
    for lang in (
        _lang("python", ("#",), "Python"),
        _lang("c", _SLASHES, "C"),
        _lang("cpp", _SLASHES, "C++"),
        _lang("cuda", _SLASHES, "CUDA"),
        _lang("rust", _SLASHES, "Rust"),
        _lang("go", _SLASHES, "Go"),
        _lang("java", _SLASHES, "Java"),
        _lang("javascript", _SLASHES, "JavaScript"),
        _lang("typescript", _SLASHES, "TypeScript"),
        _lang("zig", ("//",), "Zig"),
        _lang("bash", ("#",), "shell"),
        _lang("make", ("#",), "Make"),
        _lang("cmake", ("#",), "CMake"),
        _lang("toml", ("#",), "TOML"),
        _lang("yaml", ("#",), "YAML"),
        _lang("ruby", ("#",), "Ruby"),
        _lang("r", ("#",), "R"),
        _lang("sql", ("--",), "SQL"),
        _lang("lua", ("--",), "Lua"),
        _lang("haskell", ("--",), "Haskell"),
        _lang("text", (), "text"),
    )
}
EXTENSIONS: dict[str, str] = {
    ".py": "python", ".pyi": "python", ".pyx": "python",
    ".c": "c", ".h": "c",
    ".cc": "cpp", ".cpp": "cpp", ".cxx": "cpp", ".hpp": "cpp", ".hh": "cpp", ".hxx": "cpp",
    ".cu": "cuda", ".cuh": "cuda",
    ".rs": "rust", ".go": "go", ".java": "java", ".zig": "zig",
    ".js": "javascript", ".mjs": "javascript", ".ts": "typescript",
    ".sh": "bash", ".bash": "bash", ".mk": "make", ".cmake": "cmake",
    ".toml": "toml", ".yaml": "yaml", ".yml": "yaml", ".rb": "ruby", ".r": "r", ".R": "r",
    ".sql": "sql", ".lua": "lua", ".hs": "haskell",
}  # fmt: skip
FILE_NAMES: dict[str, str] = {
    "Makefile": "make", "makefile": "make", "GNUmakefile": "make",
    "CMakeLists.txt": "cmake", "Cargo.toml": "toml", "Dockerfile": "bash",
}  # fmt: skip


def language_of(path: str, overrides: Mapping[str, str] | None = None) -> Language:
    """The language of ``path`` (a relative posix path): override, file name, extension."""
    name = PurePosixPath(path).name
    for pattern, language in (overrides or {}).items():
        if fnmatch.fnmatchcase(path, pattern) or fnmatch.fnmatchcase(name, pattern):
            return LANGUAGES[language]
    known = FILE_NAMES.get(name) or EXTENSIONS.get(PurePosixPath(name).suffix, "text")
    return LANGUAGES[known]


def check_overrides(overrides: Mapping[str, str]) -> str:
    """"" when every value names a known language, else one line saying which does not."""
    for pattern, language in overrides.items():
        if language not in LANGUAGES:
            known = ", ".join(sorted(LANGUAGES))
            return f"'{pattern}': unknown language {language!r} (known: {known})"
    return ""


_OPENER_RE = re.compile(r"^\s*(#|//|/\*|--)")


def marker_problem(path: str, text: str, language: Language) -> str:
    """"" when every EVOLVE-BLOCK marker line of ``text`` is a comment of ``language``,
    else one line naming the file, the line and the syntax expected."""
    for number, line in enumerate(text.splitlines(), start=1):
        if not MARKER_RE.match(line):
            continue
        opener_match = _OPENER_RE.match(line)
        opener = opener_match.group(1) if opener_match else ""
        if not language.comments:
            return (
                f"{path} line {number}: an EVOLVE-BLOCK marker in a {language.label} file, which "
                "has no comment syntax (name its language under 'languages' in problem.yaml)"
            )
        if opener not in language.comments:
            wanted = " or ".join(f"'{c}'" for c in language.comments)
            return (
                f"{path} line {number}: the EVOLVE-BLOCK marker starts with '{opener}', but "
                f"{language.label} comments start with {wanted} (or set its language under "
                "'languages' in problem.yaml)"
            )
        if opener == "/*" and not line.rstrip().endswith("*/"):
            return f"{path} line {number}: the '/*' EVOLVE-BLOCK marker is not closed with '*/'"
    return ""


def describe_languages(names: list[str]) -> str:
    """``["python", "c", "python"]`` -> "Python and C" (for the system prompt)."""
    labels = list(dict.fromkeys(LANGUAGES[n].label for n in names if n != "text"))
    if not labels:
        return "text"
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]
