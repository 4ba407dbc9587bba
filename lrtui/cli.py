"""Command line: ``lrtui`` opens the app, ``lrtui run`` trains headless and prints the log.

Flags are turned into one ``Settings`` by the engine's own parsers; this module only maps
flags to settings, writes output and chooses exit codes (0 done, 2 bad input, 3 diverged).
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn, TextIO

from . import __version__
from .charts import render_for_terminal, render_race_for_terminal
from .engine import DataError, Settings, SettingsError, Simulation, parse_field
from .engine.history import History
from .engine.race import CONTENDER_KEYS, LETTERS, MAX_CONTENDERS, contender_settings, labels, lockstep
from .engine.report import COLUMNS, divergence_of, json_row, log_line, row
from .engine.script import script_for, write_script
from .engine.session import SessionError, load_session, save_session
from .engine.settings import LOSS_REDUCTIONS, MODELS, OPTIMIZERS, PRESETS
from .lessons import Lesson, LessonError, find_lesson, language_from_environment, languages, lessons
from .pacing import SPEEDS

EXIT_BAD_INPUT = 2
EXIT_DIVERGED = 3


@dataclass(frozen=True)
class Flag:
    flag: str
    field: str
    help: str
    metavar: str | None = None
    const: bool | None = None  # a switch that sets the field to this value

    def add_to(self, parser: argparse.ArgumentParser) -> None:
        if self.const is not None:
            parser.add_argument(
                self.flag, dest=self.field, action="store_const", const=self.const, help=self.help
            )
        else:
            parser.add_argument(self.flag, dest=self.field, metavar=self.metavar, help=self.help)


SETTINGS_FLAGS: tuple[Flag, ...] = (
    Flag("--data", "data", f"{', '.join(PRESETS)} or a CSV file with header x,y (default line)", "DATA"),
    Flag(
        "--model",
        "model",
        f"{' or '.join(MODELS)}: raw W and b tensors, or nn.Linear(1, 1) (default raw)",
        "MODEL",
    ),
    Flag("--no-bias", "bias", "fit H(x) = W*x with no b", const=False),
    Flag(
        "--optimizer", "optimizer", f"one of {', '.join(OPTIMIZERS)} from torch.optim (default sgd)", "NAME"
    ),
    Flag("--lr", "learning_rate", "learning rate, a positive number (default 0.01)", "LR"),
    Flag("--momentum", "momentum", "momentum for sgd and rmsprop, 0 <= m < 1 (default 0)", "M"),
    Flag("--nesterov", "nesterov", "Nesterov momentum (sgd with --momentum above 0)", const=True),
    Flag("--epochs", "epochs", "run epochs 0..N, as range(N + 1) in the lessons (default 1000)", "N"),
    Flag("--init-w", "init_w", "initial W (default 0 for raw, torch's init for linear)", "W"),
    Flag("--init-b", "init_b", "initial b (default 0 for raw, torch's init for linear)", "B"),
    Flag(
        "--loss-reduction",
        "loss_reduction",
        f"{' or '.join(LOSS_REDUCTIONS)} of the squared errors (default mean)",
        "R",
    ),
    Flag(
        "--no-zero-grad",
        "zero_grad",
        "skip optimizer.zero_grad(): .grad accumulates across epochs",
        const=False,
    ),
    Flag("--seed", "seed", "torch.manual_seed before nn.Linear is created (default 1)", "SEED"),
    Flag("--log-every", "log_every", "log every K epochs (default 100)", "K"),
)
FLAG_FOR_FIELD: dict[str, str] = {flag.field: flag.flag for flag in SETTINGS_FLAGS}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """One line naming the flag and the reason, not the whole usage block."""
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _parser(prog: str, description: str) -> argparse.ArgumentParser:
    parser = _Parser(prog=prog, description=description)
    for flag in SETTINGS_FLAGS:
        flag.add_to(parser)
    return parser


def app_parser() -> argparse.ArgumentParser:
    parser = _parser(
        "lrtui",
        "Step a real torch optimizer through linear regression, epoch by epoch. "
        "`lrtui run --help` trains headless; `lrtui export-script --help` writes the plain PyTorch script; "
        "`lrtui serve --help` serves the app to a browser.",
    )
    parser.add_argument("--version", action="version", version=f"lrtui {__version__}")
    parser.add_argument(
        "--speed",
        type=int,
        choices=SPEEDS,
        default=10,
        metavar="S",
        help=f"run speed in epochs per second, one of {', '.join(map(str, SPEEDS))} (0: as fast as possible)",
    )
    parser.add_argument(
        "--load",
        metavar="FILE",
        help="open a session saved by lrtui (settings flags are not allowed with it)",
    )
    _add_language(parser)
    _add_compare(parser)
    parser.add_argument(
        "--lesson",
        metavar="N",
        help="start a guided lesson, by number or name (`lrtui lessons` lists them); it brings its settings",
    )
    return parser


def _add_language(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--lang",
        metavar="CODE",
        help=f"language of the lessons: {', '.join(languages())} (default: from LANG, else en)",
    )


def chosen_language(parser: argparse.ArgumentParser, args: argparse.Namespace) -> str:
    if args.lang is None:
        return language_from_environment()
    if args.lang.lower() not in languages():
        parser.error(f"argument --lang: no lessons in {args.lang!r}: use one of {', '.join(languages())}")
    return args.lang.lower()


def list_lessons(argv: list[str], out: TextIO | None = None) -> int:
    """`lrtui lessons`: every lesson's number, name and title."""
    out = sys.stdout if out is None else out
    parser = _Parser(prog="lrtui lessons", description="List the guided lessons.")
    _add_language(parser)
    language = chosen_language(parser, parser.parse_args(argv))
    for lesson in lessons(language):
        out.write(f"{lesson.number}  {lesson.id:<12} {lesson.title}\n")
    out.write("Start one with: lrtui --lesson N\n")
    return 0


