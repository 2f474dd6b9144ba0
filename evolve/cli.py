"""Command-line interface. Thin: parse arguments, call the API, print.

Errors a user can cause print as one line ``error: <where>: <message>`` and exit 2.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console
from rich.markup import escape
from rich.text import Text

from evolve import __version__, safe_text
from evolve.errors import UserError

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what shells report for Ctrl-C
EXIT_RUN_FAILED = 3  # the run stopped itself: its model's answers gave no candidate
Handler = Callable[[argparse.Namespace], int]


def _count(text: str) -> int:
    """An argparse type: a whole number >= 0 (argparse reports anything else in one line)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {value}")
    return value


def _add_overrides(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, help="run config YAML (see `evolve config init`)")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config key, e.g. --set budget.iterations=50 (repeatable)",
    )


def _console() -> Console:
    from evolve.console import make_console

    return make_console()


# ---------------------------------------------------------------- run / resume


def _offline_notice(problem: Any, console: Console) -> None:
    if not problem.config.llm.models:
        console.print(
            "[yellow]note:[/] no LLM configured (llm.models is empty): using the offline mutation "
            "engine, which tunes constants and recombines code but does not invent algorithms.",
            soft_wrap=True,
        )


def _foreign_notice(problem: Any, console: Console) -> None:
    """A folder of another framework: say so, its trust, and what did not carry over."""
    if not problem.layout:
        return
    from evolve.evaluation.types import COMPATIBILITY_NOTE
    from evolve.foreign import layout

    console.print(Text(f"note: {problem.directory} is read as a folder of "
                       f"{layout(problem.layout).title}; its evaluator runs beside the candidate "
                       "in the sandbox "
                       f"({COMPATIBILITY_NOTE}; see docs/importing.md)"), soft_wrap=True)
    for line in problem.warnings:
        console.print(Text(f"warning: {line}", style="yellow"), soft_wrap=True)


def _isolation_warning() -> None:
    """One line on stderr when sandbox children cannot get their file view here."""
    from evolve.evaluation._fileview import probe

    if not probe():
        print("warning: this machine gives sandboxed candidates no private file view (not "
              "root, no user namespaces): they can read the project, its data and run "
              "databases; see docs/security.md, 'Per platform'", file=sys.stderr)


def _drive(
    controller: Any, extra_iterations: int | None, console: Console, tune: Any = None
) -> tuple[Any, int]:
    """Run the controller; the first Ctrl-C finishes in-flight work, the second aborts.

    Returns the summary and the exit code: 0 when the run stopped by itself (budget),
    128 + the signal number when a signal stopped it (130 for Ctrl-C, 143 for SIGTERM).
    """
    from evolve.report.live import LiveProgress

    received: list[int] = []

    async def main() -> Any:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()

        def on_signal(signum: int) -> None:
            received.append(signum)
            if len(received) == 1:
                by = "user (Ctrl-C)" if signum == signal.SIGINT else signal.Signals(signum).name
                controller.request_stop(f"stopped by {by}; finishing iterations in flight")
            elif task is not None:
                task.cancel()

        try:
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, on_signal, signum)
        except (NotImplementedError, RuntimeError):
            pass
        if tune is not None:  # evolve tune: only a tuning study
            return await controller.run(extra_iterations, tune=tune)
        return await controller.run(extra_iterations)

    with LiveProgress(console) as live:
        controller.progress = live
        try:
            summary = asyncio.run(main())
        except asyncio.CancelledError:  # the second Ctrl-C: in-flight iterations are dropped
            raise KeyboardInterrupt from None
    return summary, (128 + received[0] if received else 0)


def _is_offline(config: Any) -> bool:
    from evolve.report.scores import offline_models

    return offline_models(config.llm.models)


