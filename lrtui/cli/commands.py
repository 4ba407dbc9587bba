"""Command line: ``lrtui`` opens the app, ``lrtui run`` trains headless and prints the log.

Flags are turned into one ``Settings`` by the engine's own parsers; this module only maps
flags to settings, writes output and chooses exit codes (0 done, 2 bad input, 3 diverged).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from typing import TYPE_CHECKING, Any, TextIO

from ..engine.files import writable_target
from ..engine.settings import FIELD, FIELDS, Settings, SettingsError, parse_field
from ..lessons import Lesson, LessonError, find_lesson, lessons, ui_text
from .interrupts import (
    EXIT_INTERRUPTED,
    EXIT_OUTPUT_CLOSED,
    BetweenEpochs,
    QuitOnSignal,
    StoppedEarly,
    quiet_stdout,
)
from .output import Progress, writer_for
from .parsers import (
    EXIT_BAD_INPUT,
    EXIT_DIVERGED,
    Parser,
    add_language,
    app_parser,
    chosen_language,
    flag_words,
    given_flags,
    run_parser,
    script_parser,
    serve_parser,
    settings_parser,
)

# torch (about a second to import), numpy, plotext and textual are imported inside the
# functions that run something, so --help, --version, `lrtui lessons` and bad flags answer at once.
if TYPE_CHECKING:
    from ..app.opening import Opening
    from ..engine.race import Race, Row


def list_lessons(argv: list[str], out: TextIO | None = None) -> int:
    """`lrtui lessons`: every lesson's number, name and title."""
    out = sys.stdout if out is None else out
    parser = Parser(prog="lrtui lessons", description="List the guided lessons.")
    add_language(parser)
    language = chosen_language(parser, parser.parse_args(argv))
    for lesson in lessons(language):
        out.write(f"{lesson.number}  {lesson.id:<12} {lesson.title}\n")
    out.write(ui_text(language, "start_with") + "\n")
    return 0


def serve(argv: list[str]) -> int:
    from ..serve import door as serve_door
    from ..serve import server as served

    parser = serve_parser()
    args = parser.parse_args(argv)
    settings = settings_from_args(parser, args)
    load_race(parser, settings)  # bad data is refused here, not in every browser tab
    app_argv = [*flag_words(args), "--speed", str(args.speed), "--served"]
    if args.data_dir is not None:
        app_argv += ["--data-dir", args.data_dir]
    try:
        door = serve_door.Door(args.host, args.port, serve_door.choose_token(args.no_token), args.public_url)
        return served.serve(
            app_argv, door, serve_door.Classroom(args.max_sessions, args.idle_timeout, args.spares)
        )
    except serve_door.ServeError as error:
        parser.error(str(error))


def export_script(argv: list[str], out: TextIO | None = None) -> int:
    out = sys.stdout if out is None else out
    parser = script_parser()
    args = parser.parse_args(argv)
    check_output(parser, "--output", args.output)
    race = load_race(parser, settings_from_args(parser, args))
    from ..engine.script import script_for, write_script

    if args.output is None:
        out.write(script_for(race.leader.settings, race.leader.dataset))
        return 0
    try:
        write_script(args.output, race.leader.settings, race.leader.dataset)
    except OSError as error:
        parser.error(f"argument --output: cannot write {args.output} ({error.strerror or error})")
    return 0


def describe(argv: list[str], out: TextIO | None = None) -> int:
    """`lrtui describe`: the problem's facts without training (lrtui/describe.py)."""
    from . import describe as facts

    parser = settings_parser("lrtui describe", facts.DESCRIPTION)
    parser.add_argument("--format", choices=("text", "json"), default="text", help=facts.FORMAT_HELP)
    args = parser.parse_args(argv)
    race = load_race(parser, settings_from_args(parser, args))
    facts.write(race.leader, args.format, sys.stdout if out is None else out)
    return 0