def run_parser() -> argparse.ArgumentParser:
    parser = _parser("lrtui run", "Train headless and print the lessons' log lines.")
    parser.add_argument(
        "--format",
        choices=("text", "csv", "jsonl"),
        default="text",
        help="text: the lessons' lines; csv or jsonl: every column of each logged epoch",
    )
    parser.add_argument(
        "--save", metavar="FILE", help="save the session (settings, history, torch state) as JSON"
    )
    parser.add_argument(
        "--plot",
        action="store_true",
        help="after the log, draw the cost per epoch and the cost surface with the path",
    )
    _add_compare(parser)
    return parser


def _add_compare(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--compare",
        action="append",
        metavar="CHANGES",
        help=(
            "race another contender on the same data, given as changes to the other flags, e.g."
            " 'optimizer=adam lr=0.1' or 'zero-grad=off'; up to 3 times (keys: "
            + ", ".join(CONTENDER_KEYS)
            + ")"
        ),
    )


def script_parser() -> argparse.ArgumentParser:
    parser = _parser(
        "lrtui export-script",
        "Write the plain PyTorch script for these settings; run with python, it prints what `lrtui run` prints.",
    )
    parser.add_argument("-o", "--output", metavar="FILE", help="write the script here (default: print it)")
    return parser


def serve_parser() -> argparse.ArgumentParser:
    from . import serve as served

    parser = _parser(
        "lrtui serve",
        "Serve the app to web browsers, one app per page: a classroom on one machine (textual-serve).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=served.port_number, default=8000, help="port to listen on (default 8000)"
    )
    parser.add_argument(
        "--public-url",
        type=served.public_url,
        metavar="URL",
        help="the address learners' browsers use, e.g. https://lrtui.school.example behind a proxy",
    )
    parser.add_argument(
        "--no-token",
        action="store_true",
        help="open the app without the link's token (any program or page that reaches the port can drive it)",
    )
    parser.add_argument(
        "--max-sessions",
        type=served.session_count,
        default=served.DEFAULT_MAX_SESSIONS,
        metavar="N",
        help=f"at most N apps at once; later pages are told the class is full (default {served.DEFAULT_MAX_SESSIONS})",
    )
    parser.add_argument(
        "--idle-timeout",
        type=served.seconds,
        default=served.DEFAULT_IDLE_TIMEOUT,
        metavar="SECONDS",
        help=f"close a page after this long without a key from it; 0: never (default {served.DEFAULT_IDLE_TIMEOUT:g})",
    )
    parser.add_argument(
        "--spares",
        type=served.spare_count,
        default=served.DEFAULT_SPARES,
        metavar="N",
        help=f"keep N apps started ahead, so the next N pages show at once (default {served.DEFAULT_SPARES})",
    )
    parser.add_argument(
        "--speed", type=int, choices=SPEEDS, default=10, metavar="S", help="run speed (as for lrtui)"
    )
    return parser


def serve(argv: list[str]) -> int:
    from . import serve as served

    parser = serve_parser()
    args = parser.parse_args(argv)
    settings = settings_from_args(parser, args)
    load_simulation(parser, settings)  # bad data is refused here, not in every browser tab
    app_argv = [
        *(part for flag in SETTINGS_FLAGS for part in _flag_args(flag, getattr(args, flag.field))),
        "--speed",
        str(args.speed),
    ]
    try:
        door = served.Door(args.host, args.port, served.choose_token(args.no_token), args.public_url)
        return served.serve(
            app_argv, door, served.Classroom(args.max_sessions, args.idle_timeout, args.spares)
        )
    except served.ServeError as error:
        parser.error(str(error))


