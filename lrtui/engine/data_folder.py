"""The files a served learner may read: those in the folder the teacher shares with
``lrtui serve --data-dir DIR``, and the data file the teacher gave ``lrtui serve`` itself.

A learner in a browser types paths into an app that runs on the teacher's machine. Without
this, the data field and the session prompt would read any file the server can read. A path
the learner types is taken from the shared folder (an absolute path must lie in it too),
resolved with every ``..`` and symlink followed, and refused unless the real file is inside
the real folder and has one link (a hard link in the folder may be a file outside it). The
refusal comes before anything is opened and names only what the learner
typed, so it tells neither whether a file exists nor what is in it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass

from .settings import PRESETS

SHOWN_NAMES = 8  # the folder's files a refusal lists, so the learner can pick one

NO_FOLDER = (
    "loading files is off in this served lrtui (the teacher can share a folder with "
    f"lrtui serve --data-dir DIR); the data sets {', '.join(PRESETS)} still work"
)


class FileRefused(ValueError):
    """A path a served learner may not read; the message names only what was typed."""


@dataclass(frozen=True)
class DataFolder:
    """Where a served app may read files from. ``root`` is the shared folder's real path (None:
    no folder is shared, so no file may be read); ``given`` are the paths the teacher gave on
    the command line, allowed as written."""

    root: str | None
    given: frozenset[str] = frozenset()

    @classmethod
    def shared(cls, root: str | os.PathLike[str] | None, given: Iterable[str] = ()) -> DataFolder:
        return cls(None if root is None else os.path.realpath(root), frozenset(given))

    def readable(self, typed: str) -> str:
        """The real path of the file ``typed`` names (a relative path is taken from the folder),
        or FileRefused saying why not. Nothing is opened: whether the file is one lrtui can
        read is for its reader to say."""
        if typed in self.given:
            return typed
        if self.root is None:
            raise FileRefused(f"{typed}: {NO_FOLDER}")
        if "\0" in typed:
            raise FileRefused(f"{typed!r}: not a file name")
        real = os.path.realpath(os.path.join(self.root, typed))
        if not self.holds(real):
            raise FileRefused(f"{typed}: not in the class's data folder; {self.listing()}")
        if not os.path.lexists(real):
            if os.sep not in typed and "." not in typed:  # a misspelt data set, most likely
                raise FileRefused(
                    f"unknown dataset {typed!r}: use one of {', '.join(PRESETS)} or a file in the"
                    f" class's data folder; {self.listing()}"
                )
            raise FileRefused(f"{typed}: no such file in the class's data folder; {self.listing()}")
        links = _links(real)
        if links > 1:
            raise FileRefused(
                f"{typed}: has {links} hard links, and lrtui reads only files with one from the class's"
                f" data folder (another link may lie outside it); {self.listing()}"
            )
        return real

    def holds(self, real: str) -> bool:
        """Whether a real (resolved) path lies in the folder."""
        if self.root is None:
            return False
        return os.path.commonpath([real, self.root]) == self.root

    def refusal(self, typed: str) -> str | None:
        """Why ``typed`` may not be read, or None."""
        try:
            self.readable(typed)
        except FileRefused as refused:
            return str(refused)
        return None

    def listing(self) -> str:
        """A few of the files the folder holds, for a learner looking for the right name."""
        assert self.root is not None
        try:
            names = sorted(entry.name for entry in os.scandir(self.root) if self._offers(entry))
        except OSError:
            names = []
        if not names:
            return "the folder holds no files yet"
        more = len(names) - SHOWN_NAMES
        shown = ", ".join(names[:SHOWN_NAMES]) + (f" and {more} more" if more > 0 else "")
        return f"it holds {shown}"

    def _offers(self, entry: os.DirEntry[str]) -> bool:
        """Whether a refusal may name this entry: a file the folder would let the learner read."""
        if not entry.is_file():
            return False
        real = os.path.realpath(entry.path)
        return self.holds(real) and _links(real) == 1


def _links(real: str) -> int:
    """How many hard links a regular file has (1 for anything else, or what cannot be looked at)."""
    try:
        info = os.stat(real)
    except OSError:
        return 1
    return info.st_nlink if stat.S_ISREG(info.st_mode) else 1


def served_folder(served: bool, data_dir: str | None, data: str) -> DataFolder | None:
    """Where the app may read files: None if it is not served (``--served`` or ``--data-dir``),
    else the data folder; the data the teacher started the app on may be read again."""
    if not (served or data_dir):
        return None
    return DataFolder.shared(data_dir, [] if data in PRESETS else [data])
