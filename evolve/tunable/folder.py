"""The search space of a folder program: the tunable literals of each editable file.

Each editable file (one holding an EVOLVE-BLOCK) is read in its own language by
``space_of``; parameters are named ``path:name`` so two files may use the same names.
The space offers what a study needs of a single file's space (parameters, values,
``first``, ``written``, ``apply``), with ``apply`` returning the program's combined
text, and ``apply_files`` the files themselves.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from evolve.codebase import combined_text, editable_paths, with_file
from evolve.languages import language_of
from evolve.tunable import space_of
from evolve.tunable.rules import Value
from evolve.tunable.space import Parameter, SearchSpace

SEPARATOR = ":"


@dataclass(frozen=True)
class FolderSpace:
    files: Mapping[str, str]
    spaces: tuple[tuple[str, SearchSpace], ...]  # (path, that file's space), by path

    @property
    def parameters(self) -> tuple[Parameter, ...]:
        return tuple(
            dataclasses.replace(p, name=f"{path}{SEPARATOR}{p.name}")
            for path, space in self.spaces for p in space.parameters
        )

    def __len__(self) -> int:
        return sum(len(space) for _, space in self.spaces)

    def __bool__(self) -> bool:
        return len(self) > 0

    def names(self) -> list[str]:
        return [p.name for p in self.parameters]

    def values(self) -> dict[str, Value]:
        return {p.name: p.value for p in self.parameters}

    def first(self, count: int) -> FolderSpace:
        """At most ``count`` parameters over all files, annotated ones first."""
        if len(self) <= count:
            return self
        ranked = sorted(
            ((path, p) for path, space in self.spaces for p in space.parameters),
            key=lambda item: (not item[1].domain.annotated, item[0], item[1].start),
        )
        kept = {(path, p.name) for path, p in ranked[:count]}
        spaces = tuple(
            (path, SearchSpace(space.source, space.language,
                               tuple(p for p in space.parameters if (path, p.name) in kept)))
            for path, space in self.spaces
        )  # fmt: skip
        return FolderSpace(self.files, tuple((path, s) for path, s in spaces if s))

    def _by_file(self, values: Mapping[str, object]) -> dict[str, dict[str, object]]:
        known = {path for path, _ in self.spaces}
        split: dict[str, dict[str, object]] = {}
        for name, value in values.items():
            path, _, local = name.rpartition(SEPARATOR)
            if path not in known:
                raise ValueError(f"unknown parameters: {name}")
            split.setdefault(path, {})[local] = value
        return split

    def written(self, values: Mapping[str, object]) -> dict[str, Value]:
        spaces = dict(self.spaces)
        out: dict[str, Value] = {}
        for path, local in self._by_file(values).items():
            for name, value in spaces[path].written(local).items():
                out[f"{path}{SEPARATOR}{name}"] = value
        return out

    def apply_files(self, values: Mapping[str, object]) -> dict[str, str]:
        """The program's files with ``values`` written in (ValueError as ``apply``)."""
        spaces = dict(self.spaces)
        files = dict(self.files)
        for path, local in self._by_file(values).items():
            files = with_file(files, path, spaces[path].apply(local))
        return files

    def apply(self, values: Mapping[str, object]) -> str:
        return combined_text(self.apply_files(values))


def folder_space_of(files: Mapping[str, str], overrides: Mapping[str, str] | None = None
                    ) -> FolderSpace:
    """The space of every editable file (SpaceError, naming the file's line, when one
    cannot be read)."""
    spaces = []
    for path in editable_paths(files):
        space = space_of(files[path], language_of(path, overrides).name)
        if space:
            spaces.append((path, space))
    return FolderSpace(dict(files), tuple(spaces))