def cmd_run(args: argparse.Namespace) -> int:
    from evolve.controller import Controller
    from evolve.preflight import preflight
    from evolve.problem import load_problem
    from evolve.report.live import print_summary
    from evolve.runs import create_run, join_run

    overrides = list(args.overrides)
    if args.iterations is not None:
        overrides.append(f"budget.iterations={args.iterations}")
    problem = load_problem(args.problem, args.config, overrides)
    # Everything that can be checked is, before a run folder exists (so does `config validate`).
    ready = preflight(problem.config, problem.sources, problem.directory)
    console = _console()
    _offline_notice(problem, console)
    _foreign_notice(problem, console)
    _isolation_warning()
    run = (
        join_run(problem, args.join, args.out, args.name, lock=True)
        if args.join
        else create_run(problem, args.out, args.name, lock=True)
    )
    console.print(f"run folder: {run.run_dir}")
    if problem.config.database.islands_owned is not None:
        console.print(
            f"run id: {run.run_id} (islands {problem.config.database.islands_owned}; "
            f"others join with --join {run.run_id})"
        )
    controller = Controller(problem, run.store, run.run_id, run.run_dir, backend=ready.backend)
    summary, code = _drive(controller, None, console)
    print_summary(summary, console, offline=_is_offline(problem.config))
    return _exit_code(summary, code)


def cmd_resume(args: argparse.Namespace) -> int:
    from evolve.controller import Controller
    from evolve.preflight import preflight
    from evolve.report.live import print_summary
    from evolve.runs import open_run

    # The run's lock (one controller per run folder) is held until this process ends.
    run = open_run(args.run, args.database, lock=True)
    console = _console()
    counters = run.store.counters(run.run_id)
    budget = run.problem.config.budget.iterations
    if args.iterations is None and budget is not None and counters.iterations >= budget:
        console.print(
            f"this run already used its budget ({counters.iterations} iterations run, "
            f"budget {budget}); pass --iterations N to run N more"
        )
        return 0
    ready = preflight(run.problem.config, run.problem.sources, run.problem.directory)
    _offline_notice(run.problem, console)
    _isolation_warning()
    console.print(f"resuming {run.run_dir} at iteration {counters.iterations}")
    controller = Controller(run.problem, run.store, run.run_id, run.run_dir, backend=ready.backend)
    summary, code = _drive(controller, args.iterations, console)
    print_summary(summary, console, offline=_is_offline(run.problem.config))
    return _exit_code(summary, code)


def _exit_code(summary: Any, code: int) -> int:
    """A signal's code; else 3 when the run gave up on its model (status failed, the
    diagnosis also as one line on stderr), else 0."""
    from evolve.progress import RunStatus

    if code or summary.status != RunStatus.FAILED:
        return code
    print(f"error: llm.models: {safe_text.line(summary.stop_reason, safe_text.TEXT_CHARS)}",
          file=sys.stderr)
    return EXIT_RUN_FAILED


# ---------------------------------------------------------------- eval / problems