def settings_from_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Settings:
    """One validated Settings from parsed flags; a bad value ends with exit 2 naming its flag."""
    values: dict[str, Any] = {}
    for field in FIELDS:
        given = getattr(args, field.name)
        if given is None:
            continue
        if isinstance(given, bool):
            values[field.name] = given
            continue
        try:
            values[field.name] = parse_field(field.name, given)
        except SettingsError as error:
            parser.error(f"argument {field.flag}: {error.message}")
    try:
        settings = Settings(**values)
    except SettingsError as error:
        known = FIELD.get(error.field)
        parser.error(f"argument {known.flag if known else error.field}: {error.message}")
    return settings


def check_output(parser: argparse.ArgumentParser, flag: str, path: str | None) -> None:
    """Refuse up front a file that could only fail to be written at the end (exit 2 naming the flag)."""
    if path is None:
        return
    try:
        writable_target(path)
    except OSError as error:  # TargetError, or a folder that does not exist (FileNotFoundError)
        parser.error(f"argument {flag}: cannot write {path!r} ({error.strerror or error})")


def load_race(
    parser: argparse.ArgumentParser, settings: Settings, contenders: list[Settings] | None = None
) -> Race:
    """The race of these settings and contenders (a single run when there are none); data that
    cannot be loaded ends with exit 2 naming --data."""
    from ..engine.data import DataError
    from ..engine.race import Race

    try:
        return Race.of(settings, contenders or [])
    except SettingsError as error:  # a setting that does not fit the data: --init-w's count
        known = FIELD.get(error.field)
        parser.error(f"argument {known.flag if known else error.field}: {error.message}")
    except DataError as error:
        parser.error(f"argument --data: {error}")
    raise AssertionError("unreachable")


def run(argv: list[str], out: TextIO | None = None, err: TextIO | None = None) -> int:
    """`lrtui run`: one run, or a race with --compare, to its last epoch; the logged epochs
    as the lessons print them (or CSV/JSON Lines), a row per contender in a race."""
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    parser = run_parser()
    args = parser.parse_args(argv)
    check_output(parser, "--save", args.save)
    settings = settings_from_args(parser, args)
    contenders = compared_settings(parser, args.compare, settings)
    if args.save and contenders:
        parser.error("argument --compare: --save keeps a single run; drop --save or --compare")
    from ..engine.report import divergence_of, logged
    from ..engine.session import save_session

    race = load_race(parser, settings, contenders)
    racing = len(race) > 1
    optimum = race.leader.surface.optimum
    if not optimum.unique:
        err.write(f"lrtui run: note: {optimum.reason}; gradient descent still runs\n")
    write = writer_for(args.format, out, settings.epochs, race)
    if racing and args.format == "text":
        for run_, name in zip(race, race.labels(), strict=True):
            out.write(f"{run_.letter} = {name}\n")
    progress = Progress(err, settings.epochs + 1) if args.format == "text" and err.isatty() else None

    def on_rows(rows: list[Row]) -> None:
        for letter, record in rows:
            if logged(record, settings.log_every):
                if progress is not None:
                    progress.clear()
                write(letter, record)
        if progress is not None:
            progress.update(rows[0][1].epoch + 1)

    with BetweenEpochs(race.leader, args.save, err) as stop:
        try:
            race.run_to_end(stop.after(on_rows))
        finally:
            if progress is not None:
                progress.clear()
        if args.plot:
            from ..charts import render_for_terminal

            width, height = shutil.get_terminal_size()
            out.write(render_for_terminal(race, width, max(height - 2, 24), color=out.isatty()))
        out.flush()
    if args.save:
        try:
            save_session(args.save, race.leader)
        except OSError as error:
            err.write(
                f"lrtui run: error: argument --save: cannot write {args.save} ({error.strerror or error})\n"
            )
            return EXIT_BAD_INPUT
    diverged = [run_ for run_ in race if run_.diverged]
    for run_ in diverged:
        err.write(f"lrtui run: {run_.letter + ' ' if racing else ''}{divergence_of(run_)}\n")
    return EXIT_DIVERGED if diverged else 0


