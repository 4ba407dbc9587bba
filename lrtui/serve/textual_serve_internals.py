"""Every use of textual-serve's private API, in one place.

Written for textual-serve 1.1.3 (pyproject.toml allows only 1.1.x). What lrtui relies on that
textual-serve does not promise:

- ``AppService``: ``_open_app_process`` is overridden so an app can be a forked process (not a
  shell command); it must set ``_process`` and ``_stdin``, which ``run()`` and ``send_*`` read;
  ``_task`` is the task reading the app's output; ``_download_manager`` cancels its downloads.
- ``Server``: its handlers (``handle_index``, ``handle_websocket``) are replaced, and the page is
  its template ``app_index.html`` rendered with the context keys its ``handle_index`` builds
  (``font_size``, ``app_websocket_url``, ``config.static.url``, ``application.name``), from its
  ``templates_path`` and ``statics_path``; the template has a ``<head>`` and no ``<title>``.

- what AppService puts in an app's environment (``_build_environment``), which the fork server
  sets once: ``forkserver.SERVED_ENVIRONMENT`` (kept there, so that the fork server, which
  every app is forked from, does not import aiohttp and textual-serve).

When textual-serve changes, this module (and the bound) is what to check.
"""

from __future__ import annotations

import asyncio
import html
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import aiohttp_jinja2
import jinja2
from aiohttp import web
from textual_serve.app_service import AppService
from textual_serve.download_manager import DownloadManager
from textual_serve.server import Server

TEXTUAL_SERVE_VERSION = "1.1.3"
PAGE_TEMPLATE = "app_index.html"


class AppProcess(Protocol):
    """What textual-serve's AppService reads of a process: its three pipes, and how to end it."""

    stdin: asyncio.StreamWriter
    stdout: asyncio.StreamReader
    stderr: asyncio.StreamReader

    def kill(self) -> None: ...
    async def wait(self) -> object: ...
    def close(self) -> None: ...


class ServedApp(AppService):
    """textual-serve's AppService on a process that ``open_process`` gives (any AppProcess)."""

    def __init__(
        self,
        write_bytes: Callable[[bytes], Awaitable[None]],
        write_str: Callable[[str], Awaitable[None]],
        close: Callable[[], Awaitable[None]],
        download_manager: DownloadManager,
    ) -> None:
        super().__init__(
            "lrtui",
            write_bytes=write_bytes,
            write_str=write_str,
            close=close,
            download_manager=download_manager,
        )

    async def open_process(self, width: int, height: int) -> AppProcess:
        raise NotImplementedError

    async def _open_app_process(  # type: ignore[override]  # our process, with the same interface
        self, width: int = 80, height: int = 24
    ) -> AppProcess:
        process = await self.open_process(width, height)
        # textual-serve types _process as asyncio.subprocess.Process; ours has the parts it uses
        self._process = process  # type: ignore[assignment]
        self._stdin = process.stdin
        return process

    @property
    def reading(self) -> asyncio.Task[None] | None:
        """The task reading the app's output (textual-serve's ``run``), until the app ends."""
        return self._task

    def forget_reading(self) -> None:
        self._task = None

    async def cancel_downloads(self) -> None:
        await self._download_manager.cancel_app_downloads(app_service_id=self.app_service_id)


def page_application(
    server: Server,
    index: Callable[[web.Request], Awaitable[web.StreamResponse]],
    websocket: Callable[[web.Request], Awaitable[web.StreamResponse]],
    websocket_path: str,
) -> web.Application:
    """textual-serve's web application with lrtui's handlers: the page, its websocket, the
    downloads and the static files (without textual-serve's folder listing)."""
    app = web.Application()
    aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(server.templates_path))
    app.add_routes(
        [
            web.get("/", index, name="index"),
            web.get(websocket_path, websocket, name="websocket"),
            web.get("/download/{key}", server.handle_download, name="download"),
            web.static("/static", server.statics_path, name="static"),
        ]
    )
    return app


def page_context(font_size: int, websocket_url: str, site: str, title: str) -> dict[str, Any]:
    """What textual-serve's page template reads."""
    return {
        "font_size": font_size,
        "app_websocket_url": websocket_url,
        "config": {"static": {"url": f"{site}/static/"}},
        "application": {"name": title},
    }


def render_page(request: web.Request, context: dict[str, Any], title: str) -> web.Response:
    """textual-serve's page, with the ``<title>`` its template lacks (a browser's tab and window
    list showed nothing)."""
    response = aiohttp_jinja2.render_template(PAGE_TEMPLATE, request, context)
    assert response.text is not None
    response.text = response.text.replace("<head>", f"<head>\n    <title>{html.escape(title)}</title>", 1)
    return response
