"""CLI commands for browsing results: leaderboard, show, diff, report, serve.

RUN is a run folder (``runs/circle_packing-20250101-120000``) or its bare name under
``runs/``; PROGRAM is a program id, a unique prefix of one, or ``best``.
"""

from __future__ import annotations

import argparse
import ipaddress
import secrets
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

from rich.console import Console
from rich.text import Text

from evolve.report.leaderboard import FORMATS, SORT_KEYS
from evolve.safe_text import line as one_line
from evolve.safe_text import strip_controls

DEFAULT_RUNS = "runs"


def _console() -> Console:
    from evolve.console import make_console

    return make_console()


def cmd_leaderboard(args: argparse.Namespace) -> int:
    from evolve.report.leaderboard import collect, render, scored, sort_rows

    if args.format not in FORMATS:  # argparse checks choices; kept for API callers
        from evolve.errors import UserError

        raise UserError(f"unknown format {args.format!r}", "--format")
    warnings: list[str] = []
    rows = sort_rows(collect(args.runs, args.problem, warnings, args.database), args.sort,
                     args.ascending)
    hidden = 0
    if not args.all:
        rows, hidden = scored(rows)
    if args.limit is not None:
        rows = rows[: max(args.limit, 0)]
    for line in warnings:
        print(f"warning: {line}", file=sys.stderr)
    console = _console()
    render(rows, args.format, console)
    if hidden:
        note = (f"{hidden} run(s) without a scored program hidden (failed starts, no valid "
                "program yet); --all shows them")
        if args.format == "table":
            console.print(note, style="dim")
        else:
            print(f"note: {note}", file=sys.stderr)
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from evolve.report.show import show_program
    from evolve.report.source import load_run, resolve_program

    with load_run(args.run, args.database) as handle:
        if _show_calls(args, handle):
            return 0
        program = resolve_program(handle, args.program)
        if args.file is not None and args.file not in program.files:
            from evolve.errors import UserError

            listed = ", ".join(one_line(p) for p in sorted(program.files)[:20]) or "none"
            raise UserError(f"program {one_line(program.id[:12])} has no file "
                            f"{one_line(args.file)!r} (its files: {listed})", "--file")
        if args.code_only or args.file is not None:
            # Exactly as stored when saved to a file; a terminal gets no control characters.
            code = program.files[args.file] if args.file is not None else program.code
            sys.stdout.write(code if not sys.stdout.isatty() else strip_controls(code))
            return 0
        show_program(_console(), handle, program, code=not args.no_code)
    return 0


def _show_calls(args: argparse.Namespace, handle: Any) -> bool:
    """``--failures``, ``--iteration``, ``--call``, ``--prompt``, ``--answer``: the model's
    side of a program or of a failed attempt. False when none of them was given."""
    from evolve.errors import UserError
    from evolve.report.source import resolve_program
    from evolve.report.transcripts import calls_of, show_failures, show_transcripts

    if args.failures:
        show_failures(_console(), handle)
        return True
    by_step = args.iteration is not None or args.call is not None
    if not (by_step or args.prompt or args.answer):
        return False
    if by_step and args.program != "best":
        raise UserError("name a program, --iteration or --call, not several", "evolve show")
    if by_step:
        calls = calls_of(handle, iteration=args.iteration, call_id=args.call)
    else:
        program = resolve_program(handle, args.program)
        calls = calls_of(handle, program=program)
        if not calls:
            raise UserError(f"program {one_line(program.id[:12])} was not written by a model "
                            f"(origin {one_line(program.origin, 40)}): no prompt or answer",
                            str(handle.run_dir))
    both = not (args.prompt or args.answer)
    show_transcripts(_console(), handle, calls, args.prompt or both, args.answer or both)
    return True


