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
import errno
import hmac
import html
import ipaddress
import json
import logging
import math
import os
import re
import secrets
import shlex
import signal
import socket
import sys
from argparse import ArgumentTypeError
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO
from urllib.parse import urlsplit

import aiohttp_jinja2
import jinja2
from aiohttp import WSCloseCode, WSMsgType, web
from textual_serve.server import Server

from . import forkserver
from .learner_app import AppProcess, LearnerApp, Spares, Subprocess

log = logging.getLogger("lrtui.serve")

TOKEN_VARIABLE = "LRTUI_SERVE_TOKEN"
DEFAULT_MAX_SESSIONS = 30
DEFAULT_IDLE_TIMEOUT = 1800.0
DEFAULT_SPARES = 10
MOST_SESSIONS = 1000
HEARTBEAT_SECONDS = 15.0
FULL_RETRY_SECONDS = 20
# A browser asks for its terminal's size; more than this is not a screen but a way to make the
# app allocate without bound.
MOST_COLUMNS = 500
MOST_ROWS = 200
WILDCARD_HOSTS = {"", "0.0.0.0", "::"}
HOST_NAME = re.compile(r"[A-Za-z0-9._-]+(:[0-9]+)?|\[[0-9A-Fa-f:.]+\](:[0-9]+)?")


class ServeError(Exception):
    """A flag or the environment makes serving impossible: one line naming the flag."""

    def __init__(self, flag: str, message: str) -> None:
        super().__init__(f"argument {flag}: {message}" if flag.startswith("--") else f"{flag}: {message}")


# Flag values, as argparse ``type=`` callables: the message says what is wrong.


def port_number(text: str) -> int:
    port = _number(text, int, "a port number")
    if not 0 < port < 65536:
        raise ArgumentTypeError(f"must be between 1 and 65535 (got {port})")
    return port


def public_url(text: str) -> str:
    """``http(s)://host[:port]`` as learners' browsers reach the server, e.g. through a proxy."""
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname or not HOST_NAME.fullmatch(parts.netloc):
        raise ArgumentTypeError(f"give it as http://host:port or https://host (got {text!r})")
    try:
        parts.port  # noqa: B018  (urlsplit checks the port only when it is read)
    except ValueError:
        raise ArgumentTypeError(f"the port in {text!r} is not a port number") from None
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ArgumentTypeError(
            f"serve lrtui at the root of its own host name or port, with no path (got {text!r})"
        )
    return f"{parts.scheme}://{parts.netloc}"


def session_count(text: str) -> int:
    count = _number(text, int, "a whole number")
    if not 1 <= count <= MOST_SESSIONS:
        raise ArgumentTypeError(f"must be a whole number from 1 to {MOST_SESSIONS} (got {count})")
    return count


def spare_count(text: str) -> int:
    count = _number(text, int, "a whole number")
    if not 0 <= count <= MOST_SESSIONS:
        raise ArgumentTypeError(f"must be a whole number from 0 to {MOST_SESSIONS} (got {count})")
    return count


def seconds(text: str) -> float:
    value = _number(text, float, "a number of seconds")
    if not (math.isfinite(value) and value >= 0):
        raise ArgumentTypeError(f"must be a number of seconds, 0 or more (got {text})")
    return value


def _number(text: str, kind: Callable[[str], Any], what: str) -> Any:
    try:
        return kind(text)
    except ValueError:
        raise ArgumentTypeError(f"must be {what} (got {text!r})") from None


def choose_token(no_token: bool) -> str | None:
    """The server's token: LRTUI_SERVE_TOKEN (several servers behind one proxy share it), else random."""
    if no_token:
        return None
    given = os.environ.get(TOKEN_VARIABLE)
    if given is None:
        return secrets.token_urlsafe(24)
    if len(given) < 16 or not all(c.isascii() and (c.isalnum() or c in "-_") for c in given):
        raise ServeError(
            TOKEN_VARIABLE, "a token needs at least 16 characters, letters, digits, - and _ only"
        )
    return given


# Addresses.


