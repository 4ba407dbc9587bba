"""`lrtui serve`: the door (token, origin, host), the classroom limits and the forked apps.

Everything listens on 127.0.0.1 only. Waits are bounded by deadlines far above what they take,
never asserted on: a loaded machine makes them slower, not wrong.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import WSMsgType, test_utils
from cli_support import invoke_main

from lrtui.serve import forkserver
from lrtui.serve.door import Classroom, Door, is_loopback, url_host
from lrtui.serve.learner import END_SECONDS, KeyBudget, Spares
from lrtui.serve.server import LrtuiServer, warnings

APP_ARGV = ["--data", "noisy", "--speed", "10"]
TOKEN = "a-token-for-the-tests-only"
DEADLINE = 120.0  # seconds; far above what any step takes, so a busy machine only waits longer
ANSI = re.compile(r"\x1b\[[0-9;?<>=$]*[ -/]*[@-~]|\x1b[=>]")
ROOT = Path(__file__).resolve().parents[2]

needs_fork_server = pytest.mark.skipif(
    not forkserver.available(), reason="the fork server needs Linux pidfds"
)


@pytest.fixture(scope="module")
def forks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[forkserver.ForkServer]:
    if not forkserver.available():
        pytest.skip("the fork server needs Linux pidfds")
    server = forkserver.ForkServer(APP_ARGV)
    with contextlib.chdir(tmp_path_factory.mktemp("apps")):  # where the apps would write files
        server.start()
    yield server
    server.stop()


@contextlib.asynccontextmanager
async def serving(
    forks: forkserver.ForkServer | None,
    door: Door | None = None,
    classroom: Classroom | None = None,
    app_argv: list[str] = APP_ARGV,
) -> AsyncIterator[tuple[LrtuiServer, test_utils.TestClient]]:
    server = LrtuiServer(
        app_argv, door or Door("127.0.0.1", 8000, TOKEN), classroom or Classroom(spares=0), forks
    )
    client = test_utils.TestClient(test_utils.TestServer(await server.make_app(), host="127.0.0.1"))
    await client.start_server()
    try:
        yield server, client
    finally:
        await server.close_sessions()
        await client.close()


class Learner:
    """A browser's side of one session: what its terminal has shown, as plain text."""

    def __init__(self, websocket) -> None:
        self.websocket = websocket
        self.screen = ""
        self.raw = b""

    async def wait_for(self, pattern: str) -> re.Match[str]:
        deadline = time.monotonic() + DEADLINE
        while not (found := re.search(pattern, self.screen)):
            await self.read(deadline)
        return found

    async def read(self, deadline: float) -> None:
        """One more message from the app."""
        message = await self.websocket.receive(timeout=deadline - time.monotonic())
        if message.type == WSMsgType.BINARY:
            self.raw += message.data
            self.screen += ANSI.sub("", message.data.decode("utf-8", "replace"))
        elif message.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING):
            raise AssertionError(f"closed ({message.extra}); saw {self.screen[-300:]!r}")

    async def press(self, keys: str) -> None:
        for key in keys:
            await self.websocket.send_json(["stdin", key])

    async def wait_closed(self) -> object:
        deadline = time.monotonic() + DEADLINE
        while True:
            message = await self.websocket.receive(timeout=deadline - time.monotonic())
            if message.type == WSMsgType.BINARY:
                self.screen += ANSI.sub("", message.data.decode("utf-8", "replace"))
            elif message.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING):
                return message.extra


def apps_of(forks: forkserver.ForkServer) -> set[int]:
    assert forks._process is not None
    pid = forks._process.pid
    return {int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}


