"""evolve: evolutionary code optimisation for systems research."""

from __future__ import annotations

__version__ = "0.1.0"
