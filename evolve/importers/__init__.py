"""Importers: problems written for other frameworks, turned into evolve problem folders.

``evolve import FORMAT SOURCE... -o DIR`` resolves ``FORMAT`` through :data:`IMPORTERS`
(built-in names, ``package.module:attr`` or the ``evolve.importers`` entry point group)
and builds the importer with the ``--arg key=value`` settings, checked against its
signature first. One module per format; the conformance kit is
``evolve.testing.importer_kit``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

from evolve.registry import Registry


@runtime_checkable
class Importer(Protocol):
    """Writes one evolve problem folder per source (a file or a folder of the foreign
    format) and returns the folders it wrote. With one source, ``output`` is the problem
    folder; with several, it holds one folder per source. An existing folder is an error
    (``evolve.errors.UserError``) unless ``overwrite``."""

    def import_problems(self, sources: Sequence[Path], output: Path,
                        overwrite: bool = False) -> list[Path]: ...


@runtime_checkable
class ReportingImporter(Importer, Protocol):
    """An importer that says what did not carry over from its last import (keys with no
    equivalent, and such); ``evolve import`` prints each line once."""

    warnings: list[str]


IMPORTERS: Registry[Importer] = Registry("import format", entry_point_group="evolve.importers")
IMPORTERS.register("kernelbench", "evolve.importers.kernelbench:KernelBenchImporter")
IMPORTERS.register("openevolve", "evolve.importers.openevolve:OpenEvolveImporter")
IMPORTERS.register("shinka", "evolve.importers.shinka:ShinkaImporter")


def problem_folders(sources: Sequence[Path], output: Path) -> list[tuple[Path, Path]]:
    """(source, folder) pairs: ``output`` itself for one source, else one subfolder per
    source named after it (lower case, ``_`` for anything but letters and digits)."""
    if len(sources) == 1:
        return [(Path(sources[0]), Path(output))]
    pairs, seen = [], set()
    for source in sources:
        name = slug(Path(source).stem)
        while name in seen:
            name += "_"
        seen.add(name)
        pairs.append((Path(source), Path(output) / name))
    return pairs


def slug(text: str) -> str:
    out = "".join(c.lower() if c.isalnum() else "_" for c in text).strip("_")
    return out or "problem"