def cmd_diff(args: argparse.Namespace) -> int:
    from evolve.errors import UserError
    from evolve.report.show import show_diff, unified_diff
    from evolve.report.source import load_run, resolve_program

    with load_run(args.run, args.database) as handle:
        b = resolve_program(handle, args.b if args.b is not None else args.a)
        if args.b is not None:
            a = resolve_program(handle, args.a)
        elif b.parent_id:
            a = handle.store.get_program(b.parent_id)
        else:
            raise UserError(f"program {b.id[:12]} has no parent; name a second program to "
                            "compare with", str(handle.run_dir))
        if args.plain:
            print("\n".join(unified_diff(a, b)))
        else:
            show_diff(_console(), a, b)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from evolve.report.html import write_report
    from evolve.report.source import load_run

    with load_run(args.run, args.database) as handle:
        path = write_report(handle, args.output, top_n=args.top)
    _console().print(f"wrote {path}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from evolve.report.serve import make_server

    token = args.token if args.token != "" else secrets.token_urlsafe(24)  # bare --token: a new one
    server = make_server(args.runs, args.host, args.port, top_n=args.top, token=token,
                         database=args.database)
    host, port = str(server.server_address[0]), server.server_address[1]
    query = f"?token={quote(token)}" if token else ""
    if not token and not ipaddress.ip_address(host).is_loopback:
        print(f"warning: serving on {host} without --token: anyone who can reach this machine "
              "can read these runs", file=sys.stderr)
    _console().print(Text(f"serving runs under {Path(args.runs).resolve()} at "
                          f"http://{host}:{port}/{query} (Ctrl-C stops)"))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def _add_database(p: argparse.ArgumentParser) -> None:
    p.add_argument("--database", metavar="URL",
                   help="the runs' database when it is not inside the run folder (a shared "
                        "PostgreSQL); a run folder's own run.json is never followed elsewhere")


def add_report_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register the browsing commands on the top-level parser."""
    p = sub.add_parser("leaderboard", help="compare runs: score on train and holdout, cost, time")
    p.add_argument("--runs", default=DEFAULT_RUNS, help="folder searched for runs (default: runs/)")
    p.add_argument("--problem", help="only runs of this problem (its name in problem.yaml)")
    p.add_argument("--sort", choices=sorted(SORT_KEYS),
                   help="sort by this column (default: by problem, best score first)")
    p.add_argument("--ascending", action="store_true",
                   help="smallest first (numbers) / reverse text order")
    p.add_argument("--format", choices=FORMATS, default="table",
                   help="output format (default: table)")
    p.add_argument("--limit", type=int, help="show at most this many rows")
    p.add_argument("--all", action="store_true",
                   help="also list runs without a scored program (failed starts, still seeding)")
    _add_database(p)
    p.set_defaults(handler=cmd_leaderboard)

    p = sub.add_parser("show", help="one program: metrics, per-instance and holdout scores, "
                                    "artifacts, lineage, code")
    p.add_argument("run", help="run folder (or its name under runs/)")
    p.add_argument("program", nargs="?", default="best",
                   help="program id or unique prefix, or 'best' (default)")
    p.add_argument("--no-code", action="store_true", help="leave out the code")
    p.add_argument("--code-only", action="store_true",
                   help="print only the code (plain text, for saving)")
    p.add_argument("--file", metavar="PATH",
                   help="a folder program: print only this file (plain text, for saving)")
    p.add_argument("--prompt", action="store_true",
                   help="the prompt(s) of the LLM call(s) that wrote the program "
                        "(or of --iteration/--call)")
    p.add_argument("--answer", action="store_true",
                   help="the raw answer(s), reasoning included, of those calls")
    p.add_argument("--iteration", type=int, metavar="N",
                   help="every LLM call of iteration N, failed ones included (prompt and answer)")
    p.add_argument("--call", type=int, metavar="ID", help="one LLM call by its id (see --failures)")
    p.add_argument("--failures", action="store_true",
                   help="list the answers that produced no candidate, with their reasons "
                        "and call ids")
    _add_database(p)
    p.set_defaults(handler=cmd_show)

    p = sub.add_parser("diff",
                       help="readable diff of two programs of a run (or of one and its parent)")
    p.add_argument("run", help="run folder (or its name under runs/)")
    p.add_argument("a", help="program id, unique prefix or 'best'")
    p.add_argument("b", nargs="?", help="second program; left out: compare A's parent with A")
    p.add_argument("--plain", action="store_true", help="plain unified diff (no colours)")
    _add_database(p)
    p.set_defaults(handler=cmd_diff)

    p = sub.add_parser("report", help="write a self-contained HTML report of a run")
    p.add_argument("run", help="run folder (or its name under runs/)")
    p.add_argument("-o", "--output", type=Path, help="output file (default: RUN/report.html)")
    p.add_argument("--top", type=int, default=10,
                   help="programs shown with their code (default 10)")
    _add_database(p)
    p.set_defaults(handler=cmd_report)

    p = sub.add_parser("serve", help="browse all runs under a folder in a browser, live")
    p.add_argument("--runs", default=DEFAULT_RUNS, help="folder searched for runs (default: runs/)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8765, help="port to listen on (default: 8765)")
    p.add_argument("--top", type=int, default=10,
                   help="programs shown with their code per report (default 10)")
    p.add_argument("--token", nargs="?", const="", metavar="SECRET",
                   help="every request must carry this secret (bare --token: a random one); "
                        "use it whenever --host is not 127.0.0.1 (see docs/report.md)")
    _add_database(p)
    p.set_defaults(handler=cmd_serve)
