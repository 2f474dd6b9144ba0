"""Name -> factory registries: built-in names, ``module:attr`` strings and entry points.

Every extension point (evaluators, LLM backends, executors, parent selectors, search
hooks, model selectors) resolves its strategy through a :class:`Registry` instead of
if/elif dispatch, so third-party code plugs in by name (entry point), by import path
(``pkg.mod:attr``) or by instance. A plug-in's own settings come from the YAML as an
``args`` mapping, checked against the factory's signature before anything is built.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Iterable, Mapping
from importlib.metadata import entry_points
from typing import Any, Generic, TypeVar

from evolve.errors import UserError, did_you_mean

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


def accepted_arguments(factory: Any, reserved: Iterable[str] = ()) -> tuple[list[str], bool]:
    """Keyword names ``factory`` accepts (less ``reserved``), and whether it takes ``**kw``."""
    try:
        params = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return [], True
    skip = set(reserved)
    names = [
        p.name
        for p in params
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name not in skip
    ]
    return names, any(p.kind is p.VAR_KEYWORD for p in params)


def check_args(
    factory: Any, args: Mapping[str, Any], where: str, what: str, reserved: Iterable[str] = ()
) -> None:
    """UserError naming ``<where>.<key>`` for a key ``factory`` does not accept."""
    accepted, takes_any = accepted_arguments(factory, reserved)
    if takes_any:
        return
    for key in args:
        if key not in accepted:
            raise UserError(
                f"unknown argument '{key}' for {what}{did_you_mean(key, accepted)} "
                f"(accepted: {', '.join(accepted) or 'none'})",
                f"{where}.{key}",
            )


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
            f"unknown {self.kind} '{name}'{did_you_mean(name, self.names())} (known: {known}; "
            "or give 'package.module:attr')",
            where,
        )

    def create(
        self, name: str, args: Mapping[str, Any], where: str, name_key: str = "name", /,
        **bound: Any,
    ) -> T:  # fmt: skip
        """Build ``name`` as ``factory(**bound, **args)``: ``bound`` are what the framework
        passes, ``args`` the plug-in's own settings from ``<where>.args`` (checked first);
        ``<where>.<name_key>`` is the key that named the plug-in."""
        factory = self.check(name, args, where, name_key, bound)
        try:
            return factory(**bound, **dict(args))
        except (TypeError, ValueError) as exc:
            raise UserError(
                f"{self.kind} '{name}' could not be created ({type(exc).__name__}: {exc})",
                f"{where}.args",
            ) from None

    def check(
        self, name: str, args: Mapping[str, Any], where: str, name_key: str = "name",
        reserved: Iterable[str] = (),
    ) -> Callable[..., T]:  # fmt: skip
        """Resolve ``name`` and check ``args`` against its factory without building it, so a
        typo is reported before a run starts; ``reserved`` are the framework's arguments."""
        factory = self.resolve(name, f"{where}.{name_key}")
        check_args(factory, args, f"{where}.args", f"{self.kind} '{name}'", reserved=reserved)
        return factory

    def wrong_type(self, name: str, expected: str, where: str, name_key: str = "name") -> UserError:
        """The error for a factory that built something other than a ``expected``."""
        return UserError(f"{self.kind} '{name}' did not build a {expected}", f"{where}.{name_key}")
