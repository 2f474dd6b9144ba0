"""``evolve import openevolve FOLDER -o DIR``: an OpenEvolve folder as a native problem.

The mapping is the one ``evolve run FOLDER`` uses (evolve.foreign.openevolve); the new
folder keeps OpenEvolve's evaluator, in compatibility mode.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from evolve.foreign.openevolve import CONFIG, OpenEvolveLayout
from evolve.importers.native import import_folders


class OpenEvolveImporter:
    """``config``: the folder's config file to map (default config.yaml)."""

    def __init__(self, config: str = CONFIG) -> None:
        self.layout = OpenEvolveLayout(config)
        self.warnings: list[str] = []

    def import_problems(self, sources: Sequence[Path], output: Path,
                        overwrite: bool = False) -> list[Path]:
        written, self.warnings = import_folders(self.layout, sources, output, overwrite)
        return written