def compared_settings(
    parser: argparse.ArgumentParser, compare: list[str] | None, leader: Settings
) -> list[Settings]:
    """One contender's settings per --compare, as changes to the leader's."""
    if not compare:
        return []
    from ..engine.contenders import contender_settings

    check_contender_count(parser, compare)
    contenders = []
    for text in compare:
        try:
            contenders.append(contender_settings(leader, text))
        except SettingsError as error:
            parser.error(f"argument --compare: {text!r}: {error.message}")
    return contenders


def check_contender_count(parser: argparse.ArgumentParser, compare: list[str]) -> None:
    from ..engine.contenders import MAX_CONTENDERS

    if len(compare) > MAX_CONTENDERS - 1:
        parser.error(f"argument --compare: a race has at most {MAX_CONTENDERS} contenders, so 3 --compare")


def app_start(
    parser: argparse.ArgumentParser, args: argparse.Namespace, language: str
) -> tuple[Opening, Lesson | None]:
    """What the app opens: a lesson, a saved session, or the settings flags, racing the
    --compare contenders if any. Everything that can be checked without torch is checked
    here (exit 2 naming the flag); reading the data or the session is left to the app, which
    paints its first frame first and says what it could not open."""
    from ..app.opening import Opening
    from ..engine.data_path import missing_data

    given = given_flags(args)
    lesson = None
    compare = tuple(args.compare or ())
    if args.lesson is not None:
        if args.load:
            given.append("--load")
        if given:
            parser.error(f"argument --lesson: a lesson brings its own settings; drop {', '.join(given)}")
        try:
            lesson = find_lesson(args.lesson, language)
        except LessonError as error:
            parser.error(f"argument --lesson: {error}")
        settings = lesson.settings
    elif args.load:
        if given:
            parser.error(f"argument --load: a session brings its own settings; drop {', '.join(given)}")
        if not os.path.exists(args.load):
            parser.error(f"argument --load: {args.load}: no such file")
        check_contender_count(parser, list(compare))  # each is checked against the session, once read
        return Opening(compare=compare, session_path=args.load), None
    else:
        settings = settings_from_args(parser, args)
        missing = missing_data(settings.data)
        if missing is not None:
            parser.error(f"argument --data: {missing}")
    compared_settings(parser, list(compare), settings)
    return Opening(settings, compare), lesson


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] == "run":
            return run(argv[1:])
        if argv and argv[0] == "export-script":
            return export_script(argv[1:])
        if argv and argv[0] == "serve":
            return serve(argv[1:])
        if argv and argv[0] == "describe":
            return describe(argv[1:])
        if argv and argv[0] == "lessons":
            return list_lessons(argv[1:])
        parser = app_parser()
        args = parser.parse_args(argv)
        language = chosen_language(parser, args)
        opening, lesson = app_start(parser, args, language)
        from ..app.app import (
            LrtuiApp,  # textual is imported only when the app starts; torch once it has painted
        )
        from ..engine.data_folder import served_folder

        app = LrtuiApp(
            opening,
            speed=args.speed,
            lesson=lesson,
            language=language,
            data_folder=served_folder(args.served, args.data_dir, opening.settings.data),
        )
        with QuitOnSignal(app) as signalled:
            app.run()
        return signalled.code or app.return_code or 0
    except StoppedEarly as stopped:  # stderr already says what happened
        if stopped.output_closed:
            quiet_stdout()
        return stopped.code  # type: ignore[return-value]  # always an int here
    except KeyboardInterrupt:
        sys.stderr.write("lrtui: interrupted\n")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        quiet_stdout()
        sys.stderr.write("lrtui: the output was closed before everything was written\n")
        return EXIT_OUTPUT_CLOSED
