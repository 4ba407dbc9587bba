"""Who may come in to ``lrtui serve``, and where: the flags' values, the token, the address the
server listens on and the one pages are built for, the Origin and Host checks, the class size."""

from __future__ import annotations

import errno
import hmac
import ipaddress
import math
import os
import re
import secrets
import socket
from argparse import ArgumentTypeError
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

TOKEN_VARIABLE = "LRTUI_SERVE_TOKEN"
DEFAULT_MAX_SESSIONS = 30
DEFAULT_IDLE_TIMEOUT = 1800.0
DEFAULT_SPARES = 10
MOST_SESSIONS = 1000
HEARTBEAT_SECONDS = 15.0
HEARTBEAT_VARIABLE = "LRTUI_SERVE_HEARTBEAT"  # another ping interval, for tests and benchmarks only
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


def data_folder(text: str) -> str:
    """The real path of the folder learners may load files from."""
    real = os.path.realpath(text)
    if not os.path.isdir(real):
        raise ArgumentTypeError(
            f"{text!r} is not a folder" if os.path.exists(real) else f"no folder {text!r}"
        )
    if not os.access(real, os.R_OK | os.X_OK):
        raise ArgumentTypeError(f"the folder {text!r} cannot be read")
    return real


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


def heartbeat(environment: dict[str, str] | os._Environ[str]) -> float:
    """Seconds between the server's pings: HEARTBEAT_SECONDS, or LRTUI_SERVE_HEARTBEAT's."""
    given = environment.get(HEARTBEAT_VARIABLE)
    if given is None:
        return HEARTBEAT_SECONDS
    try:
        value = float(given)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise ServeError(HEARTBEAT_VARIABLE, f"must be a number of seconds above 0 (got {given!r})")
    return value


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
    heartbeat: float = HEARTBEAT_SECONDS  # how often the server pings a page (no flag; tests shorten it)
