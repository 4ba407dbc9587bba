"""``lrtui serve``: the app in learners' browsers, one app per page, through textual-serve.

textual-serve's Server gives the page, the terminal in it and the pipe protocol to the app;
this module puts a door in front of it and sizes it for a classroom:

- the page and its websocket need the server's token (printed in the link, as Jupyter does),
  and a websocket or page from another site (its ``Origin``) is refused, so a web page open in
  the same browser cannot drive a learner's app;
- at most ``max_sessions`` apps at once (a page says so when full), each closed after
  ``idle_timeout`` seconds without a key from its browser, and killed if it has not quit a few
  seconds after its page went away;
- apps are forked from one process that has already imported torch and the app
  (lrtui/forkserver.py), so a learner costs tens of MB instead of a 300 MB interpreter.
"""

from __future__ import annotations

import asyncio
import dataclasses
import html
import json
import logging
import os
import shlex
import signal
import socket
import sys
import time
from collections.abc import Callable
from typing import TextIO

from aiohttp import WSCloseCode, WSMsgType, web
from textual_serve.server import Server

from . import forkserver
from .door import (
    FULL_RETRY_SECONDS,
    MOST_COLUMNS,
    MOST_ROWS,
    TOKEN_VARIABLE,
    WILDCARD_HOSTS,
    Classroom,
    Door,
    heartbeat,
    is_loopback,
    listen,
    url_host,
)
from .learner import LearnerApp, Spares, Subprocess
from .textual_serve_internals import AppProcess, page_application, page_context, render_page

log = logging.getLogger("lrtui.serve")


