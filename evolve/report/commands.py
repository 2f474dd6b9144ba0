"""CLI commands for browsing results (leaderboard, show, diff, report)."""

from __future__ import annotations

import argparse


def add_report_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register the browsing commands on the top-level parser."""
    return None