async def until(condition, what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < deadline, f"still waiting for {what}"
        await asyncio.sleep(0.05)


# The door: token, origin, host.


async def test_the_page_needs_the_token_and_hands_it_to_its_websocket() -> None:
    async with serving(None) as (_server, client):
        for query in ("", "?token=", "?token=wrong"):
            refused = await client.get(f"/{query}")
            assert refused.status == 403 and "needs its token" in await refused.text()
        page = await client.get(f"/?token={TOKEN}")
        text = await page.text()
        assert page.status == 200 and "textual.js" in text
        assert "<title>lrtui</title>" in text  # a browser's tab says what it is
        assert f'data-session-websocket-url="ws://127.0.0.1:{client.port}/ws/{TOKEN}"' in text
        assert page.headers["Referrer-Policy"] == "no-referrer"


async def test_a_websocket_without_the_token_or_from_another_site_is_refused() -> None:
    """The hijack: a page on evil.example opening the app's websocket in the learner's browser."""
    async with serving(None) as (server, client):
        own = f"http://127.0.0.1:{client.port}"
        for path, origin in (
            (f"/ws/{TOKEN}", "http://evil.example"),
            (f"/ws/{TOKEN}", f"http://127.0.0.1:{client.port + 1}"),
            (f"/ws/{TOKEN}", f"https://127.0.0.1:{client.port}"),
            ("/ws/wrong", own),
            ("/ws", own),
        ):
            response = await client.get(
                path, headers={"Origin": origin, "Connection": "Upgrade", "Upgrade": "websocket"}
            )
            assert response.status in (403, 404), (path, origin)
        assert not server.sessions


async def test_a_page_from_another_site_or_for_another_host_name_is_refused() -> None:
    """DNS rebinding: evil.example resolving to 127.0.0.1 reaches the port with its own name."""
    async with serving(None) as (_server, client):
        rebound = await client.get(f"/?token={TOKEN}", headers={"Host": f"evil.example:{client.port}"})
        assert rebound.status == 403 and "does not answer" in await rebound.text()
        cross = await client.get(f"/?token={TOKEN}", headers={"Origin": "http://evil.example"})
        assert cross.status == 403 and "another site" in await cross.text()
        other_name = await client.get(f"/?token={TOKEN}", headers={"Host": f"localhost:{client.port}"})
        assert f"ws://localhost:{client.port}/ws/" in await other_name.text()


async def test_no_token_is_an_explicit_choice_and_the_origin_check_stays() -> None:
    async with serving(None, Door("127.0.0.1", 8000, None)) as (_server, client):
        page = await client.get("/")
        assert page.status == 200 and f'"ws://127.0.0.1:{client.port}/ws"' in await page.text()
        cross = await client.get(
            "/ws", headers={"Origin": "http://evil.example", "Connection": "Upgrade", "Upgrade": "websocket"}
        )
        assert cross.status == 403
    assert any("--no-token" in warning for warning in warnings(Door("127.0.0.1", 8000, None)))


def test_a_warning_when_listening_beyond_this_machine() -> None:
    assert warnings(Door("127.0.0.1", 8000, TOKEN)) == []
    assert warnings(Door("::1", 8000, TOKEN)) == []
    assert warnings(Door("localhost", 8000, TOKEN)) == []
    (everywhere,) = warnings(Door("0.0.0.0", 8000, TOKEN))
    assert "every address" in everywhere and "other machines" in everywhere
    (one_address,) = warnings(Door("192.0.2.7", 8000, TOKEN))
    assert "192.0.2.7" in one_address


# Addresses: public URL, every address, IPv6.


def test_links_bracket_ipv6_and_never_point_at_every_address() -> None:
    assert url_host("::1") == "[::1]" and url_host("127.0.0.1") == "127.0.0.1"
    assert Door("::1", 8001, TOKEN).link() == f"http://[::1]:8001/?token={TOKEN}"
    assert Door("127.0.0.1", 8001, None).link() == "http://127.0.0.1:8001/"
    assert "0.0.0.0" not in Door("0.0.0.0", 8001, TOKEN).link()
    assert Door("0.0.0.0", 8001, TOKEN, "https://lrtui.school.example").link() == (
        f"https://lrtui.school.example/?token={TOKEN}"
    )
    assert (
        is_loopback("::1") and is_loopback("[::1]") and is_loopback("127.0.0.2") and is_loopback("LOCALHOST")
    )
    assert not is_loopback("0.0.0.0") and not is_loopback("evil.example")


async def test_listening_on_every_address_the_page_uses_the_name_the_browser_used() -> None:
    async with serving(None, Door("0.0.0.0", 8000, TOKEN)) as (_server, client):
        page = await (await client.get(f"/?token={TOKEN}")).text()
        assert f"ws://127.0.0.1:{client.port}/ws/{TOKEN}" in page and "0.0.0.0" not in page
        named = await client.get(f"/?token={TOKEN}", headers={"Host": "teacher.example:8000"})
        assert "ws://teacher.example:8000/ws/" in await named.text()
        quoted = await client.get(f"/?token={TOKEN}", headers={"Host": 'teacher"><script>x</script>'})
        assert quoted.status == 403 and "<script>" not in await quoted.text()


async def test_an_ipv6_host_gives_bracketed_page_urls() -> None:
    async with serving(None, Door("::1", 8000, TOKEN)) as (_server, client):
        page = await client.get(f"/?token={TOKEN}", headers={"Host": "[::1]:8000"})
        text = await page.text()
        assert page.status == 200
        assert (
            f'"ws://[::1]:8000/ws/{TOKEN}"' in text
            and 'href="http://[::1]:8000/static/css/xterm.css"' in text
        )


async def test_behind_a_proxy_the_page_uses_the_public_url_and_only_its_origin() -> None:
    public = "https://lrtui.school.example"
    async with serving(None, Door("127.0.0.1", 8000, TOKEN, public)) as (_server, client):
        page = await (await client.get(f"/?token={TOKEN}", headers={"Host": "backend:8001"})).text()
        assert f'"wss://lrtui.school.example/ws/{TOKEN}"' in page
        upgrade = {"Connection": "Upgrade", "Upgrade": "websocket"}
        local = await client.get(
            f"/ws/{TOKEN}", headers={"Origin": f"http://127.0.0.1:{client.port}", **upgrade}
        )
        assert local.status == 403


# The apps: one per page, forked, gone when the page goes.


@needs_fork_server
async def test_each_learner_drives_an_app_of_their_own(forks: forkserver.ForkServer) -> None:
    """Three learners at once, each pressing n a different number of times."""
    async with serving(forks) as (server, client):
        origin = {"Origin": f"http://127.0.0.1:{client.port}"}
        learners = [
            Learner(await client.ws_connect(f"/ws/{TOKEN}?width=100&height=30", headers=origin))
            for _ in range(3)
        ]
        await asyncio.gather(*(learner.wait_for(r"epoch") for learner in learners))
        assert len(server.sessions) == 3

        async def steps(learner: Learner, count: int) -> None:
            await learner.press("n" * count)
            await learner.wait_for(rf"epoch {count - 1}/1000")

        await asyncio.gather(*(steps(learner, number + 2) for number, learner in enumerate(learners)))
        assert "noisy" in learners[0].screen  # the app got the server's flags
        for learner in learners:
            await learner.websocket.close()
        await until(lambda: not server.sessions, "the sessions to end")


@needs_fork_server
async def test_an_app_is_gone_soon_after_its_page_closes_even_if_it_will_not_quit(
    forks: forkserver.ForkServer,
) -> None:
    async with serving(forks) as (server, client):
        before = apps_of(forks)
        learner = Learner(await client.ws_connect(f"/ws/{TOKEN}"))
        await learner.wait_for("epoch")
        (app,) = apps_of(forks) - before
        os.kill(app, signal.SIGSTOP)  # deaf to the quit message
        await learner.websocket.close()
        await until(lambda: app not in apps_of(forks) and not server.sessions, "the stopped app to be killed")


@needs_fork_server
async def test_a_key_sequence_with_a_huge_number_leaves_the_served_app_taking_keys(
    forks: forkserver.ForkServer,
) -> None:
    """It raised OverflowError in Textual's key parser (guarded in lrtui/app/textual_internals.py):
    the app stopped taking keys."""
    async with serving(forks) as (server, client):
        learner = Learner(await client.ws_connect(f"/ws/{TOKEN}"))
        await learner.wait_for("epoch")
        await learner.websocket.send_json(["stdin", "\u001b[99999999999999999999~"])
        await learner.press("nn")
        await learner.wait_for("epoch 1/1000")
        await learner.websocket.close()
        await until(lambda: not server.sessions, "the session to end")


@needs_fork_server
async def test_an_app_that_quits_closes_its_page(forks: forkserver.ForkServer) -> None:
    async with serving(forks) as (server, client):
        learner = Learner(await client.ws_connect(f"/ws/{TOKEN}"))
        await learner.wait_for("epoch")
        await learner.press("q")
        await learner.wait_closed()
        await until(lambda: not server.sessions, "the session to end")


@needs_fork_server
async def test_a_full_class_says_so_on_the_page_and_in_the_terminal(forks: forkserver.ForkServer) -> None:
    async with serving(forks, classroom=Classroom(max_sessions=1, spares=0)) as (server, client):
        first = Learner(await client.ws_connect(f"/ws/{TOKEN}"))
        await first.wait_for("epoch")
        full = await client.get(f"/?token={TOKEN}")
        assert full.status == 503 and "The class is full" in await full.text()
        assert full.headers["Retry-After"]
        late = Learner(await client.ws_connect(f"/ws/{TOKEN}"))
        await late.wait_for("The class is full")
        assert late.websocket.close_code is None or late.websocket.close_code == 1013
        await late.wait_closed()
        assert late.websocket.close_code == 1013 and len(server.sessions) == 1
        await first.websocket.close()
        await until(lambda: not server.sessions, "the place to be free")
        assert (await client.get(f"/?token={TOKEN}")).status == 200


@needs_fork_server
async def test_an_idle_page_is_closed_and_its_app_ends_though_it_answers_pings(
    forks: forkserver.ForkServer,
) -> None:
    """Idleness is the learner's: keys keep a page open; pongs, which browsers send by
    themselves, do not (aiohttp's receive timeout started again on each pong, so a page that
    answered the 15 s pings never idled out)."""
    # 3 s idle: a busy machine's stall between two keys 0.2 s apart must not read as idleness
    classroom = Classroom(idle_timeout=3.0, spares=0, heartbeat=0.2)
    async with serving(forks, classroom=classroom) as (server, client):
        before = apps_of(forks)
        websocket = await client.ws_connect(f"/ws/{TOKEN}", autoping=False)
        learner = Learner(websocket)
        await learner.wait_for("epoch")
        typing = time.monotonic() + 2.0
        while time.monotonic() < typing:
            await learner.press("n")
            pressed = time.monotonic()
            await asyncio.sleep(0.2)
        assert len(server.sessions) == 1, "closed while the learner typed"
        pongs = 0
        while True:
            assert time.monotonic() - pressed < 10.0, f"still open after {pongs} pongs"
            message = await websocket.receive(timeout=10.0)
            if message.type == WSMsgType.PING:
                await websocket.pong(message.data)
                pongs += 1
            elif message.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING):
                break
        assert message.extra == "idle" and pongs >= 2 and time.monotonic() - pressed >= 3.0
        await until(lambda: not server.sessions and not apps_of(forks) - before, "the idle app to end")


