"""``evolve import shinka FOLDER -o DIR``: a ShinkaEvolve task folder as a native problem.

The mapping is the one ``evolve run FOLDER`` uses (evolve.foreign.shinka); the new folder
keeps ShinkaEvolve's evaluator, in compatibility mode.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from evolve.foreign.shinka import ShinkaLayout
from evolve.importers.native import import_folders


class ShinkaImporter:
    """``config``: the folder's config file to map (default shinka.yaml, or the folder's
    only shinka*.yaml)."""

    def __init__(self, config: str | None = None) -> None:
        self.layout = ShinkaLayout(config)
        self.warnings: list[str] = []

    def import_problems(self, sources: Sequence[Path], output: Path,
                        overwrite: bool = False) -> list[Path]:
        written, self.warnings = import_folders(self.layout, sources, output, overwrite)
        return written