class LrtuiServer(Server):
    def __init__(
        self, app_argv: list[str], door: Door, classroom: Classroom, forks: forkserver.ForkServer | None
    ) -> None:
        super().__init__(shlex.join(["lrtui", *app_argv]), host=door.host, port=door.port, title=PAGE_TITLE)
        self.app_argv = app_argv
        self.door = door
        self.classroom = classroom
        self.forks = forks  # None: `python -m lrtui` per learner
        self.sessions: set[web.WebSocketResponse] = set()
        self.spares = Spares(
            classroom.spares, self.new_app, lambda: self.classroom.max_sessions - len(self.sessions)
        )
        self._stopping = False

    # Starting and stopping.

    async def start_app(self, width: int, height: int) -> AppProcess:
        if self.forks is not None:
            return await self.forks.fork_app(width, height)
        environment = forkserver.app_environment((TOKEN_VARIABLE,)) | {
            "COLUMNS": str(width),
            "ROWS": str(height),
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "lrtui",
            *self.app_argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=environment,
        )
        return Subprocess(process)

    def new_app(self) -> LearnerApp:
        return LearnerApp(self.start_app, self.download_manager)

    async def close_sessions(self) -> None:
        self._stopping = True
        await asyncio.gather(
            *(
                session.close(code=WSCloseCode.GOING_AWAY, message=b"server stopped")
                for session in self.sessions
            )
        )

    async def make_app(self) -> web.Application:
        websocket_path = "/ws/{token}" if self.door.token else "/ws"
        app = page_application(self, self.handle_index, self.handle_websocket, websocket_path)
        app.on_startup.append(self._start_spares)
        app.on_shutdown.append(lambda _app: self.close_sessions())
        return app

    async def _start_spares(self, _app: web.Application) -> None:
        self.spares.start()

    # The page.

    async def handle_index(self, request: web.Request) -> web.StreamResponse:
        refusal = self._refusal(request, request.query.get("token"))
        if refusal is not None:
            return refusal
        if len(self.sessions) >= self.classroom.max_sessions:
            return _page(
                503,
                "The class is full",
                f"All {self.classroom.max_sessions} places are taken. "
                f"This page tries again every {FULL_RETRY_SECONDS} seconds.",
                retry=FULL_RETRY_SECONDS,
            )
        site = self.door.site_for(request)
        assert site is not None  # _refusal answered a request for a host we do not serve
        websocket = request.app.router["websocket"].url_for(
            **({"token": self.door.token} if self.door.token else {})
        )
        scheme = "wss" if site.startswith("https:") else "ws"
        context = page_context(
            _whole(request.query.get("fontsize"), 16, 6, 64),
            f"{scheme}:{site.split(':', 1)[1]}{websocket}",
            site,
            PAGE_TITLE,
        )
        response = render_page(request, context, PAGE_TITLE)
        response.headers.update(PAGE_HEADERS)
        return response

    def _refusal(self, request: web.Request, token: str | None) -> web.Response | None:
        if self.door.site_for(request) is None:
            return _page(403, "Refused", f"This server does not answer for the host {request.host!r}.")
        if not self.door.origin_ok(request):
            origin = request.headers.get("Origin", "")
            return _page(403, "Refused", f"A page from another site ({origin!r}) may not open lrtui.")
        if not self.door.token_ok(token):
            return _page(
                403,
                "This link needs its token",
                "Open the whole link lrtui serve printed, the one that ends in ?token=... "
                "(ask your teacher for it).",
            )
        return None

    # A learner's app.

    async def handle_websocket(  # type: ignore[override]  # a refusal is a plain response, not a websocket
        self, request: web.Request
    ) -> web.StreamResponse:
        refusal = self._refusal(request, request.match_info.get("token"))
        if refusal is not None:
            return refusal
        websocket = web.WebSocketResponse(heartbeat=self.classroom.heartbeat, max_msg_size=1 << 20)
        await websocket.prepare(request)
        if self._stopping:
            await websocket.close(code=WSCloseCode.GOING_AWAY, message=b"the server is stopping")
            return websocket
        if len(self.sessions) >= self.classroom.max_sessions:
            await websocket.send_bytes(
                f"\r\n  The class is full: all {self.classroom.max_sessions} places are taken. "
                "Try again in a minute.\r\n".encode()
            )
            await websocket.close(code=WSCloseCode.TRY_AGAIN_LATER, message=b"the class is full")
            return websocket
        self.sessions.add(websocket)
        width = _whole(request.query.get("width"), 80, 1, MOST_COLUMNS)
        height = _whole(request.query.get("height"), 24, 1, MOST_ROWS)
        app = self.spares.take()
        try:
            if app is None:
                app = self.new_app()
                with self.spares.waiting():
                    await app.start(width, height)
            await app.show_on(websocket, width, height)
            relay = asyncio.create_task(self._relay(websocket, app))
            assert app.running is not None
            await asyncio.wait({relay, app.running}, return_when=asyncio.FIRST_COMPLETED)
            relay.cancel()
            await websocket.close()  # if the app ended first (it quit, or crashed), the page says so
        except forkserver.ForkServerError as error:
            log.error("could not start an app: %s", error)
            await websocket.close(code=WSCloseCode.INTERNAL_ERROR, message=b"could not start the app")
        finally:
            try:
                if app is not None:
                    await asyncio.shield(app.end())
            finally:
                self.sessions.discard(websocket)
                self.spares.changed()
        return websocket

    async def _relay(self, websocket: web.WebSocketResponse, app: LearnerApp) -> None:
        """The browser's keys, size and focus to the app, until the page goes or idles out.

        Idleness is timed from the learner's own messages: a browser answers the server's
        pings by itself."""
        idle = self.classroom.idle_timeout
        last_input = time.monotonic()
        while True:
            left = idle - (time.monotonic() - last_input) if idle else None
            if left is not None and left <= 0:
                log.info("closed a session after %g seconds without input", idle)
                await websocket.close(code=WSCloseCode.GOING_AWAY, message=b"idle")
                return
            try:
                async with asyncio.timeout(left):  # receive(timeout=) would start again on a pong
                    message = await websocket.receive()
            except TimeoutError:
                continue
            if message.type != WSMsgType.TEXT:
                if message.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
                    return
                continue
            if not app.takes(len(message.data)):
                continue  # a flood: dropped, so the app and its pipe never fall far behind
            try:
                sent = json.loads(message.data)
            except ValueError:
                continue  # not what the page sends
            if not (isinstance(sent, list) and sent):
                continue
            kind, data = sent[0], sent[1] if len(sent) > 1 else None  # ["focus"] has no data
            if kind == "ping":
                await websocket.send_json(["pong", data])
                continue
            last_input = time.monotonic()
            if kind == "stdin" and isinstance(data, str):
                await app.send_bytes(data.encode("utf-8", "replace"))
            elif kind == "resize" and isinstance(data, dict):
                await app.set_terminal_size(
                    _whole(data.get("width"), 80, 1, MOST_COLUMNS),
                    _whole(data.get("height"), 24, 1, MOST_ROWS),
                )
            elif kind == "blur":
                await app.blur()
            elif kind == "focus":
                await app.focus()

    # Running.

    def serve(self, debug: bool = False) -> None:
        raise NotImplementedError("use run(sock)")

    async def run(self, sock: socket.socket, ready: Callable[[], None]) -> None:
        """Serve on a bound socket until SIGINT or SIGTERM."""
        runner = web.AppRunner(
            await self.make_app(), access_log=None, handle_signals=False, shutdown_timeout=2
        )
        await runner.setup()
        await web.SockSite(runner, sock).start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        ready()
        try:
            await stop.wait()
        finally:
            await self.close_sessions()
            await runner.cleanup()


