"""The part of ``configargparse`` the published strategies use: argparse under that name."""

from argparse import *  # noqa: F403
from argparse import ArgumentParser, Namespace

__all__ = ["ArgumentParser", "Namespace"]