def _flag_args(flag: Flag, given: object) -> list[str]:
    """The command-line words that pass a given setting on to the app."""
    if given is None:
        return []
    if flag.const is not None:
        return [flag.flag]
    return [flag.flag, str(given)]


def export_script(argv: list[str], out: TextIO | None = None) -> int:
    out = sys.stdout if out is None else out
    parser = script_parser()
    args = parser.parse_args(argv)
    simulation = load_simulation(parser, settings_from_args(parser, args))
    if args.output is None:
        out.write(script_for(simulation.settings, simulation.dataset))
        return 0
    try:
        write_script(args.output, simulation.settings, simulation.dataset)
    except OSError as error:
        parser.error(f"argument --output: cannot write {args.output} ({error.strerror or error})")
    return 0


def settings_from_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Settings:
    """One validated Settings from parsed flags; a bad value ends with exit 2 naming its flag."""
    values = {}
    for flag in SETTINGS_FLAGS:
        given = getattr(args, flag.field)
        if given is None:
            continue
        if isinstance(given, bool):
            values[flag.field] = given
            continue
        try:
            values[flag.field] = parse_field(flag.field, given)
        except SettingsError as error:
            parser.error(f"argument {flag.flag}: {error.message}")
    try:
        return Settings(**values)
    except SettingsError as error:
        parser.error(f"argument {FLAG_FOR_FIELD.get(error.field, error.field)}: {error.message}")
    raise AssertionError("unreachable")


def load_simulation(parser: argparse.ArgumentParser, settings: Settings) -> Simulation:
    try:
        return Simulation(settings)
    except DataError as error:
        parser.error(f"argument --data: {error}")
    raise AssertionError("unreachable")


class Progress:
    """A one-line progress bar on a terminal's stderr, redrawn at most ten times a second."""

    WIDTH = 30

    def __init__(self, stream: TextIO, total: int) -> None:
        self.stream = stream
        self.total = max(total, 1)
        self.shown = False
        self._next_draw = 0.0

    def update(self, done: int) -> None:
        now = time.monotonic()
        if now < self._next_draw:
            return
        self._next_draw = now + 0.1
        filled = self.WIDTH * done // self.total
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        self.stream.write(f"\r[{bar}] epoch {done}/{self.total - 1}")
        self.stream.flush()
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self.shown = False
            self._next_draw = 0.0


def _writer(output_format: str, out: TextIO, epochs: int) -> Callable:
    if output_format == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        return lambda record: writer.writerow(
            ["" if value is None else value for value in row(record).values()]
        )
    if output_format == "jsonl":
        return lambda record: out.write(json.dumps(json_row(record)) + "\n")
    return lambda record: out.write(log_line(record, epochs) + "\n")