class RecordingApp:
    """What the relay hands an app, in order."""

    def __init__(self) -> None:
        self.got: list[object] = []

    def takes(self, size: int) -> bool:
        return True

    async def send_bytes(self, data: bytes) -> None:
        self.got.append(data)

    async def set_terminal_size(self, width: int, height: int) -> None:
        self.got.append((width, height))

    async def focus(self) -> None:
        self.got.append("focus")

    async def blur(self) -> None:
        self.got.append("blur")


class ScriptedPage:
    """A websocket whose page sends the given texts, then closes."""

    def __init__(self, *texts: str) -> None:
        self.texts = list(texts)
        self.sent: list[object] = []

    async def receive(self, timeout: float | None = None) -> aiohttp.WSMessage:
        if not self.texts:
            return aiohttp.WSMessage(WSMsgType.CLOSE, 1000, "")
        return aiohttp.WSMessage(WSMsgType.TEXT, self.texts.pop(0), None)

    async def send_json(self, data: object) -> None:
        self.sent.append(data)


async def test_the_relay_hands_on_keys_sizes_and_the_pages_focus() -> None:
    """["focus"] and ["blur"] have no data; they were dropped as not what the page sends, so a
    served app stayed blurred (as Textual's web driver starts it) until a key or a click."""
    server = LrtuiServer(APP_ARGV, Door("127.0.0.1", 8000, TOKEN), Classroom(spares=0), None)
    page = ScriptedPage(
        '["focus"]', '["stdin", "n"]', '["resize", {"width": 120, "height": 40}]', '["ping", "7"]',
        '["blur"]', "not json", "[]", '{"stdin": 1}',
    )  # fmt: skip
    app = RecordingApp()
    await server._relay(page, app)  # type: ignore[arg-type]
    assert app.got == ["focus", b"n", (120, 40), "blur"] and page.sent == [["pong", "7"]]


