"""What the app opens, told without torch, and the race it opens on.

The command line checks every flag it can without torch (exit 2 naming the flag) and hands
the app an ``Opening``; the app paints its first frame, then ``open_race`` imports torch,
reads the data or the session file and builds the race, off the UI thread. What cannot be
opened (a CSV file that is not one, a broken session, a contender that does not fit the
loaded session) is a ``Problem`` the app shows, and the race opens on the defaults instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..engine.settings import Settings, SettingsError

if TYPE_CHECKING:
    from ..engine.race import Race


@dataclass(frozen=True)
class Opening:
    """The settings flags (or a lesson's settings), the contenders' changes (``--compare``),
    or a session file (``--load``), whose settings are known only once it is read."""

    settings: Settings = field(default_factory=Settings)
    compare: tuple[str, ...] = ()
    session_path: str | None = None

    def loading_text(self) -> str:
        """What is being loaded, in a learner's words."""
        what = ["torch"]
        if self.session_path is not None:
            what.append(f"the session {self.session_path}")
        elif self.settings.data != Settings().data:
            what.append(f"the data {self.settings.data}")
        return " and ".join(what)


@dataclass(frozen=True)
class Problem:
    """Something the opening asked for that could not be opened: the flag, the settings field
    to mark (if any), and why, with what the app opened instead."""

    flag: str
    field: str | None
    message: str


@dataclass
class Opened:
    race: Race
    session_path: str | None  # the session the race was loaded from (None if it could not be)
    problems: list[Problem]


def open_race(opening: Opening) -> Opened:
    """The race the opening asks for, or the nearest one that can be opened, and what could not."""
    from ..engine.contenders import contender_settings
    from ..engine.data import DataError
    from ..engine.race import Race
    from ..engine.run import Run
    from ..engine.session import SessionError, load_session

    problems: list[Problem] = []
    session_path = opening.session_path
    settings = opening.settings
    leader: Run | None = None
    if session_path is not None:
        try:
            leader = load_session(session_path)
        except SessionError as error:
            problems.append(
                Problem("--load", None, f"{error}; this is a fresh run with the default settings")
            )
            session_path = None
    if leader is None:
        try:
            leader = Run(settings)
        except SettingsError as error:  # --init-w's values do not fit the data's features
            problems.append(Problem("--init-w", "init_w", f"{error.message}; W starts at its default"))
            leader = Run(settings.with_changes(init_w=None))
        except DataError as error:
            default = Settings().data
            problems.append(Problem("--data", "data", f"{error}; the run uses the {default} data instead"))
            leader = Run(settings.with_changes(data=default))
    race = Race(leader)
    for text in opening.compare:
        try:
            race.add(contender_settings(leader.settings, text))
        except SettingsError as error:
            problems.append(Problem("--compare", None, f"{text!r}: {error.message}; it does not race"))
    return Opened(race, session_path, problems)