def url_host(host: str) -> str:
    """A host as it goes in a URL: IPv6 addresses in brackets."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def listen(host: str, port: int) -> socket.socket:
    """The listening socket, or a ServeError: a port in use is one line, not a traceback."""
    try:
        family, kind, protocol, _name, address = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as error:
        raise ServeError("--host", f"cannot listen on {host!r}: {error.strerror}") from None
    sock = socket.socket(family, kind, protocol)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6 and host in WILDCARD_HOSTS:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.bind(address)
        sock.listen(128)
    except OSError as error:
        sock.close()
        where = f"{url_host(host)}:{port}"
        reason = (
            "is in use by another program"
            if error.errno == errno.EADDRINUSE
            else f"cannot be used ({error.strerror})"
        )
        raise ServeError("--port", f"{where} {reason}") from None
    sock.setblocking(False)
    return sock


@dataclass(frozen=True)
class Door:
    """Who may open the page and its websocket: the token and the origins (sites) allowed."""

    host: str
    port: int
    token: str | None
    public_url: str | None = None

    def link(self) -> str:
        """The address to give learners."""
        if self.public_url:
            base = self.public_url
        elif self.host in WILDCARD_HOSTS:
            base = f"http://{socket.gethostname()}:{self.port}"
        else:
            base = f"http://{url_host(self.host)}:{self.port}"
        return f"{base}/?token={self.token}" if self.token else f"{base}/"

    def token_ok(self, given: str | None) -> bool:
        if self.token is None:
            return True
        return given is not None and hmac.compare_digest(given.encode(), self.token.encode())

    def site_for(self, request: web.Request) -> str | None:
        """The origin this request's page lives on (``scheme://host:port``), or None if the
        request names a host this server does not answer for."""
        if self.public_url:
            return self.public_url
        host = request.host
        if not HOST_NAME.fullmatch(host):
            return None  # not a name a browser sends; and it would go into the page
        parts = urlsplit(f"http://{host}")
        try:
            name = parts.hostname
            parts.port  # noqa: B018
        except ValueError:
            return None
        if not name:
            return None
        # Bound to loopback, only loopback names: a site that points its own name at 127.0.0.1
        # (DNS rebinding) is refused. Bound to a network, any name the machine is reached by.
        if is_loopback(self.host) and not is_loopback(name):
            return None
        return f"http://{parts.netloc}"

    def origin_ok(self, request: web.Request) -> bool:
        """Browsers send Origin with every websocket; it must be this server's own site."""
        origin = request.headers.get("Origin")
        if origin is None:
            return True  # not a browser: the token is what keeps it out
        site = self.site_for(request)
        return site is not None and _same_origin(origin, site)


def _same_origin(one: str, other: str) -> bool:
    def key(url: str) -> tuple[str, str, int] | None:
        parts = urlsplit(url)
        try:
            port = parts.port or {"http": 80, "https": 443}.get(parts.scheme, 0)
        except ValueError:
            return None
        return (parts.scheme, (parts.hostname or "").lower(), port)

    return key(one) is not None and key(one) == key(other)


# The server.


@dataclass(frozen=True)
class Classroom:
    """How many learners, how long a quiet one keeps their place."""

    max_sessions: int = DEFAULT_MAX_SESSIONS
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT  # 0: never
    spares: int = DEFAULT_SPARES  # apps started ahead of the learners who will take them


class LrtuiServer(Server):
    def __init__(
        self, app_argv: list[str], door: Door, classroom: Classroom, forks: forkserver.ForkServer | None
    ) -> None:
        super().__init__(shlex.join(["lrtui", *app_argv]), host=door.host, port=door.port, title="lrtui")
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
        app = web.Application()
        aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(self.templates_path))
        websocket_path = "/ws/{token}" if self.door.token else "/ws"
        app.add_routes(
            [
                web.get("/", self.handle_index, name="index"),
                web.get(websocket_path, self.handle_websocket, name="websocket"),
                web.get("/download/{key}", self.handle_download, name="download"),
                web.static("/static", self.statics_path, name="static"),
            ]
        )
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
        context = {
            "font_size": _whole(request.query.get("fontsize"), 16, 6, 64),
            "app_websocket_url": f"{scheme}:{site.split(':', 1)[1]}{websocket}",
            "config": {"static": {"url": f"{site}/static/"}},
            "application": {"name": "lrtui"},
        }
        response = aiohttp_jinja2.render_template("app_index.html", request, context)
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
        websocket = web.WebSocketResponse(heartbeat=HEARTBEAT_SECONDS, max_msg_size=1 << 20)
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
        """The browser's keys, size and focus to the app, until the page goes or idles out."""
        idle = self.classroom.idle_timeout or None
        while True:
            try:
                message = await websocket.receive(timeout=idle)
            except TimeoutError:
                log.info("closed a session after %g seconds without input", idle)
                await websocket.close(code=WSCloseCode.GOING_AWAY, message=b"idle")
                return
            if message.type != WSMsgType.TEXT:
                if message.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
                    return
                continue
            try:
                kind, data = json.loads(message.data)[:2]
            except (ValueError, TypeError):
                continue  # not what the page sends
            if kind == "stdin" and isinstance(data, str):
                await app.send_bytes(data.encode("utf-8", "replace"))
            elif kind == "resize" and isinstance(data, dict):
                await app.set_terminal_size(
                    _whole(data.get("width"), 80, 1, MOST_COLUMNS),
                    _whole(data.get("height"), 24, 1, MOST_ROWS),
                )
            elif kind == "ping":
                await websocket.send_json(["pong", data])
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
    try:
        value = int(text)  # type: ignore[call-overload]
    except (TypeError, ValueError):
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