FLOOD_BYTES = 3 << 20
FLOOD_MESSAGE = "n" * (64 << 10)


@needs_fork_server
async def test_a_flooded_page_frees_its_place_and_its_app_within_the_promised_time(
    forks: forkserver.ForkServer,
) -> None:
    """A page sent megabytes of keys and closed: its app lived on for 30-157 s, holding its place
    ("the class is full") and growing to 2 GB."""
    async with serving(forks, classroom=Classroom(max_sessions=1, spares=0)) as (server, client):
        before = apps_of(forks)
        learner = Learner(await client.ws_connect(f"/ws/{TOKEN}"))
        await learner.wait_for("epoch")
        (app,) = apps_of(forks) - before
        sent, started = 0, time.monotonic()
        while sent < FLOOD_BYTES and time.monotonic() - started < 5:
            await learner.websocket.send_str(json.dumps(["stdin", FLOOD_MESSAGE]))
            sent += len(FLOOD_MESSAGE)
        closing = time.monotonic()
        closed = asyncio.create_task(learner.websocket.close())  # as a browser closes a tab
        await until(lambda: not server.sessions and app not in apps_of(forks), "the flooded app to go")
        await closed
        took = time.monotonic() - closing
        assert took < END_SECONDS + 0.5, f"{took:.2f} s after the page closed"  # + polling, a busy machine
        assert (await client.get(f"/?token={TOKEN}")).status == 200  # the next learner gets the place


