"""The app's files: sessions, the history as CSV, the plain PyTorch script, the screen as SVG,
and the CSV files typed into the data field.

In the learner's own terminal these are files on the learner's machine, at the paths typed. A
served app (``lrtui serve``) runs on the teacher's machine, so it writes nothing there: every
save goes to the learner's browser as a download (Textual's ``deliver_text``, which
textual-serve offers to the page), and files are read only from the folder the teacher shares
(``DataFolder``). Either way files are read off the UI thread, so a slow or huge file never
freezes the app: the state pane says "reading …" and the keys still work, the result is
applied on the UI thread, and a refused file keeps the current run.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from textual.worker import Worker, WorkerState

from ..engine.data_folder import NO_FOLDER, DataFolder
from ..engine.files import write_atomically
from ..engine.settings import Settings
from ..lazy import lazy_callable
from .widgets.prompt import PathPrompt

# The app paints its first frame before torch is imported: these are imported when first called.
if TYPE_CHECKING:
    from ..engine.data import Dataset, load
    from ..engine.report import export_history_csv, write_history_csv
    from ..engine.script import script_for, write_script
    from ..engine.session import SessionFile, read_session, save_session, session_from_file, session_text
    from .app import LrtuiApp
else:
    load = lazy_callable("lrtui.engine.data", "load")
    export_history_csv = lazy_callable("lrtui.engine.report", "export_history_csv")
    write_history_csv = lazy_callable("lrtui.engine.report", "write_history_csv")
    script_for = lazy_callable("lrtui.engine.script", "script_for")
    write_script = lazy_callable("lrtui.engine.script", "write_script")
    read_session = lazy_callable("lrtui.engine.session", "read_session")
    save_session = lazy_callable("lrtui.engine.session", "save_session")
    session_from_file = lazy_callable("lrtui.engine.session", "session_from_file")
    session_text = lazy_callable("lrtui.engine.session", "session_text")

DEFAULT_SESSION = "lrtui-session.json"
DEFAULT_EXPORT = "lrtui-history.csv"
DEFAULT_SCRIPT = "lrtui_train.py"
READING = "read"  # the worker group of file reads
UNSAFE_IN_A_NAME = re.compile(r"[^A-Za-z0-9._-]+")

ENDED = (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED)
T = TypeVar("T")


@dataclass(frozen=True)
class _Refused:
    reason: str


@dataclass(frozen=True)
class _Reading:
    name: str  # what the status line says is being read
    asked: str  # the path as typed
    apply: Callable[[Any], None]
    refused: Callable[[str], None]


class FileActions:
    """The app's saves, loads and exports, and the one file read that counts. ``data_folder``:
    the app is served, and may read only there."""

    def __init__(self, app: LrtuiApp, data_folder: DataFolder | None = None) -> None:
        self.app = app
        self._data_folder = data_folder
        self._reading: tuple[Worker[Any], _Reading] | None = None  # the one read that counts

    @property
    def served(self) -> DataFolder | None:
        """Where a served app may read files (None: the app runs in the learner's own terminal).
        An app in a browser is served even if ``lrtui serve`` did not say so: it reads no file."""
        if self._data_folder is None and self.app.is_web:
            self._data_folder = DataFolder(None)
        return self._data_folder

    @property
    def reading(self) -> str | None:
        """The file being read, if any."""
        return None if self._reading is None else self._reading[1].name

    # -------------------------------------------------------------- reading
    def read_then(
        self, asked: str, read: Callable[[], T], apply: Callable[[T], None], refused: Callable[[str], None]
    ) -> None:
        """``read()`` (of the file ``asked``) in a thread; then, on the UI thread, ``apply`` its
        result, or ``refused`` with the reason the file could not be read or used. The newest
        read wins: one still going is dropped (and refused), unless it reads the same file."""
        if self._reading is not None and self._reading[1].asked == asked:
            return  # asked again (enter, then leaving the field): the read under way answers
        name = os.path.basename(asked) or asked

        def work() -> T | _Refused:
            try:
                return read()
            except (OSError, ValueError) as error:  # DataError, SessionError, FileRefused
                return _Refused(_reason(error, name))

        self.stop_reading(f"{name} was asked for since")
        worker = self.app.run_worker(work, name=f"reading {name}", group=READING, thread=True)
        self._reading = (worker, _Reading(name, asked, apply, refused))
        self.app.refresh_views()

    def worker_changed(self, event: Worker.StateChanged) -> None:
        if self._reading is None or self._reading[0] is not event.worker or event.state not in ENDED:
            return  # a read dropped since, or one still going (the state it had when the event was sent)
        reading, self._reading = self._reading[1], None
        if event.state == WorkerState.SUCCESS:
            result = event.worker.result
            try:
                if isinstance(result, _Refused):
                    reading.refused(result.reason)
                else:
                    reading.apply(result)
            except (OSError, ValueError) as error:  # a sound file that makes no sound run
                reading.refused(_reason(error))
        self.app.refresh_views()

    def stop_reading(self, because: str) -> None:
        """Drop the read still going, if any, saying why: what the learner chose since comes
        first. Its thread runs on to the end of the file; what it read is not used."""
        if self._reading is not None:
            (worker, reading), self._reading = self._reading, None
            worker.cancel()  # a worker cancelled before it started sends no event
            reading.refused(f"{reading.asked}: not read, {because}")

    # -------------------------------------------------------------- the data
    def read_data(self, new: Settings, change: str) -> None:
        """A data file, read off the UI thread (only from the data folder when served); then
        the run starts again on it with ``new`` settings."""
        typed, folder = new.data, self.served

        def read() -> tuple[str, Dataset]:
            path = typed if folder is None else folder.readable(typed)
            return path, load(path, quote=folder is None)

        def apply(read: tuple[str, Dataset]) -> None:
            path, dataset = read
            self.app.show(self.app.controller.new_data(path, dataset, change))

        self.read_then(typed, read, apply, lambda why: self.app.refuse("data", why))

    # ---------------------------------------------------------- the prompts
    def ask_path(
        self,
        question: str,
        default: str,
        failure: str,
        act: Callable[[str], str | None],
        check: Callable[[str], str | None] | None = None,
        where: Callable[[str], str] | None = None,
    ) -> None:
        """Ask for a path, then ``act(path)``, which returns what to log; a failure is a message."""

        def done(path: str | None) -> None:
            if path is None:
                return
            try:
                done_text = act(path)
            except (OSError, ValueError) as error:  # SessionError and other refusals say what is wrong
                self.app.notify(_reason(error, path), title=failure, severity="error")
            else:
                if done_text:
                    self.app.log_event(done_text)

        self.app.push_screen(PathPrompt(question, default, check=check, where=where), done)

    def save_or_download(
        self,
        question: str,
        default: str,
        failure: str,
        save: Callable[[str], str],
        what: str,
        content: Callable[[], str],
    ) -> None:
        """Ask where to ``save(path)`` (which returns what to log); served, ask instead for the
        name of a download of ``what``, whose text is ``content()``."""
        if self.served is None:
            self.ask_path(question, default, failure, save)
            return
        self.ask_path(
            f"Download {what} as",
            download_name(default),
            failure,
            lambda name: self.download(name, content(), what),
            where=lambda text: f"→ a download in your browser, named {download_name(text)}",
        )

    def download(self, name: str, text: str, what: str) -> str:
        """Send ``text`` to the learner's browser as a file called ``name``; says what was sent."""
        name = download_name(name)
        self.app.deliver_text(io.StringIO(text), save_filename=name)
        return f"sent {what} to your browser as the download {name}"

    # ------------------------------------------------------------- the saves
    def save_session(self) -> None:
        race_note = " (run A only: a session does not keep the race's other contenders)"

        def save(path: str) -> str:
            save_session(path, self.app.leader)
            self.app.controller.session_path = path
            saved = f"saved the session {self.app.controller.when()} to {os.path.abspath(path)}"
            return saved + race_note if len(self.app.race) > 1 else saved

        default = self.app.session_path or DEFAULT_SESSION
        what = f"the session {self.app.controller.when()}" + (race_note if len(self.app.race) > 1 else "")
        content = lambda: session_text(self.app.leader)  # noqa: E731  (the leader when the name is given)
        self.save_or_download("Save the session to", default, "Session not saved", save, what, content)

    def load_session(self) -> None:
        folder = self.served
        if folder is not None and folder.root is None:
            self.app.notify(NO_FOLDER, title="Session not loaded", severity="warning")
            return

        def load(path: str) -> None:
            def read() -> SessionFile:
                if folder is None:
                    return read_session(path)
                return read_session(folder.readable(path), folder.readable, quote=False)

            def apply(read: SessionFile) -> None:
                self.app.show(self.app.controller.loaded(session_from_file(read), path))

            def refused(why: str) -> None:
                self.app.notify(why, title="Session not loaded", severity="error")

            self.read_then(path, read, apply, refused)

        default = self.app.session_path or DEFAULT_SESSION
        if folder is None:
            self.ask_path("Load the session from", default, "Session not loaded", load)
        else:
            self.ask_path(
                "Load a session from the class's data folder",
                default,
                "Session not loaded",
                load,
                check=folder.refusal,
                where=lambda text: "→ from the class's data folder",
            )

    def export_script(self) -> None:
        leader = self.app.leader

        def export(path: str) -> str:
            write_script(path, leader.settings, leader.dataset)
            return f"wrote the PyTorch script for these settings to {os.path.abspath(path)}"

        self.save_or_download(
            "Write the PyTorch script to",
            DEFAULT_SCRIPT,
            "Script not written",
            export,
            "the PyTorch script for these settings",
            partial(script_for, leader.settings, leader.dataset),
        )

    def export_history(self) -> None:
        history = self.app.leader.history

        def export(path: str) -> str:
            export_history_csv(path, history)
            return f"exported {len(history)} epochs to {os.path.abspath(path)}"

        def text() -> str:
            out = io.StringIO()
            write_history_csv(out, history)
            return out.getvalue()

        self.save_or_download(
            "Export the history as CSV to",
            DEFAULT_EXPORT,
            "History not exported",
            export,
            f"the history ({len(history)} epochs) as CSV",
            text,
        )

    def save_screenshot(self) -> None:
        """The screen as an SVG picture (for slides), named after the epoch the state pane
        shows: in this folder, or a download when served. A save that fails says why."""
        last = self.app.leader.last
        name = f"lrtui-epoch-{0 if last is None else last.epoch}.svg"
        if self.served is not None:
            self.app.log_event(self.download(name, self.app.export_screenshot(), "a picture of the screen"))
            return
        try:
            path = os.path.join(os.getcwd(), name)
            write_atomically(path, self.app.export_screenshot())
        except OSError as error:  # a folder in the way, a full disk, the folder gone
            self.app.notify(_reason(error, name), title="Picture not saved", severity="error")
            return
        self.app.log_event(f"saved a picture of the screen to {path}")


def download_name(text: str) -> str:
    """A file name for a download: the last part of what was typed, in letters a browser's
    Content-Disposition header carries whole (textual-serve writes the name unquoted)."""
    name = UNSAFE_IN_A_NAME.sub("_", os.path.basename(text.strip())).strip("._")
    return name or "lrtui-file.txt"


def _reason(error: Exception, path: str | None = None) -> str:
    """What went wrong, in one line: an OSError (a save refused) names the path typed."""
    if isinstance(error, OSError):
        why = error.strerror or str(error)
        return why if path is None else f"{path}: {why}"
    return str(error)  # DataError, SessionError, FileRefused: they name their file