def cmd_eval(args: argparse.Namespace) -> int:
    from evolve.evaluation.executor import evaluate_file_once
    from evolve.problem import load_problem

    problem = load_problem(args.problem, args.config, args.overrides)
    candidate = Path(args.candidate)
    cfg = problem.config
    files: dict[str, str] | None = None
    if candidate.is_dir():  # a folder program, checked as the problem's own are
        from evolve.codebase import read_program_folder

        files = read_program_folder(candidate, cfg.languages)
    elif not candidate.is_file():
        raise UserError("candidate file or folder not found", str(candidate))
    _isolation_warning()
    with problem.sources.blame():
        result = evaluate_file_once(
            problem_dir=problem.directory,
            evaluator=cfg.evaluator,
            args=dict(cfg.evaluator_args),
            candidate_path=candidate.resolve(),
            timeout_s=cfg.constraints.timeout_s,
            preload=list(cfg.preload),
            seed=cfg.seed,
            files=files,
            build=dataclasses.asdict(cfg.build),
        )
    # Reasons, metric names and artifacts hold candidate-written text: control
    # characters removed, never read as markup (evolve.safe_text).
    if args.json:
        print(json.dumps(safe_text.clean_json(result.to_dict()), default=float))
        return 0
    console = _console()
    status = ("[green]valid[/]" if result.valid
              else f"[red]invalid[/]: {safe_text.terminal(result.reason)}")
    console.print(f"{safe_text.terminal(candidate, one_line=True)}: {status}")
    console.print(f"score: {result.score:.6g}")
    if result.compatibility_mode:
        from evolve.evaluation.types import COMPATIBILITY_NOTE

        console.print(f"[yellow]{COMPATIBILITY_NOTE}[/] (the evaluator ran in its process)")
    for key, value in safe_text.bounded(result.metrics).items():
        shown = f"{value:.6g}" if isinstance(value, float) else str(value)
        console.print(f"  {escape(key)}: {escape(shown)}")
    for name, text in safe_text.bounded(result.artifacts, value_chars=safe_text.CODE_CHARS).items():
        console.print(f"[bold]{escape(name)}[/]")
        console.print(text, markup=False)
    for note in result.run_notes:
        console.print(f"[yellow]note:[/] {safe_text.terminal(note)}")
    return 0


def cmd_problems(args: argparse.Namespace) -> int:
    from evolve.problem import find_problems, shipped_problems_root, summary_of

    root = Path(args.root) if args.root else shipped_problems_root()
    console = _console()
    folders = find_problems(root)
    if not folders:
        console.print(f"no problems found under {root}")
        return 0
    for folder in folders:
        info = summary_of(folder)
        console.print(
            f"[bold]{escape(_from_here(folder))}[/]  ({escape(str(info['evaluator']))})  "
            f"{escape(str(info['summary']))}"
        )
    return 0


def _from_here(path: Path) -> str:
    """``path`` as one can type it from the current folder (relative unless that is longer)."""
    absolute = str(path.resolve())
    relative = os.path.relpath(absolute)
    return relative if len(relative) <= len(absolute) else absolute


# ---------------------------------------------------------------- config


def cmd_config_init(args: argparse.Namespace) -> int:
    from evolve.config_template import default_config_yaml

    path = Path(args.output)
    if path.exists() and not args.force:
        raise UserError("file exists; pass --force to overwrite it", str(path))
    path.write_text(default_config_yaml(), encoding="utf-8")
    _console().print(f"wrote {path}")
    return 0


def _effective(args: argparse.Namespace) -> tuple[Any, Any, Path | None]:
    """The merged config, the layers it came from, and the problem folder (if given)."""
    from evolve.config import config_layers, merge_layers
    from evolve.problem import load_problem

    if args.problem:
        problem = load_problem(args.problem, args.config, args.overrides)
        return problem.config, problem.sources, problem.directory
    layers = config_layers(None, config_path=args.config, overrides=args.overrides)
    return merge_layers(layers), layers, None


def cmd_config_show(args: argparse.Namespace) -> int:
    from evolve.config import to_dict

    print(yaml.safe_dump(to_dict(_effective(args)[0]), sort_keys=False), end="")
    return 0


def cmd_config_validate(args: argparse.Namespace) -> int:
    from evolve.preflight import preflight

    config, sources, directory = _effective(args)
    ready = preflight(config, sources, directory)  # exactly what `evolve run` checks
    console = _console()
    console.print("configuration is valid")
    for line in ready.checked:
        console.print(f"  checked: {line}")
    if directory is None:
        console.print("  (give the problem folder to check its evaluator and arguments too)")
    return 0