def test_a_pages_input_is_a_burst_then_a_steady_rate_and_the_rest_is_dropped() -> None:
    now = [0.0]
    budget = KeyBudget(rate=1000, burst=4000, clock=lambda: now[0])
    assert budget.allows(3000) and budget.allows(1000) and not budget.allows(1)
    now[0] = 0.5
    assert not budget.allows(501) and budget.allows(500) and not budget.allows(1)
    now[0] = 100.0  # a long pause refills the burst, never more
    assert budget.allows(4000) and not budget.allows(1)
    assert not budget.allows(5000)  # more than a burst: never
    assert budget.dropped == 1 + 501 + 1 + 1 + 5000


@needs_fork_server
async def test_a_spare_app_shows_at_once_and_then_at_the_pages_size(forks: forkserver.ForkServer) -> None:
    async with serving(forks, classroom=Classroom(spares=1)) as (server, client):
        await until(lambda: len(server.spares.ready) == 1, "a spare to be ready")
        (spare,) = server.spares.ready
        learner = Learner(await client.ws_connect(f"/ws/{TOKEN}?width=120&height=40"))
        await learner.wait_for("epoch")
        assert server.spares.ready == [] or spare not in server.spares.ready
        await learner.wait_for(r"noisy")
        deadline = time.monotonic() + DEADLINE
        while b"\x1b[40;" not in learner.raw:  # drawn again, down to the page's 40th row
            await learner.read(deadline)
        await learner.press("nnn")
        await learner.wait_for(r"epoch 2/1000")
        await until(lambda: len(server.spares.ready) == 1, "the next spare")
        await learner.websocket.close()
        await until(lambda: not server.sessions, "the session to end")


