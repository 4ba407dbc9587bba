"""Ctrl+c and a closed output during `lrtui run`: the run stops between two epochs, says where,
and saves what was done when --save was given."""

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


class StoppedEarly(SystemExit):
    """A run stopped before its end; what happened has been said on stderr."""

    def __init__(self, code: int, output_closed: bool) -> None:
        super().__init__(code)
        self.output_closed = output_closed


class BetweenEpochs:
    """Ctrl+c and a closed output (`lrtui run | head`) stop a run between two epochs, never inside
    one, so what was done is whole and is saved when --save was given. On leaving, stderr says
    where the run stopped and whether it was saved, and StoppedEarly ends the command.

    A second ctrl+c stops at once, inside an epoch if need be, and then nothing is saved.
    """

    def __init__(self, run: Run, save: str | None, err: TextIO) -> None:
        self.run = run
        self.save = save
        self.err = err
        self.interrupted = False
        self.inside_epoch = False  # stopped by a second ctrl+c, maybe halfway through an epoch
        self._previous_handler: Any = None

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

    def __enter__(self) -> BetweenEpochs:
        if threading.current_thread() is threading.main_thread():
            self._previous_handler = signal.signal(signal.SIGINT, self._on_interrupt)
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: Any) -> None:
        if self._previous_handler is not None:
            signal.signal(signal.SIGINT, self._previous_handler)
        output_closed = kind is not None and issubclass(kind, BrokenPipeError)
        if kind is None and not self.interrupted:
            return
        if kind is not None and not (output_closed or issubclass(kind, KeyboardInterrupt)):
            return
        why = "the output was closed (e.g. by head)" if output_closed else "interrupted"
        self.err.write(f"lrtui run: {why}: {self._where()}; {self._saved()}\n")
        self.err.flush()
        raise StoppedEarly(EXIT_OUTPUT_CLOSED if output_closed else EXIT_INTERRUPTED, output_closed) from None

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
