"""CLI commands for browsing results: leaderboard, show, diff, report, serve.

RUN is a run folder (``runs/circle_packing-20250101-120000``) or its bare name under
``runs/``; PROGRAM is a program id, a unique prefix of one, or ``best``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console

from evolve.report.leaderboard import FORMATS, SORT_KEYS

DEFAULT_RUNS = "runs"


def _console(wide: bool = False) -> Console:
    console = Console(highlight=False)
    if wide and not console.is_terminal:
        console.width = max(console.width, 200)  # piped tables would squash to 80 columns
    return console


def cmd_leaderboard(args: argparse.Namespace) -> int:
    from evolve.report.leaderboard import collect, render, sort_rows

    if args.format not in FORMATS:  # argparse checks choices; kept for API callers
        from evolve.errors import UserError

        raise UserError(f"unknown format {args.format!r}", "--format")
    warnings: list[str] = []
    rows = sort_rows(collect(args.runs, args.problem, warnings), args.sort, args.ascending)
    if args.limit is not None:
        rows = rows[: max(args.limit, 0)]
    for line in warnings:
        print(f"warning: {line}", file=sys.stderr)
    render(rows, args.format, _console(wide=True))
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from evolve.report.show import show_program
    from evolve.report.source import load_run, resolve_program

    with load_run(args.run) as handle:
        program = resolve_program(handle, args.program)
        if args.code_only:
            sys.stdout.write(program.code)
            return 0
        show_program(_console(), handle, program, code=not args.no_code)
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    from evolve.errors import UserError
    from evolve.report.show import show_diff, unified_diff
    from evolve.report.source import load_run, resolve_program

    with load_run(args.run) as handle:
        b = resolve_program(handle, args.b if args.b is not None else args.a)
        if args.b is not None:
            a = resolve_program(handle, args.a)
        elif b.parent_id:
            a = handle.store.get_program(b.parent_id)
        else:
            raise UserError(f"program {b.id[:12]} has no parent; name a second program to compare with",
                            str(handle.run_dir))
        if args.plain:
            print("\n".join(unified_diff(a, b)))
        else:
            show_diff(_console(), a, b)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from evolve.report.html import write_report
    from evolve.report.source import load_run

    with load_run(args.run) as handle:
        path = write_report(handle, args.output, top_n=args.top)
    _console().print(f"wrote {path}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from evolve.report.serve import make_server

    server = make_server(args.runs, args.host, args.port, top_n=args.top)
    host, port = str(server.server_address[0]), server.server_address[1]
    _console().print(f"serving runs under {Path(args.runs).resolve()} at http://{host}:{port}/ (Ctrl-C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def add_report_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register the browsing commands on the top-level parser."""
    p = sub.add_parser("leaderboard", help="compare runs: score on train and holdout, cost, time")
    p.add_argument("--runs", default=DEFAULT_RUNS, help="folder searched for runs (default: runs/)")
    p.add_argument("--problem", help="only runs of this problem (its name in problem.yaml)")
    p.add_argument("--sort", choices=sorted(SORT_KEYS),
                   help="sort by this column (default: by problem, best score first)")
    p.add_argument("--ascending", action="store_true", help="smallest first (numbers) / reverse text order")
    p.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")
    p.add_argument("--limit", type=int, help="show at most this many rows")
    p.set_defaults(handler=cmd_leaderboard)

    p = sub.add_parser("show", help="one program: metrics, per-instance and holdout scores, artifacts, "
                                    "lineage, code")
    p.add_argument("run", help="run folder (or its name under runs/)")
    p.add_argument("program", nargs="?", default="best", help="program id or unique prefix, or 'best' (default)")
    p.add_argument("--no-code", action="store_true", help="leave out the code")
    p.add_argument("--code-only", action="store_true", help="print only the code (plain text, for saving)")
    p.set_defaults(handler=cmd_show)

    p = sub.add_parser("diff", help="readable diff of two programs of a run (or of one and its parent)")
    p.add_argument("run", help="run folder (or its name under runs/)")
    p.add_argument("a", help="program id, unique prefix or 'best'")
    p.add_argument("b", nargs="?", help="second program; left out: compare A's parent with A")
    p.add_argument("--plain", action="store_true", help="plain unified diff (no colours)")
    p.set_defaults(handler=cmd_diff)

    p = sub.add_parser("report", help="write a self-contained HTML report of a run")
    p.add_argument("run", help="run folder (or its name under runs/)")
    p.add_argument("-o", "--output", type=Path, help="output file (default: RUN/report.html)")
    p.add_argument("--top", type=int, default=10, help="programs shown with their code (default 10)")
    p.set_defaults(handler=cmd_report)

    p = sub.add_parser("serve", help="browse all runs under a folder in a browser, live")
    p.add_argument("--runs", default=DEFAULT_RUNS, help="folder searched for runs (default: runs/)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8765, help="port to listen on (default: 8765)")
    p.add_argument("--top", type=int, default=10, help="programs shown with their code per report (default 10)")
    p.set_defaults(handler=cmd_serve)
