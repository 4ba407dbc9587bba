"""A named pipe with a writer standing by: a loader that opened it for reading would get data
(so a test sees a wrong answer, not a hang); one that refuses it unread never wakes the writer."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def pipe_with_a_writer(path: Path, data: bytes) -> Iterator[Path]:
    os.mkfifo(path)
    done = threading.Event()

    def writer() -> None:
        while not done.is_set():
            try:
                handle = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:  # no reader yet
                time.sleep(0.01)
                continue
            os.write(handle, data)
            os.close(handle)
            return

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        yield path
    finally:
        done.set()
        thread.join()
