"""Name -> factory registries: built-in names, ``module:attr`` strings and entry points.

Every extension point (evaluators, LLM backends, executors, samplers) resolves its
strategy through a :class:`Registry` instead of if/elif dispatch, so third-party code
plugs in by name (entry point), by import path (``pkg.mod:attr``) or by instance.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any, Generic, TypeVar

from evolve.errors import UserError

T = TypeVar("T")


def import_object(path: str, where: str = "") -> Any:
    """Import ``package.module:attr`` (or ``package.module.attr``)."""
    if ":" in path:
        module_name, _, attr = path.partition(":")
    else:
        module_name, _, attr = path.rpartition(".")
    if not module_name or not attr:
        raise UserError(f"'{path}' is not an import path of the form 'package.module:attr'", where)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise UserError(f"cannot import module '{module_name}' ({exc})", where) from None
    obj: Any = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise UserError(f"module '{module_name}' has no attribute '{attr}'", where) from None
    return obj


class Registry(Generic[T]):
    """Maps names to factories; lazily imports built-ins given as import paths."""

    def __init__(self, kind: str, entry_point_group: str | None = None) -> None:
        self.kind = kind
        self.entry_point_group = entry_point_group
        self._factories: dict[str, Callable[..., T] | str] = {}

    def register(self, name: str, factory: Callable[..., T] | str) -> None:
        """Register a factory (a callable, or an import path resolved on first use)."""
        self._factories[name] = factory

    def names(self) -> list[str]:
        found = set(self._factories)
        if self.entry_point_group:
            found.update(ep.name for ep in entry_points(group=self.entry_point_group))
        return sorted(found)

    def resolve(self, name: str, where: str = "") -> Callable[..., T]:
        """Return the factory for a registered name, an entry point or ``module:attr``."""
        factory = self._factories.get(name)
        if isinstance(factory, str):
            factory = import_object(factory, where)
            self._factories[name] = factory
        if factory is not None:
            return factory
        if self.entry_point_group:
            for ep in entry_points(group=self.entry_point_group):
                if ep.name == name:
                    loaded: Callable[..., T] = ep.load()
                    self._factories[name] = loaded
                    return loaded
        if ":" in name:
            obj: Callable[..., T] = import_object(name, where)
            return obj
        known = ", ".join(self.names()) or "none"
        raise UserError(
            f"unknown {self.kind} '{name}' (known: {known}; or give 'package.module:attr')", where
        )