PAGE_TITLE = "lrtui"
PAGE_HEADERS = {
    "Referrer-Policy": "no-referrer",  # the link's token stays out of other sites' logs
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
}


def _page(status: int, title: str, text: str, retry: int | None = None) -> web.Response:
    refresh = f'<meta http-equiv="refresh" content="{retry}">' if retry else ""
    body = (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>lrtui: {html.escape(title)}</title>{refresh}"
        "<style>body{background:#0c181f;color:#eee;font-family:monospace;margin:4em}</style></head>"
        f"<body><h1>lrtui: {html.escape(title)}</h1><p>{html.escape(text)}</p></body></html>"
    )
    response = web.Response(status=status, text=body, content_type="text/html")
    response.headers.update(PAGE_HEADERS)
    if retry:
        response.headers["Retry-After"] = str(retry)
    return response


def _whole(text: object, default: int, least: int, most: int) -> int:
    """A whole number from a query or a message (any JSON value), kept within its bounds."""
    if not isinstance(text, (str, int, float)) or isinstance(text, bool):
        return default
    try:
        value = int(text)
    except (ValueError, OverflowError):  # not a number; an infinite one (JSON allows Infinity)
        return default
    return min(max(value, least), most)


def warnings(door: Door) -> list[str]:
    """What the teacher should know before learners connect."""
    found = []
    if not is_loopback(door.host):
        who = "anyone who can reach it and has the link" if door.token else "anyone who can reach it"
        where = url_host(door.host) if door.host not in WILDCARD_HOSTS else "every address"
        found.append(f"listening on {where}, reachable from other machines: {who} can use the app.")
    if door.token is None:
        found.append(
            "--no-token: any program on this machine, and any page its browsers open, can drive the app."
        )
    return found


def serve(
    app_argv: list[str],
    door: Door,
    classroom: Classroom,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Serve until ctrl+c. Raises ServeError (before anything starts) if it cannot listen."""
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    logging.basicConfig(level=logging.INFO, format="lrtui serve: %(message)s", stream=err)
    classroom = dataclasses.replace(classroom, heartbeat=heartbeat(os.environ))
    sock = listen(door.host, door.port)
    forks = forkserver.ForkServer(app_argv, hidden=(TOKEN_VARIABLE,)) if forkserver.available() else None
    server = LrtuiServer(app_argv, door, classroom, forks)
    with sock:
        for warning in warnings(door):
            err.write(f"lrtui serve: warning: {warning}\n")
        err.flush()
        out.write(f"lrtui serve: each learner gets: {shlex.join(['lrtui', *app_argv])}\n")
        out.write("lrtui serve: starting the app (imports torch once)...\n")
        out.flush()
        try:
            if forks is not None:
                forks.start()  # seconds: it imports torch, once for every learner
            asyncio.run(server.run(sock, lambda: _print_ready(out, door, classroom)))
        except forkserver.ForkServerError as error:
            err.write(f"lrtui serve: error: {error}\n")
            return 1
        finally:
            if forks is not None:
                forks.stop()
    return 0


def _print_ready(out: TextIO, door: Door, classroom: Classroom) -> None:
    idle = (
        f"a page without a key for {classroom.idle_timeout:g} s closes"
        if classroom.idle_timeout
        else "pages never time out"
    )
    out.write(
        f"lrtui serve: up to {classroom.max_sessions} learners at once, "
        f"{classroom.spares} app{'' if classroom.spares == 1 else 's'} started ahead; {idle}.\n"
    )
    out.write(f"lrtui serve: open {door.link()} in a browser (ctrl+c stops)\n")
    out.flush()
