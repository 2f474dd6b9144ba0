"""``evolve import FORMAT SOURCE... -o DIR``: the subcommand, for every registered format."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import yaml

from evolve.errors import UserError


def _arg(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected key=value, got {text!r}")
    return key, yaml.safe_load(value)


def add_import_command(sub: Any) -> None:
    """Add ``import`` to the top-level subcommands."""
    p = sub.add_parser("import", help="turn problems written for another framework into "
                                      "problem folders (docs/importing.md)")
    p.add_argument("format", help="the source format, e.g. kernelbench")
    p.add_argument("sources", nargs="+", type=Path, help="files or folders to import")
    p.add_argument("-o", "--output", required=True, type=Path,
                   help="problem folder (one source) or folder of problem folders (several)")
    p.add_argument("--arg", action="append", type=_arg, default=[], metavar="KEY=VALUE",
                   help="a setting of the format's importer (repeatable)")
    p.add_argument("--force", action="store_true", help="replace existing problem folders")
    p.set_defaults(handler=cmd_import)


def cmd_import(args: argparse.Namespace) -> int:
    from evolve.console import make_console
    from evolve.importers import IMPORTERS, Importer, ReportingImporter
    from evolve.problem import load_problem

    for source in args.sources:
        if not source.exists():
            raise UserError("not found", str(source))
    importer = IMPORTERS.create(args.format, dict(args.arg), "import", "format")
    if not isinstance(importer, Importer):
        raise IMPORTERS.wrong_type(args.format, "importer", "import", "format")
    folders = importer.import_problems(list(args.sources), args.output, args.force)
    console = make_console()
    if isinstance(importer, ReportingImporter):  # what did not carry over, said once
        for line in importer.warnings:
            console.print(f"warning: {line}", markup=False, soft_wrap=True, style="yellow")
    for folder in folders:
        initial = load_problem(folder).config.initial_programs[0]
        console.print(f"wrote {folder}  (try: evolve eval {folder} {folder / initial})",
                      markup=False, soft_wrap=True)
    return 0