def run(argv: list[str], out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    parser = run_parser()
    args = parser.parse_args(argv)
    settings = settings_from_args(parser, args)
    simulation = load_simulation(parser, settings)
    if args.compare:
        return run_race(parser, args, simulation, out, err)
    history = History() if args.save or args.plot else None
    write = _writer(args.format, out, settings.epochs)
    progress = Progress(err, settings.epochs + 1) if args.format == "text" and err.isatty() else None
    log_every = settings.log_every
    optimum = simulation.surface.optimum
    if not optimum.unique:
        err.write(f"lrtui run: note: {optimum.reason}; gradient descent still runs\n")

    def on_record(record) -> None:
        if history is not None:
            history.append(record)
        logged = record.epoch % log_every == 0
        if logged or not record.finite:
            if progress is not None:
                progress.clear()
            write(record)
        if progress is not None:
            progress.update(record.epoch + 1)

    try:
        simulation.run_to_end(on_record)
    finally:
        if progress is not None:
            progress.clear()
    if args.plot:
        width, height = shutil.get_terminal_size()
        out.write(render_for_terminal(simulation, history, width, max(height - 2, 24), color=out.isatty()))
    out.flush()
    if args.save:
        try:
            save_session(args.save, simulation, history)
        except OSError as error:
            err.write(
                f"lrtui run: error: argument --save: cannot write {args.save} ({error.strerror or error})\n"
            )
            return EXIT_BAD_INPUT
    if simulation.diverged:
        err.write(f"lrtui run: {divergence_of(simulation)}\n")
        return EXIT_DIVERGED
    return 0


def compared_settings(
    parser: argparse.ArgumentParser, compare: list[str] | None, leader: Settings
) -> list[Settings]:
    """One contender's settings per --compare, as changes to the leader's."""
    compare = compare or []
    if len(compare) > MAX_CONTENDERS - 1:
        parser.error(f"argument --compare: a race has at most {MAX_CONTENDERS} contenders, so 3 --compare")
    contenders = []
    for text in compare:
        try:
            contenders.append(contender_settings(leader, text))
        except SettingsError as error:
            parser.error(f"argument --compare: {text!r}: {error.message}")
    return contenders


def race_contenders(
    parser: argparse.ArgumentParser, args: argparse.Namespace, leader: Simulation
) -> list[Simulation]:
    """The leader (the other flags) and one contender per --compare, on the leader's data."""
    if args.save:
        parser.error("argument --compare: --save keeps a single run; drop --save or --compare")
    rivals = compared_settings(parser, args.compare, leader.settings)
    return [leader, *(Simulation(settings, dataset=leader.dataset) for settings in rivals)]


def run_race(
    parser: argparse.ArgumentParser, args: argparse.Namespace, leader: Simulation, out: TextIO, err: TextIO
) -> int:
    """`lrtui run --compare`: every contender in lockstep, one table with a row per contender."""
    contenders = race_contenders(parser, args, leader)
    letters = LETTERS[: len(contenders)]
    epochs, log_every = leader.settings.epochs, leader.settings.log_every
    histories = [History() for _ in contenders] if args.plot else None
    if args.format == "text":
        for letter, label in zip(letters, labels([s.settings for s in contenders]), strict=True):
            out.write(f"{letter} = {label}\n")
        write = lambda letter, record: out.write(log_line(record, epochs, letter) + "\n")  # noqa: E731
    elif args.format == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(("contender", *COLUMNS))
        write = lambda letter, record: writer.writerow(  # noqa: E731
            [letter, *("" if value is None else value for value in row(record).values())]
        )
    else:
        write = lambda letter, record: out.write(json.dumps({"contender": letter, **json_row(record)}) + "\n")  # noqa: E731
    progress = Progress(err, epochs + 1) if args.format == "text" and err.isatty() else None

    def on_records(epoch: int, records: list) -> None:
        if progress is not None:
            progress.clear()
        for index, (letter, record) in enumerate(zip(letters, records, strict=True)):
            if record is None:
                continue
            if histories is not None:
                histories[index].append(record)
            if epoch % log_every == 0 or not record.finite:
                write(letter, record)
        if progress is not None:
            progress.update(epoch + 1)

    try:
        lockstep(contenders, on_records)
    finally:
        if progress is not None:
            progress.clear()
    if histories is not None:
        width, height = shutil.get_terminal_size()
        out.write(
            render_race_for_terminal(contenders, histories, width, max(height - 2, 24), color=out.isatty())
        )
    out.flush()
    diverged = [(letter, s) for letter, s in zip(letters, contenders, strict=True) if s.diverged]
    for letter, simulation in diverged:
        err.write(f"lrtui run: {letter} {divergence_of(simulation)}\n")
    return EXIT_DIVERGED if diverged else 0


def app_start(
    parser: argparse.ArgumentParser, args: argparse.Namespace, language: str
) -> tuple[Simulation, History | None, Lesson | None]:
    """What the app opens: a lesson, a saved session, or the settings flags."""
    given = [flag.flag for flag in SETTINGS_FLAGS if getattr(args, flag.field) is not None]
    if args.lesson is not None:
        if args.load:
            given.append("--load")
        if given:
            parser.error(f"argument --lesson: a lesson brings its own settings; drop {', '.join(given)}")
        try:
            lesson = find_lesson(args.lesson, language)
        except LessonError as error:
            parser.error(f"argument --lesson: {error}")
        return Simulation(lesson.settings), None, lesson
    if args.load:
        if given:
            parser.error(f"argument --load: a session brings its own settings; drop {', '.join(given)}")
        try:
            simulation, history = load_session(args.load)
        except SessionError as error:
            parser.error(f"argument --load: {error}")
        return simulation, history, None
    return load_simulation(parser, settings_from_args(parser, args)), None, None


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] == "run":
            return run(argv[1:])
        if argv and argv[0] == "export-script":
            return export_script(argv[1:])
        if argv and argv[0] == "serve":
            return serve(argv[1:])
        if argv and argv[0] == "lessons":
            return list_lessons(argv[1:])
        parser = app_parser()
        args = parser.parse_args(argv)
        language = chosen_language(parser, args)
        simulation, history, lesson = app_start(parser, args, language)
        contenders = compared_settings(parser, args.compare, simulation.settings)
        from .app import LrtuiApp  # textual is imported only when the app starts

        LrtuiApp(
            simulation,
            history=history,
            speed=args.speed,
            session_path=args.load,
            lesson=lesson,
            language=language,
            contenders=contenders,
        ).run()
        return 0
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        sys.stderr.close()  # the reader went away (e.g. `| head`); nothing left to say
        return 0