# ---------------------------------------------------------------- db


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from evolve.database.migrations import upgrade_database
    from evolve.run_folder import RUN_FILE, database_url, read_run_file
    from evolve.runs import resolve_run_dir

    target = str(args.target)
    if (Path(target) / RUN_FILE).is_file() or Path(target).name == RUN_FILE:
        run_dir = resolve_run_dir(target)  # only the folder's own database, never elsewhere
        target = database_url(run_dir, read_run_file(run_dir))
    report = upgrade_database(target)
    if report.changed:
        _console().print(
            f"upgraded {report.where}: schema version {report.from_version} -> {report.to_version}"
        )
    else:
        _console().print(f"{report.where} is up to date (schema version {report.to_version})")
    return 0


# ---------------------------------------------------------------- parser


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (no usage dump), exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"error: {self.prog}: {message} (see '{self.prog} --help')", file=sys.stderr)
        sys.exit(EXIT_USER_ERROR)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="evolve", description="Evolutionary code optimisation.")
    parser.add_argument("--version", action="version", version=f"evolve {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("run", help="start an evolution run on a problem folder")
    p.add_argument("problem", help="problem folder (holds problem.yaml)")
    _add_overrides(p)
    p.add_argument(
        "--iterations", type=_count, help="iteration budget (same as --set budget.iterations=N)"
    )
    p.add_argument("--out", type=Path, help="folder for run folders (default: runs/)")
    p.add_argument("--name", help="run folder name (default: <problem>-<timestamp>)")
    p.add_argument(
        "--join",
        metavar="RUN_ID",
        help="work on an existing run in a shared database "
        "(with --set database.url=... --set database.islands_owned=[...])",
    )
    p.set_defaults(handler=cmd_run)

    p = sub.add_parser("resume", help="continue a stopped or finished run")
    p.add_argument("run", help="run folder (holds run.json)")
    p.add_argument(
        "--iterations", type=_count,
        help="run this many more iterations (default: up to the run's budget)",
    )
    p.add_argument(
        "--database",
        metavar="URL",
        help="the run's database when it is not inside the run folder (e.g. a shared PostgreSQL)",
    )
    p.set_defaults(handler=cmd_resume)

    p = sub.add_parser("eval", help="score one candidate file or folder with a problem's evaluator")
    p.add_argument("problem", help="problem folder (holds problem.yaml)")
    p.add_argument("candidate", help="program file or folder to score (runs in the sandbox)")
    _add_overrides(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=cmd_eval)

    p = sub.add_parser("problems", help="list problem folders (the shipped ones by default)")
    p.add_argument("--root", help="folder to search (default: the shipped problems/)")
    p.set_defaults(handler=cmd_problems)

    config = sub.add_parser("config", help="write, show or validate configuration")
    csub = config.add_subparsers(dest="config_command", required=True, parser_class=_Parser)
    p = csub.add_parser("init", help="write a commented default run config")
    p.add_argument("-o", "--output", default="evolve.yaml",
                   help="file to write (default: evolve.yaml)")
    p.add_argument("--force", action="store_true", help="overwrite the file if it exists")
    p.set_defaults(handler=cmd_config_init)
    for name, handler, text in (
        ("show", cmd_config_show, "print the effective (merged) config as YAML"),
        ("validate", cmd_config_validate, "check a config without running anything"),
    ):
        p = csub.add_parser(name, help=text)
        p.add_argument("problem", nargs="?", help="problem folder to merge with")
        _add_overrides(p)
        p.set_defaults(handler=handler)

    db = sub.add_parser("db", help="database maintenance")
    dsub = db.add_subparsers(dest="db_command", required=True, parser_class=_Parser)
    p = dsub.add_parser("upgrade", help="upgrade a database to this version's schema, in place")
    p.add_argument("target", metavar="URL_OR_RUN", help="database URL, SQLite file, or run folder")
    p.set_defaults(handler=cmd_db_upgrade)

    from evolve.importers.cli import add_import_command
    from evolve.report.commands import add_report_commands
    from evolve.tune_cli import add_tune_command

    add_report_commands(sub)
    add_tune_command(sub, _drive)
    add_import_command(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
