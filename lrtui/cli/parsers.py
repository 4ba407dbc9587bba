"""The command line's parsers: a flag for every setting, read from the settings registry, and
the flags of each subcommand. A bad flag is one line naming it, exit 2."""

from __future__ import annotations

import argparse
import textwrap
from typing import Any, NoReturn

from .. import __version__
from ..engine.choices import DEFAULT_SPEED, SPEEDS
from ..engine.settings import FIELDS, PRESETS, flag_help
from ..lessons import DEFAULT_LANGUAGE, language_from_environment, languages

EXIT_BAD_INPUT = 2
EXIT_DIVERGED = 3


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's help, its lines broken at spaces only: a key such as momentum-decay stays whole."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False)


class Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        """One line naming the flag and the reason, not the whole usage block."""
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def settings_parser(prog: str, description: str) -> argparse.ArgumentParser:
    """A parser with a flag for every setting, read from the settings registry."""
    parser = Parser(prog=prog, description=description)
    for field in FIELDS:
        if field.switch is not None:
            parser.add_argument(
                field.flag, dest=field.name, action="store_const", const=field.switch, help=flag_help(field)
            )
        else:
            parser.add_argument(field.flag, dest=field.name, metavar=field.metavar, help=flag_help(field))
    return parser


def given_flags(args: argparse.Namespace) -> list[str]:
    """The settings flags given on the command line."""
    return [field.flag for field in FIELDS if getattr(args, field.name) is not None]


def flag_words(args: argparse.Namespace) -> list[str]:
    """The command-line words that pass the given settings on (to the served app)."""
    words: list[str] = []
    for field in FIELDS:
        given = getattr(args, field.name)
        if given is not None:
            words += [field.flag] if field.switch is not None else [field.flag, str(given)]
    return words


# The subcommands `main` dispatches to, each with its line in `lrtui --help`.
COMMANDS: tuple[tuple[str, str], ...] = (
    ("run", "train headless and print the lessons' log lines (or CSV, JSON Lines)"),
    ("describe", "the problem's facts without training: optimum, curvature, best rates"),
    ("export-script", "write the plain PyTorch script for these settings"),
    ("lessons", "list the guided lessons"),
    ("serve", "serve the app to web browsers, one app per page"),
)


def app_parser() -> argparse.ArgumentParser:
    width = max(len(name) for name, _ in COMMANDS)
    parser = settings_parser(
        "lrtui",
        "Step a real torch optimizer through linear regression, epoch by epoch: with no command,\n"
        "lrtui opens the app. Commands (`lrtui COMMAND --help` for each one's flags):\n\n"
        + "\n".join(f"  lrtui {name:<{width}}  {line}" for name, line in COMMANDS),
    )
    parser.usage = "lrtui [COMMAND] [flags]"
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--version", action="version", version=f"lrtui {__version__}")
    parser.add_argument(
        "--speed",
        type=int,
        choices=SPEEDS,
        default=DEFAULT_SPEED,
        metavar="S",
        help=f"run speed in epochs per second, one of {', '.join(map(str, SPEEDS))} (0: as fast as possible;"
        " default %(default)s)",
    )
    parser.add_argument(
        "--load",
        metavar="FILE",
        help="open a session saved by lrtui (settings flags are not allowed with it)",
    )
    add_language(parser)
    add_compare(parser)
    parser.add_argument(
        "--lesson",
        metavar="N",
        help="start a guided lesson, by number or name (`lrtui lessons` lists them); it brings its settings",
    )
    # What `lrtui serve` gives each learner's app, not flags for a learner: saves become downloads,
    # and files load only from the data folder (none without --data-dir).
    parser.add_argument("--served", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", metavar="DIR", help=argparse.SUPPRESS)
    return parser


def add_language(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--lang",
        metavar="CODE",
        help=f"language of the lessons: {', '.join(languages())} (default: from LANG, else {DEFAULT_LANGUAGE})",
    )


def chosen_language(parser: argparse.ArgumentParser, args: argparse.Namespace) -> str:
    if args.lang is None:
        return language_from_environment()
    if args.lang.lower() not in languages():
        parser.error(f"argument --lang: no lessons in {args.lang!r}: use one of {', '.join(languages())}")
    return args.lang.lower()


def run_parser() -> argparse.ArgumentParser:
    parser = settings_parser("lrtui run", "Train headless and print the lessons' log lines.")
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
    add_compare(parser)
    return parser


def add_compare(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--compare",
        action="append",
        metavar="CHANGES",
        help=(
            "race another contender on the same data, given as changes to the other flags, e.g."
            " 'optimizer=adam lr=0.1' or 'zero-grad=off'; up to 3 times (keys: "
            + ", ".join(key for field in FIELDS for key in field.race_keys)
            + ")"
        ),
    )


def script_parser() -> argparse.ArgumentParser:
    parser = settings_parser(
        "lrtui export-script",
        "Write the plain PyTorch script for these settings; run with python, it prints what `lrtui run` prints.",
    )
    parser.add_argument("-o", "--output", metavar="FILE", help="write the script here (default: print it)")
    return parser


def serve_parser() -> argparse.ArgumentParser:
    from ..serve import door as serve_door

    parser = settings_parser(
        "lrtui serve",
        "Serve the app to web browsers, one app per page: a classroom on one machine (textual-serve).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default %(default)s)")
    parser.add_argument(
        "--port", type=serve_door.port_number, default=8000, help="port to listen on (default %(default)s)"
    )
    parser.add_argument(
        "--public-url",
        type=serve_door.public_url,
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
        type=serve_door.session_count,
        default=serve_door.DEFAULT_MAX_SESSIONS,
        metavar="N",
        help=f"at most N apps at once; later pages are told the class is full (default {serve_door.DEFAULT_MAX_SESSIONS})",
    )
    parser.add_argument(
        "--idle-timeout",
        type=serve_door.seconds,
        default=serve_door.DEFAULT_IDLE_TIMEOUT,
        metavar="SECONDS",
        help=f"close a page after this long without a key from it; 0: never (default {serve_door.DEFAULT_IDLE_TIMEOUT:g})",
    )
    parser.add_argument(
        "--spares",
        type=serve_door.spare_count,
        default=serve_door.DEFAULT_SPARES,
        metavar="N",
        help=f"keep N apps started ahead, so the next N pages show at once (default {serve_door.DEFAULT_SPARES})",
    )
    parser.add_argument(
        "--data-dir",
        type=serve_door.data_folder,
        metavar="DIR",
        help="learners may load data (CSV) and sessions from this folder; without it they load no files "
        f"(the data sets {', '.join(PRESETS)} still work). Saves always go to the learner's browser",
    )
    parser.add_argument(
        "--speed",
        type=int,
        choices=SPEEDS,
        default=DEFAULT_SPEED,
        metavar="S",
        help="run speed (as for lrtui)",
    )
    return parser
