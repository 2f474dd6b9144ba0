"""Command-line interface. Thin: parse arguments, call the API, print.

Errors a user can cause print as one line ``error: <where>: <message>`` and exit 2.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console
from rich.markup import escape

from evolve import __version__
from evolve.errors import UserError

EXIT_USER_ERROR = 2
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
    return Console(highlight=False)


# ---------------------------------------------------------------- run / resume


def _offline_notice(problem: Any, console: Console) -> None:
    if not problem.config.llm.models:
        console.print(
            "[yellow]note:[/] no LLM configured (llm.models is empty): using the offline mutation "
            "engine, which tunes constants and recombines code but does not invent algorithms.",
            soft_wrap=True,
        )


def _drive(controller: Any, extra_iterations: int | None) -> Any:
    """Run the controller; the first Ctrl-C finishes in-flight work, the second aborts."""
    from evolve.report.live import LiveProgress

    async def main() -> Any:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        presses = 0

        def on_sigint() -> None:
            nonlocal presses
            presses += 1
            if presses == 1:
                controller.request_stop("stopped by user (Ctrl-C); finishing iterations in flight")
            elif task is not None:
                task.cancel()

        try:
            loop.add_signal_handler(signal.SIGINT, on_sigint)
            loop.add_signal_handler(signal.SIGTERM, on_sigint)
        except (NotImplementedError, RuntimeError):
            pass
        return await controller.run(extra_iterations)

    with LiveProgress() as live:
        controller.progress = live
        try:
            return asyncio.run(main())
        except asyncio.CancelledError:  # the second Ctrl-C: in-flight iterations are dropped
            raise KeyboardInterrupt from None


def cmd_run(args: argparse.Namespace) -> int:
    from evolve.controller import Controller
    from evolve.evaluation.registry import check_evaluator
    from evolve.llm import build_backend
    from evolve.problem import load_problem
    from evolve.report.live import print_summary
    from evolve.runs import create_run, join_run

    overrides = list(args.overrides)
    if args.iterations is not None:
        overrides.append(f"budget.iterations={args.iterations}")
    problem = load_problem(args.problem, args.config, overrides)
    # An unknown evaluator or argument is reported before a run folder is made.
    check_evaluator(
        problem.config.evaluator,
        dict(problem.config.evaluator_args),
        str(problem.directory / "problem.yaml"),
    )
    # So is an LLM config that cannot work (e.g. a missing API key).
    backend = build_backend(problem.config.llm, problem.config.seed)
    console = _console()
    _offline_notice(problem, console)
    run = (
        join_run(problem, args.join, args.out, args.name)
        if args.join
        else create_run(problem, args.out, args.name)
    )
    console.print(f"run folder: {run.run_dir}")
    if problem.config.database.islands_owned is not None:
        console.print(
            f"run id: {run.run_id} (islands {problem.config.database.islands_owned}; "
            f"others join with --join {run.run_id})"
        )
    controller = Controller(problem, run.store, run.run_id, run.run_dir, backend=backend)
    summary = _drive(controller, None)
    print_summary(summary, console)
    return 0


def cmd_resume(args: argparse.Namespace) -> int:
    from evolve.controller import Controller
    from evolve.report.live import print_summary
    from evolve.runs import open_run

    run = open_run(args.run)
    console = _console()
    counters = run.store.counters(run.run_id)
    budget = run.problem.config.budget.iterations
    if args.iterations is None and budget is not None and counters.iterations >= budget:
        console.print(
            f"this run already used its budget ({counters.iterations} iterations run, "
            f"budget {budget}); pass --iterations N to run N more"
        )
        return 0
    _offline_notice(run.problem, console)
    console.print(f"resuming {run.run_dir} at iteration {counters.iterations}")
    controller = Controller(run.problem, run.store, run.run_id, run.run_dir)
    summary = _drive(controller, args.iterations)
    print_summary(summary, console)
    return 0


# ---------------------------------------------------------------- eval / problems


def cmd_eval(args: argparse.Namespace) -> int:
    from evolve.evaluation.executor import evaluate_file_once
    from evolve.problem import load_problem

    problem = load_problem(args.problem, args.config, args.overrides)
    candidate = Path(args.candidate)
    if not candidate.is_file():
        raise UserError("candidate file not found", str(candidate))
    cfg = problem.config
    result = evaluate_file_once(
        problem_dir=problem.directory,
        evaluator=cfg.evaluator,
        args=dict(cfg.evaluator_args),
        candidate_path=candidate.resolve(),
        timeout_s=cfg.constraints.timeout_s,
        preload=list(cfg.preload),
        seed=cfg.seed,
    )
    if args.json:
        print(json.dumps(result.to_dict(), default=float))
        return 0
    console = _console()
    # Reasons, metric names and artifacts may hold candidate-written text: never markup.
    status = "[green]valid[/]" if result.valid else f"[red]invalid[/]: {escape(result.reason)}"
    console.print(f"{escape(str(candidate))}: {status}")
    console.print(f"score: {result.score:.6g}")
    for key, value in sorted(result.metrics.items()):
        shown = f"{value:.6g}" if isinstance(value, float) else str(value)
        console.print(f"  {escape(key)}: {escape(shown)}")
    for name, text in result.artifacts.items():
        console.print(f"[bold]{escape(name)}[/]")
        console.print(text, markup=False)
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
        rel = folder.relative_to(root.parent) if root.parent in folder.parents else folder
        console.print(f"[bold]{rel}[/]  ({info['evaluator']})  {info['summary']}", soft_wrap=True)
    return 0


# ---------------------------------------------------------------- config


def cmd_config_init(args: argparse.Namespace) -> int:
    from evolve.config_template import default_config_yaml

    path = Path(args.output)
    if path.exists() and not args.force:
        raise UserError("file exists; pass --force to overwrite it", str(path))
    path.write_text(default_config_yaml(), encoding="utf-8")
    _console().print(f"wrote {path}")
    return 0


def _effective(args: argparse.Namespace) -> Any:
    from evolve.config import load_config
    from evolve.problem import load_problem

    if args.problem:
        return load_problem(args.problem, args.config, args.overrides).config
    return load_config(None, config_path=args.config, overrides=args.overrides)


def cmd_config_show(args: argparse.Namespace) -> int:
    from evolve.config import to_dict

    print(yaml.safe_dump(to_dict(_effective(args)), sort_keys=False), end="")
    return 0


def cmd_config_validate(args: argparse.Namespace) -> int:
    _effective(args)
    _console().print("configuration is valid")
    return 0


# ---------------------------------------------------------------- db


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from evolve.database.migrations import upgrade_database
    from evolve.runs import RUN_FILE, resolve_run_dir

    target = str(args.target)
    if (Path(target) / RUN_FILE).is_file() or Path(target).name == RUN_FILE:
        run_file = resolve_run_dir(target) / RUN_FILE
        try:
            target = json.loads(run_file.read_text(encoding="utf-8"))["database_url"]
        except (ValueError, KeyError) as exc:
            raise UserError(f"damaged run file ({exc})", str(run_file)) from None
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
        "--iterations", type=_count, help="run this many more iterations (default: up to the run's budget)"
    )
    p.set_defaults(handler=cmd_resume)

    p = sub.add_parser("eval", help="score one candidate file with a problem's evaluator")
    p.add_argument("problem", help="problem folder (holds problem.yaml)")
    p.add_argument("candidate", help="program file to score (runs in the sandbox)")
    _add_overrides(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=cmd_eval)

    p = sub.add_parser("problems", help="list problem folders (the shipped ones by default)")
    p.add_argument("--root", help="folder to search (default: the shipped problems/)")
    p.set_defaults(handler=cmd_problems)

    config = sub.add_parser("config", help="write, show or validate configuration")
    csub = config.add_subparsers(dest="config_command", required=True, parser_class=_Parser)
    p = csub.add_parser("init", help="write a commented default run config")
    p.add_argument("-o", "--output", default="evolve.yaml", help="file to write (default: evolve.yaml)")
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

    from evolve.report.commands import add_report_commands

    add_report_commands(sub)
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
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