@needs_fork_server
async def test_a_fork_server_that_died_is_started_again(forks: forkserver.ForkServer) -> None:
    async with serving(forks) as (_server, client):
        assert forks.pid is not None
        os.kill(forks.pid, signal.SIGKILL)
        learner = Learner(await client.ws_connect(f"/ws/{TOKEN}"))
        await learner.wait_for("epoch")
        await learner.websocket.close()


class FakeApp:
    """Starts, draws and ends at once: enough for the spares' bookkeeping."""

    made = 0
    draws = True

    def __init__(self) -> None:
        FakeApp.made += 1
        self.drawn = asyncio.Event()
        self.alive = False
        self.held_bytes = 0

    async def start(self, width: int, height: int) -> None:
        self.alive = True
        if FakeApp.draws:
            self.drawn.set()

    async def end(self) -> None:
        self.alive = False


async def test_spares_never_take_a_place_a_learner_could_have() -> None:
    FakeApp.made, FakeApp.draws = 0, True
    places = [2]
    spares = Spares(5, FakeApp, lambda: places[0])
    spares.start()
    await until(lambda: len(spares.ready) == 2, "two spares")
    for _ in range(50):
        await asyncio.sleep(0)
    assert FakeApp.made == 2  # five wanted, but only two places
    taken = spares.take()
    places[0] = 1  # the learner who took it holds a place
    spares.changed()
    for _ in range(50):
        await asyncio.sleep(0)
    assert taken is not None and len(spares.ready) == 1 and FakeApp.made == 2
    places[0] = 3
    spares.changed()
    await until(lambda: len(spares.ready) == 3, "a third spare")
    await spares.close()
    assert FakeApp.made == 4 and not spares.ready


async def test_without_a_fork_server_each_learner_gets_python_m_lrtui() -> None:
    """Where there are no pidfds (not Linux), the app starts as its own process."""
    async with serving(None) as (server, client):
        learner = Learner(await client.ws_connect(f"/ws/{TOKEN}"))
        await learner.wait_for("epoch")
        await learner.websocket.close()
        await until(lambda: not server.sessions, "the session to end")


async def test_a_served_apps_saves_are_offered_to_the_browser_as_downloads(tmp_path: Path) -> None:
    """Through textual-serve: the page is told of a download, and /download/KEY gives the file."""
    argv = [*APP_ARGV, "--served", "--data-dir", str(tmp_path)]
    async with serving(None, app_argv=argv) as (server, client):
        websocket = await client.ws_connect(f"/ws/{TOKEN}?width=100&height=30")
        learner = Learner(websocket)
        await learner.wait_for("epoch")
        await learner.press("nnn")
        await learner.wait_for("epoch 2/1000")
        await learner.press("S")
        picture = await downloaded(client, await offered(websocket))
        assert picture[0] == "attachment; filename=lrtui-epoch-2.svg" and picture[1].startswith("<svg")
        await learner.press("\x13")  # ctrl+s
        await learner.wait_for("Download the session")
        await learner.press("\r")
        disposition, text = await downloaded(client, await offered(websocket))
        assert disposition == "attachment; filename=lrtui-session.json"
        session = json.loads(text)
        assert session["format"] == "lrtui-session" and session["epoch"] == 3
        await websocket.close()
        await until(lambda: not server.sessions, "the session to end")
    assert sorted(path.name for path in Path.cwd().iterdir()) == []  # nothing written by the server


async def offered(websocket) -> str:
    """The key of the next download the app offers the page."""
    deadline = time.monotonic() + DEADLINE
    while True:
        message = await websocket.receive(timeout=deadline - time.monotonic())
        assert message.type in (WSMsgType.BINARY, WSMsgType.TEXT), message
        if message.type == WSMsgType.TEXT and (sent := json.loads(message.data))[0] == "deliver_file_start":
            return sent[1]


async def downloaded(client: test_utils.TestClient, key: str) -> tuple[str, str]:
    """What the page's download link gives: the Content-Disposition and the text."""
    async with client.get(f"/download/{key}") as response:
        assert response.status == 200
        return response.headers["Content-Disposition"], await response.text()


