"""Writing files so that a save never clobbers: never half a file, never over something that is
not a plain file, never over a file marked read-only.

A save writes a temporary file ``.NAME.XXXXXXXX.tmp`` beside the target and renames it over the
target, so a reader sees the old file or the whole new one. Renaming would also replace whatever
the name points at, so the target is checked first: a symlink is followed to the file it names
(the link stays a link), and anything that is not a regular file (a directory, a named pipe, a
device such as /dev/null), a read-only file or a file with other hard links is refused with a
``TargetError``, an ``OSError`` whose ``strerror`` says why in a few words.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; stale temp files are judged by age alone
    fcntl = None  # type: ignore[assignment]  # the module or None; callers check

# A temporary file is stale once no save holds its lock and it is older than this. The lock
# alone would do but for the instant between creating the file and locking it; no save takes
# a minute to get from one to the other.
STALE_AFTER_SECONDS = 60.0
# Without locks (Windows) age is all there is to go on: a save that takes an hour is unheard of.
STALE_AFTER_SECONDS_UNLOCKED = 3600.0
_TEMP_LETTERS = "[a-z0-9_]{8}"  # tempfile's names: 8 of these letters


class TargetError(OSError):
    """A path a save refuses to write over; ``strerror`` says why."""

    def __init__(self, path: str | os.PathLike[str], code: int, why: str) -> None:
        super().__init__(code, why, os.fspath(path))


def writable_target(path: str | os.PathLike[str]) -> Path:
    """The regular file a save to ``path`` writes (symlinks followed), or TargetError saying why not.

    The file may not exist yet; its folder must (FileNotFoundError otherwise).
    """
    if os.fspath(path) == "":
        raise TargetError(path, errno.ENOENT, "no file name given")
    target = Path(os.path.realpath(path))
    try:
        info = os.stat(target)
    except FileNotFoundError:
        if not target.parent.is_dir():
            why = f"no such folder {str(target.parent)!r}"
            raise FileNotFoundError(errno.ENOENT, why, os.fspath(path)) from None
        return target
    except OSError as error:  # a symlink loop, a folder without search permission
        raise TargetError(path, error.errno or errno.EIO, error.strerror or str(error)) from None
    if not stat.S_ISREG(info.st_mode):
        raise TargetError(path, errno.EISDIR if stat.S_ISDIR(info.st_mode) else errno.EINVAL, _kind(info))
    if _read_only(info):
        raise TargetError(path, errno.EACCES, "the file is read-only; make it writable or save elsewhere")
    if info.st_nlink > 1:
        raise TargetError(
            path,
            errno.EMLINK,
            f"the file has {info.st_nlink} hard links and a save would split them; save elsewhere",
        )
    return target


def _kind(info: os.stat_result) -> str:
    mode = info.st_mode
    if stat.S_ISDIR(mode):
        return "is a directory, not a file"
    if stat.S_ISFIFO(mode):
        return "is a named pipe (FIFO), not a regular file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "is a device, not a regular file"
    if stat.S_ISSOCK(mode):
        return "is a socket, not a regular file"
    return "is not a regular file"


def _read_only(info: os.stat_result) -> bool:
    """Whether the file's write bits say we may not write it.

    The bits are read directly rather than asking ``os.access``, which says yes to root for
    every file: root stands in every class (owner, group, others), so a file is read-only to
    root when no class may write it, and a file marked read-only stays so whoever runs lrtui.
    """
    if not hasattr(os, "geteuid"):  # Windows: the read-only attribute shows as no write bits
        return not info.st_mode & stat.S_IWUSR
    if os.geteuid() == 0:
        bit = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH
    elif info.st_uid == os.geteuid():
        bit = stat.S_IWUSR
    elif info.st_gid == os.getegid() or info.st_gid in os.getgroups():
        bit = stat.S_IWGRP
    else:
        bit = stat.S_IWOTH
    return not info.st_mode & bit


def write_atomically(path: str | os.PathLike[str], text: str | Callable[[TextIO], None]) -> None:
    """Write to a temporary file beside the target, then rename it over the target.

    ``text`` is the content, or a function that writes it to the open file. The target is
    ``path`` with symlinks followed; it keeps its mode (and, where allowed, its owner).
    Temporary files that earlier saves to the same target left behind (killed mid-write) are
    removed first.
    """
    target = writable_target(path)
    info: os.stat_result | None
    try:
        info = target.stat()
        mode = info.st_mode & 0o7777
    except FileNotFoundError:
        info = None
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    remove_stale_temporaries(target)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    held = -1
    try:
        if fcntl is not None:
            fcntl.flock(handle, fcntl.LOCK_EX)  # a live save: not stale, whatever its age
            held = os.dup(handle)  # keeps the lock after the file object closes, until the rename
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            if callable(text):
                text(out)
            else:
                out.write(text)
            out.flush()
            os.fsync(out.fileno())
        if info is not None and hasattr(os, "chown"):
            try:
                os.chown(temporary, info.st_uid, info.st_gid)
            except PermissionError:
                pass  # only root can give a file away; the file is then ours, as any new file would be
        os.chmod(temporary, mode)  # mkstemp makes 0600; keep the file's mode, or the usual one
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    finally:
        if held >= 0:
            os.close(held)


def temporary_name_pattern(name: str) -> re.Pattern[str]:
    """The names of the temporary files a save to a file called ``name`` makes."""
    return re.compile(rf"\.{re.escape(name)}\.{_TEMP_LETTERS}\.tmp")


def remove_stale_temporaries(target: Path, now: float | None = None) -> list[Path]:
    """Remove the temporary files of saves to ``target`` that will never finish; returns them.

    One is stale when no save holds its lock (a killed process holds none) and it is older than
    ``STALE_AFTER_SECONDS``. Only regular files named as this module names them are touched.
    """
    pattern = temporary_name_pattern(target.name)
    now = time.time() if now is None else now
    removed: list[Path] = []
    try:
        candidates = [entry for entry in os.scandir(target.parent) if pattern.fullmatch(entry.name)]
    except OSError:
        return removed
    for entry in candidates:
        if _remove_if_stale(Path(entry.path), now):
            removed.append(Path(entry.path))
    return removed


def _remove_if_stale(path: Path, now: float) -> bool:
    try:
        handle = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return False
    try:
        info = os.fstat(handle)
        if not stat.S_ISREG(info.st_mode):
            return False
        if fcntl is None:
            if now - info.st_mtime < STALE_AFTER_SECONDS_UNLOCKED:
                return False
        else:
            if now - info.st_mtime < STALE_AFTER_SECONDS:
                return False
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return False  # a save in progress holds it
        path.unlink(missing_ok=True)
        return True
    except OSError:
        return False
    finally:
        os.close(handle)
