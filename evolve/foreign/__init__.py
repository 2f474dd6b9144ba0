"""Problem folders written for other frameworks, read in place.

A folder without problem.yaml may still be a problem: an OpenEvolve example
(``initial_program.py`` + ``evaluator.py`` + optional ``config.yaml``) or a ShinkaEvolve
task (``initial.py`` + ``evaluate.py`` + optional ``shinka.yaml``). A
:class:`FolderLayout` recognises its format and says what problem.yaml the folder amounts
to: its config mapped key by key onto ours, each key without an equivalent listed once as
a warning. ``evolve.problem.load_problem`` asks the registered layouts
(:data:`LAYOUTS`; more plug in through the ``evolve.folder_layouts`` entry points) when a
folder has no problem.yaml, so ``run``, ``resume``, ``eval`` and ``config`` take such a
folder as it is; ``evolve import`` writes the same mapping out as a native folder.

Their evaluators import and run the candidate themselves, so the problem runs them with
the candidate inside the sandbox (the ``openevolve`` and ``shinka`` evaluators, in
compatibility mode: the candidate can forge its score). See docs/importing.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from evolve.errors import UserError
from evolve.registry import Registry


@dataclass
class ForeignProblem:
    """What a foreign folder amounts to as an evolve problem."""

    format: str  # the layout's registry name, e.g. "openevolve"
    title: str  # how the format is called, e.g. "OpenEvolve"
    directory: Path
    data: dict[str, Any]  # the problem.yaml equivalent (description inline)
    source: str  # what configuration errors name: the foreign config file, or the folder
    programs: list[tuple[str, str]]  # initial programs (file name, code)
    warnings: list[str] = field(default_factory=list)  # keys with no equivalent, and such
    read: list[str] = field(default_factory=list)  # the folder's files this was made from


@runtime_checkable
class FolderLayout(Protocol):
    """One foreign folder format."""

    title: str

    def recognises(self, folder: Path) -> bool:
        """Whether ``folder`` has this format's files (a cheap check on names only)."""
        ...

    def read(self, folder: Path) -> ForeignProblem:
        """The problem the folder amounts to; UserError naming the file when it cannot."""
        ...


LAYOUTS: Registry[FolderLayout] = Registry("folder layout",
                                           entry_point_group="evolve.folder_layouts")
LAYOUTS.register("openevolve", "evolve.foreign.openevolve:OpenEvolveLayout")
LAYOUTS.register("shinka", "evolve.foreign.shinka:ShinkaLayout")


def layout(name: str, **args: Any) -> FolderLayout:
    """The registered layout ``name`` built with its settings (checked first)."""
    built = LAYOUTS.create(name, args, "import", "format")
    if not isinstance(built, FolderLayout):
        raise LAYOUTS.wrong_type(name, "folder layout", "import", "format")
    return built


def recognise(folder: Path) -> ForeignProblem | None:
    """The foreign problem in ``folder``, or None when no layout recognises it."""
    folder = Path(folder)
    if not folder.is_dir():
        return None
    found = [(name, layout(name)) for name in LAYOUTS.names()]
    matching = [(name, built) for name, built in found if built.recognises(folder)]
    if len(matching) > 1:
        titles = " and ".join(built.title for _, built in matching)
        raise UserError(f"holds the files of both {titles} folders; keep one set, or write a "
                        "problem.yaml (docs/importing.md)", str(folder))
    if not matching:
        return None
    name, chosen = matching[0]
    problem = chosen.read(folder)
    problem.format = name
    return problem
