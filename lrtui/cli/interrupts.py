"""Ctrl+c, SIGTERM, SIGHUP and a closed output during `lrtui run`: the run stops between two
epochs, says where, and saves what was done when --save was given. In the app, SIGTERM and SIGHUP
quit as `q` does, so the terminal leaves the alternate screen and mouse tracking."""

from __future__ import annotations

import os
import shlex
import signal
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:  # the CLI imports this module for StoppedEarly before it knows a run is needed
    from ..engine.run import Run

EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a program stopped by ctrl+c
EXIT_OUTPUT_CLOSED = 141  # 128 + SIGPIPE, as a shell reports `yes | head`
# The signals that stop a run or quit the app; each ends with 128 + its number, as a shell reports it.
STOP_SIGNALS: tuple[signal.Signals, ...] = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)
QUIT_SIGNALS = STOP_SIGNALS[1:]  # in the app, ctrl+c is a key; SIGINT is Textual's own
_WHY = {"SIGINT": "interrupted", "SIGTERM": "terminated (SIGTERM)", "SIGHUP": "the terminal hung up (SIGHUP)"}


def _installed(handler: Any, signals: tuple[signal.Signals, ...]) -> dict[int, Any]:
    """``handler`` for each signal, and the handlers it replaces (none off the main thread,
    where Python sets no handler)."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    return {signum: signal.signal(signum, handler) for signum in signals}


def _restored(previous: dict[int, Any]) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, handler)


class QuitOnSignal:
    """SIGTERM and SIGHUP quit the app the way `q` does (``app.exit`` on the app's own loop), so
    Textual writes the sequences that leave the alternate screen and turn mouse tracking off.
    A second one ends the process at once. ``code``: 128 + the signal's number, or None."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.code: int | None = None
        self._previous: dict[int, Any] = {}

    def _on_signal(self, signum: int, frame: Any) -> None:
        self.code = 128 + signum
        signal.signal(signum, signal.SIG_DFL)  # a second one is not asked, it ends the process
        import asyncio  # imported by the app already; `lrtui run` and --help need it not

        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # before the app's loop started or after it ended: nothing to restore
            raise SystemExit(self.code) from None
        loop.call_soon_threadsafe(self.app.exit)

    def __enter__(self) -> QuitOnSignal:
        self._previous = _installed(self._on_signal, QUIT_SIGNALS)
        return self

    def __exit__(self, *exc: object) -> None:
        _restored(self._previous)


class StoppedEarly(SystemExit):
    """A run stopped before its end; what happened has been said on stderr."""

    def __init__(self, code: int, output_closed: bool) -> None:
        super().__init__(code)
        self.output_closed = output_closed


class BetweenEpochs:
    """Ctrl+c, SIGTERM, SIGHUP and a closed output (`lrtui run | head`) stop a run between two
    epochs, never inside one, so what was done is whole and is saved when --save was given. On
    leaving, stderr says where the run stopped and whether it was saved, and StoppedEarly ends
    the command (128 + the signal's number).

    A second signal stops at once, inside an epoch if need be, and then nothing is saved.
    """

    def __init__(self, run: Run, save: str | None, err: TextIO) -> None:
        self.run = run
        self.save = save
        self.err = err
        self.interrupted = False
        self.inside_epoch = False  # stopped by a second signal, maybe halfway through an epoch
        self.signal_name = "SIGINT"
        self._previous: dict[int, Any] = {}

    def after(self, on_rows: Callable[[Any], None]) -> Callable[[Any], None]:
        """``on_rows``, then a stop if ctrl+c came during the epoch."""

        def checked(rows: Any) -> None:
            on_rows(rows)
            if self.interrupted:
                raise KeyboardInterrupt

        return checked

    def _on_interrupt(self, signum: int, frame: Any) -> None:
        if self.interrupted:
            self.inside_epoch = True
            raise KeyboardInterrupt
        self.interrupted = True
        self.signal_name = signal.Signals(signum).name

    def __enter__(self) -> BetweenEpochs:
        self._previous = _installed(self._on_interrupt, STOP_SIGNALS)
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: Any) -> None:
        _restored(self._previous)
        output_closed = kind is not None and issubclass(kind, BrokenPipeError)
        if kind is None and not self.interrupted:
            return
        if kind is not None and not (output_closed or issubclass(kind, KeyboardInterrupt)):
            return
        why = "the output was closed (e.g. by head)" if output_closed else _WHY[self.signal_name]
        said = f"lrtui run: {why}: {self._where()}; {self._saved()}\n"  # saved before it is said
        try:
            self.err.write(said)
            self.err.flush()
        except OSError:  # a terminal that hung up takes no more words; the save is done
            pass
        code = EXIT_OUTPUT_CLOSED if output_closed else 128 + getattr(signal, self.signal_name)
        raise StoppedEarly(code, output_closed) from None

    def _where(self) -> str:
        run = self.run
        last = f"0..{run.settings.epochs}"
        if self.inside_epoch:
            return f"stopped inside epoch {run.epoch} of {last}"
        if run.last is None:
            return f"stopped before epoch 0 of {last}"
        return f"stopped after epoch {run.last.epoch} of {last}"

    def _saved(self) -> str:
        if self.save is None:
            return "nothing was saved (--save FILE keeps a run)"
        if self.inside_epoch:
            return f"the session was not saved to {self.save}: the epoch was cut halfway"
        from ..engine.session import save_session

        try:
            save_session(self.save, self.run)
        except OSError as error:
            return f"the session was not saved: cannot write {self.save} ({error.strerror or error})"
        return f"saved the session up to there to {self.save} (lrtui --load {shlex.quote(self.save)} goes on)"


def quiet_stdout() -> None:
    """Point stdout at the null device, so the exit's flush of a closed pipe raises nothing more."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):  # no real stdout (a test's capture): nothing to flush
        pass
