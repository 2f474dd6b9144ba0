"""``evolve tune``: tune one program's literals, outside the loop or before it starts.

    evolve tune RUN [PROGRAM] --trials N     # a stored program (default: the run's best)
    evolve tune PROBLEM FILE --trials N      # a new run folder whose initial program is FILE
    evolve tune ... --dry-run                # print the search space, store nothing

``--trials N`` is the study's total: a study cut short (Ctrl-C, a crash) continues with
the trials it still lacks when the same command runs again.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from evolve import safe_text
from evolve.config import PluginSpec
from evolve.errors import UserError
from evolve.tunable import SearchSpace, SpaceError, space_of
from evolve.tunable.folder import FolderSpace, folder_space_of

Drive = Callable[..., tuple[Any, int]]  # evolve.cli._drive: signals, live progress, exit code


def add_tune_command(sub: argparse._SubParsersAction, drive: Drive) -> None:  # type: ignore[type-arg]
    """``drive`` runs a controller the way ``evolve run`` does (Ctrl-C, progress)."""
    p = sub.add_parser(
        "tune", help="tune a program's constants with an optimizer (Optuna), no LLM needed"
    )
    p.add_argument("target", help="run folder (holds run.json) or problem folder")
    p.add_argument(
        "item", nargs="?", help="with a run: program id, unique prefix or 'best' (default); "
        "with a problem: the program file to tune",
    )  # fmt: skip
    p.add_argument(
        "--trials", type=_positive, help="trials in the study (default: search.tune.trials)"
    )
    p.add_argument("--sampler", help="tpe, cmaes, random, nsga2, nsga3 or package.module:attr")
    p.add_argument(
        "--objectives", choices=("score", "instances"), help="what the sampler maximises"
    )
    p.add_argument("--dry-run", action="store_true", help="print the search space and stop")
    p.add_argument("--config", type=Path, help="run config YAML (problem form)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config key (problem form), e.g. --set evaluation.workers=4")
    p.add_argument("--out", type=Path, help="folder for the new run folder (problem form)")
    p.add_argument("--name", help="name of the new run folder (problem form)")
    p.add_argument("--database", metavar="URL", help="the run's database when not in its folder")
    p.set_defaults(handler=cmd_tune, drive=drive)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def cmd_tune(args: argparse.Namespace) -> int:
    from evolve.console import make_console
    from evolve.run_folder import RUN_FILE

    console = make_console()
    if (Path(args.target) / RUN_FILE).is_file():
        return _tune_run(args, console)
    return _tune_file(args, console)


def _settings(config: Any, args: argparse.Namespace) -> None:
    tune = config.search.tune
    if args.sampler:
        tune.sampler = PluginSpec(args.sampler)
    if args.objectives:
        tune.objectives = args.objectives
    tune.trials = args.trials or tune.trials


def _tune_run(args: argparse.Namespace, console: Console) -> int:
    from evolve.runs import open_run

    run = open_run(args.target, args.database, lock=not args.dry_run)
    try:
        _settings(run.problem.config, args)
        program = _program_of(run, args.item or "best")
        if program.origin == "tune" and not args.item and program.parent_id:
            # The best is a trial: its study continues (a trial is never tuned itself).
            program = run.store.get_program(program.parent_id)
            console.print(f"the run's best is a tuning trial of {program.id[:12]}: tuning that")
        space = _space(program.code, run.problem.config, str(run.run_dir), program.files)
        if args.dry_run:
            _show_space(space, run.problem.config.search.tune.max_parameters, console)
            return 0
        if program.origin == "tune":
            raise UserError(
                "this program is a tuning trial; tune the program it was tuned from "
                f"({(program.parent_id or '')[:12]})", program.id[:12])
        return _drive(run, program.id, console, args.drive)
    finally:
        run.close()


def _tune_file(args: argparse.Namespace, console: Console) -> int:
    from evolve.evaluation.registry import create_evaluator
    from evolve.plugins import check_plugins
    from evolve.problem import load_problem
    from evolve.runs import create_run

    if not args.item:
        raise UserError("give the program file to tune: evolve tune PROBLEM FILE", args.target)
    path = Path(args.item)
    if not path.is_file():
        raise UserError("program file not found", args.item)
    overrides = [*args.overrides, f"initial_programs=[{json.dumps(str(path.resolve()))}]"]
    problem = load_problem(args.target, args.config, overrides)
    _settings(problem.config, args)
    space = _space(problem.initial_programs[0][1], problem.config, args.item)
    if args.dry_run:
        _show_space(space, problem.config.search.tune.max_parameters, console)
        return 0
    with problem.sources.blame():
        create_evaluator(problem.config.evaluator, problem.directory,
                         dict(problem.config.evaluator_args))  # fmt: skip
        check_plugins(problem.config)
    run = create_run(problem, args.out, args.name, lock=True)
    console.print(f"run folder: {run.run_dir}")
    try:
        return _drive(run, None, console, args.drive)
    finally:
        run.close()


def _space(code: str, config: Any, where: str, files: dict[str, str] | None = None
           ) -> SearchSpace | FolderSpace:
    """The space of a program: its file, or each editable file of a folder program."""
    from evolve.tuning import check_sampler

    try:
        space = folder_space_of(files, config.languages) if files else space_of(code)
    except SpaceError as exc:
        raise UserError(f"cannot read the search space: {exc}", where) from None
    if not space:
        raise UserError("no tunable literals in the EVOLVE-BLOCKs (see docs/tuning.md for "
                        "'# tune:' annotations)", where)  # fmt: skip
    tune = config.search.tune
    check_sampler(tune.sampler, 2 if tune.objectives == "instances" else 1)
    return space


def _program_of(run: Any, ref: str) -> Any:
    store, run_id = run.store, run.run_id
    if ref.strip().lower() == "best":
        best = store.best_program(run_id)
        if best is None:
            raise UserError("this run has no valid program yet", str(run.run_dir))
        return best
    matches = [p for p in store.programs(run_id) if p.id.startswith(ref.strip().lower())]
    if len(matches) != 1:
        what = "no program" if not matches else f"{len(matches)} programs"
        raise UserError(f"{what} with id {ref!r} in this run", str(run.run_dir))
    program = matches[0]
    if not program.valid:
        raise UserError("an invalid program cannot be tuned (it has no score to improve)",
                        program.id[:12])  # fmt: skip
    return program


def _show_space(space: SearchSpace | FolderSpace, limit: int, console: Console) -> None:
    table = Table(title=f"{len(space)} tunable literals (search.tune.max_parameters: {limit})")
    for column in ("parameter", "line", "value", "range", "from"):
        table.add_column(column)
    kept = {p.name for p in space.first(limit).parameters}
    for p in space.parameters:
        source = "annotation" if p.domain.annotated else "default rule"
        name = safe_text.terminal(p.name, one_line=True)
        name += "" if p.name in kept else " (not tuned)"
        table.add_row(name, str(p.line), escape(p.text), escape(p.describe()), source)
    console.print(table)


def _drive(run: Any, program_id: str | None, console: Console, drive: Drive) -> int:
    from evolve.config import LLMConfig
    from evolve.controller import Controller
    from evolve.llm import build_backend
    from evolve.report.live import print_summary
    from evolve.tuning import TuneRequest

    config = run.problem.config
    request = TuneRequest(program_id, config.search.tune.trials)
    offline = build_backend(LLMConfig(), config.seed)  # tuning asks no model
    controller = Controller(run.problem, run.store, run.run_id, run.run_dir, backend=offline)
    summary, code = drive(controller, None, console, tune=request)
    print_summary(summary, console, offline=True)
    tuner = controller.tuner
    target = tuner.focus if tuner is not None else None
    if tuner is None or not target:
        console.print("nothing was tuned (the program is not valid or was tuned already)")
        return code
    trials = tuner.trials_of(target)
    valid = [t for t in trials if t.valid and t.score is not None]
    console.print(f"study of {target[:12]}: {len(trials)} trials stored, {len(valid)} valid")
    if valid:
        best = max(valid, key=lambda t: float(t.score or 0.0))
        params = best.metadata.get("tune", {}).get("params", {})
        shown = ", ".join(f"{k}={v!r}" for k, v in params.items())
        console.print(f"best trial {best.id[:12]}: score {best.score:.6g}; "
                      f"{safe_text.terminal(shown)}")  # fmt: skip
    return code