# The command.


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def lrtui_serve(*argv: str, **environ: str) -> subprocess.Popen[str]:
    environment = dict(os.environ, PYTHONPATH=str(ROOT), COLUMNS="40", **environ)
    return subprocess.Popen(
        [sys.executable, "-m", "lrtui", "serve", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
    )


def started(server: subprocess.Popen[str]) -> list[str]:
    """What the server printed up to its link."""
    lines: list[str] = []
    deadline = time.monotonic() + DEADLINE
    while not (lines and "open http" in lines[-1]):
        assert server.poll() is None and time.monotonic() < deadline, lines
        lines.append(server.stdout.readline())
    return lines


def children(pid: int) -> list[int]:
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def gone(pid: int) -> bool:
    """Ended: no such process, or only its exit status left for a parent to collect."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


@needs_fork_server
async def test_when_the_server_is_killed_its_apps_go_too() -> None:
    port = free_port()
    server = lrtui_serve("--port", str(port), "--spares", "0", "--no-token")
    try:
        started(server)
        (fork_server,) = children(server.pid)
        async with aiohttp.ClientSession() as session:
            websocket = await session.ws_connect(
                f"ws://127.0.0.1:{port}/ws", headers={"Origin": f"http://127.0.0.1:{port}"}
            )
            await Learner(websocket).wait_for("epoch")
            (app,) = children(fork_server)
            server.kill()
            await until(lambda: gone(fork_server), "the fork server to go")
            await until(lambda: gone(app), "the app to go")
    finally:
        server.kill()
        server.communicate()


def test_serve_prints_one_unwrapped_link_serves_the_page_and_stops() -> None:
    """The served command is printed whole, whatever the checkout's path or the terminal's width;
    a shared token goes in the link, and not to the apps."""
    port = free_port()
    flags = ["--port", str(port), "--data", "noisy", "--max-sessions", "4", "--idle-timeout", "60"]
    server = lrtui_serve(*flags, "--spares", "1", LRTUI_SERVE_TOKEN=TOKEN)
    try:
        lines = started(server)
        link = re.search(r"open (\S+) in a browser", lines[-1]).group(1)
        assert link == f"http://127.0.0.1:{port}/?token={TOKEN}"
        (fork_server,) = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
        assert b"LRTUI_SERVE_TOKEN" not in Path(f"/proc/{fork_server}/environ").read_bytes()
        with urllib.request.urlopen(link, timeout=30) as page:
            assert page.status == 200 and "textual.js" in page.read().decode()
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30)
        assert refused.value.code == 403
    finally:
        server.send_signal(signal.SIGINT)
        try:
            output, errors = server.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            output, errors = server.communicate()
    assert server.returncode == 0 and "Traceback" not in output + errors
    assert "lrtui serve: each learner gets: lrtui --data noisy --speed 10 --served\n" in "".join(lines)
    assert (
        "lrtui serve: up to 4 learners at once, 1 app started ahead; a page without a key for 60 s closes.\n"
        in lines
    )


def test_a_port_in_use_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, _out, errors = invoke_main(capsys, "serve", "--port", str(port))
    assert code == 2 and errors == (
        f"lrtui serve: error: argument --port: 127.0.0.1:{port} is in use by another program"
        " (see lrtui serve --help)\n"
    )


@pytest.mark.parametrize(
    ("argv", "flag"),
    [
        (["--port", "0"], "--port"),
        (["--port", "http"], "--port"),
        (["--lr", "-1"], "--lr"),
        (["--max-sessions", "0"], "--max-sessions"),
        (["--idle-timeout", "-5"], "--idle-timeout"),
        (["--public-url", "lrtui.school.example"], "--public-url"),
        (["--public-url", "https://school.example/lrtui"], "--public-url"),
        (["--public-url", 'https://school.example"><script>'], "--public-url"),
    ],
)
def test_serve_refuses_bad_flags(capsys: pytest.CaptureFixture[str], argv: list[str], flag: str) -> None:
    code, _out, errors = invoke_main(capsys, "serve", "--port", str(free_port()), *argv)
    assert code == 2 and f"argument {flag}:" in errors and len(errors.splitlines()) == 1


def test_the_ping_interval_is_15_s_unless_a_test_or_benchmark_says_otherwise() -> None:
    from lrtui.serve.door import HEARTBEAT_SECONDS, ServeError, heartbeat

    assert heartbeat({}) == HEARTBEAT_SECONDS == 15.0 and heartbeat({"LRTUI_SERVE_HEARTBEAT": "0.2"}) == 0.2
    for bad in ("0", "-1", "nan", "inf", "soon"):
        with pytest.raises(ServeError, match="LRTUI_SERVE_HEARTBEAT: must be a number of seconds above 0"):
            heartbeat({"LRTUI_SERVE_HEARTBEAT": bad})


def test_a_bad_shared_token_is_refused(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LRTUI_SERVE_TOKEN", "short")
    code, _out, errors = invoke_main(capsys, "serve", "--port", str(free_port()))
    assert code == 2 and "error: LRTUI_SERVE_TOKEN: a token needs at least 16 characters" in errors


async def test_a_learner_takes_a_spare_that_is_still_drawing() -> None:
    FakeApp.made, FakeApp.draws = 0, False
    spares = Spares(1, FakeApp, lambda: 5)
    spares.start()
    await until(lambda: spares.starting is not None and spares.starting.alive, "a spare to start")
    drawing = spares.starting
    assert spares.take() is drawing and spares.starting is None
    drawing.drawn.set()  # what LearnerApp.show_on does
    FakeApp.draws = True
    await until(lambda: len(spares.ready) == 1, "the next spare")
    assert FakeApp.made == 2 and drawing not in spares.ready
    await spares.close()


def test_the_load_benchmark_runs_a_small_class() -> None:
    """benchmarks/serve_load.py with two learners: each sees its own run and its app goes; a
    flooding page's app goes, and an idle page answering pings is closed as idle."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "serve_load.py")]
        + ["--learners", "2", "--burst", "2", "--spares", "1", "--timeout", "240"]
        + ["--quiet-seconds", "0.3", "--idle-seconds", "0.5"]  # the figures are not checked here
        + ["--idle-timeout", "1", "--heartbeat", "0.2"],
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    assert result.returncode == 0, result.stderr
    assert "learners who saw their own run: 2/2\n" in result.stdout
    assert re.search(r"apps gone after their pages closed: 2/2, ", result.stdout)
    assert re.search(r"flooding page: 3\.0 MB of keys sent .*; its app gone \d+\.\d+ s after", result.stdout)
    idle = re.search(r"idle page answering pings: closed as idle .*, (\d+) pings answered", result.stdout)
    assert idle and int(idle.group(1)) >= 2, result.stdout
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("value", "expected"),
    [("12", 12), (12, 12), (12.7, 12), (10**9, 500), (0, 1), (float("inf"), 80), (float("nan"), 80),
     (None, 80), (True, 80), ("x", 80), ([1], 80)],
)  # fmt: skip
def test_a_size_from_a_browser_is_a_bounded_whole_number_or_the_default(value: object, expected: int) -> None:
    """A browser's query or resize message may hold anything JSON holds, Infinity included
    (int() of it raised OverflowError, which nothing caught)."""
    from lrtui.serve.server import _whole

    assert _whole(value, 80, 1, 500) == expected


async def test_a_served_app_shows_the_autograd_graph(forks: forkserver.ForkServer) -> None:
    """g, the phases and the second backward in a browser's terminal (issue 31)."""
    async with serving(forks) as (server, client):
        origin = {"Origin": f"http://127.0.0.1:{client.port}"}
        learner = Learner(await client.ws_connect(f"/ws/{TOKEN}?width=120&height=40", headers=origin))
        await learner.wait_for(r"epoch")
        await learner.press("ng")
        await learner.wait_for(r"MulBackward0")
        await learner.press("ppp")
        await learner.wait_for(r"cost\.backward\(\) ran every node")
        await learner.press("2")
        await learner.wait_for(r"Trying to backward through")
        await learner.websocket.close()
        await until(lambda: not server.sessions, "the session to end")
