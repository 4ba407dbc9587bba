"""The fork server's own program: it imports torch, Textual and the app once, then forks one
app per learner that asks (``forkserver.ForkServer`` starts it and asks). It is an entry point,
like ``__main__``: it runs ``lrtui.cli.main`` in each forked child."""

from __future__ import annotations

import ctypes
import gc
import json
import os
import signal
import socket
import sys
import traceback
from collections.abc import Callable

from .forkserver import PR_SET_PDEATHSIG, READY


def main(argv: list[str]) -> None:
    """``python -c ... FD APP_ARGV_JSON``: import the app, then fork one per request on FD."""
    sock = socket.socket(fileno=int(argv[0]))
    app_argv = json.loads(argv[1])
    import lrtui.cli.commands
    from lrtui.app.preload import preload

    preload()  # torch, Textual and the app, shared by every app forked from here
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # ctrl+c reaches the server, which closes the socket
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the apps; the server holds pidfds
    gc.collect()
    gc.freeze()  # the apps' garbage collections then leave the shared objects' pages unwritten
    sys.stdout.flush()
    sys.stderr.flush()
    sock.sendall(READY)
    fork_server = os.getpid()
    while True:
        try:
            request, fds, _flags, _address = socket.recv_fds(sock, 4096, 3)
        except OSError:
            break
        if not request:
            break  # the server has gone
        try:
            size = json.loads(request)
            pid = os.fork()
        except (ValueError, OSError) as error:
            for fd in fds:
                os.close(fd)
            sock.sendall(f"error: {error}".encode())
            continue
        if pid == 0:
            _run_app(sock, fds, size, app_argv, lrtui.cli.main, fork_server)
        for fd in fds:
            os.close(fd)
        try:
            pidfd = os.pidfd_open(pid)
        except ProcessLookupError:
            sock.sendall(b"error: the app ended at once")
            continue
        socket.send_fds(sock, [b"ok"], [pidfd])
        os.close(pidfd)


def _run_app(
    sock: socket.socket,
    fds: list[int],
    size: dict[str, int],
    app_argv: list[str],
    main: Callable[[list[str]], int],
    fork_server: int,
) -> None:
    """In the forked child: become ``python -m lrtui APP_ARGV`` on the given pipes. Never returns."""
    code = 1
    try:
        sock.close()
        for signum in (signal.SIGINT, signal.SIGCHLD):
            signal.signal(signum, signal.SIG_DFL)
        _die_with(fork_server)
        for target, fd in zip((0, 1, 2), fds, strict=True):
            os.dup2(fd, target)
            os.close(fd)
        os.environ["COLUMNS"] = str(int(size["columns"]))
        os.environ["ROWS"] = str(int(size["rows"]))
        sys.argv = ["lrtui", *app_argv]
        code = main(app_argv)
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _die_with(fork_server: int) -> None:
    """If the fork server dies (its server died), the apps go too instead of lingering."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() != fork_server:  # it died before the line above
        os._exit(1)
