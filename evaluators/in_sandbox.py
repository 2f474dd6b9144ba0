"""Shipped into the sandbox child as ``harness_support.py`` for the harnesses there.

Standard library only: the child's file view hides the project tree, so this file
travels with the candidate instead of being imported from ``evaluators``.
"""

from __future__ import annotations

import importlib.util
import random
import sys
from pathlib import Path
from types import ModuleType

CANDIDATE_FILE = "candidate_program.py"


def seed_generators(seed: int) -> None:
    """Seed ``random`` and, when numpy is loaded, numpy's global generator."""
    random.seed(seed)
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed(seed % 2**32)


def load_candidate(harness_file: str) -> ModuleType:
    """Import the candidate that sits next to ``harness_file`` (once per child)."""
    loaded = sys.modules.get("candidate_program")
    if loaded is not None:
        return loaded
    path = Path(harness_file).resolve().with_name(CANDIDATE_FILE)
    spec = importlib.util.spec_from_file_location("candidate_program", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {CANDIDATE_FILE}")
    module = importlib.util.module_from_spec(spec)
    sys.modules["candidate_program"] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules["candidate_program"]
        raise
    return module


def function(module: ModuleType, name: str) -> object:
    target = getattr(module, name, None)
    if not callable(target):
        raise AttributeError(f"the program defines no function {name}()")  # noqa: TRY004
    return target
