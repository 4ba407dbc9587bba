"""Load test for ``lrtui serve``: a classroom of websocket learners on 127.0.0.1.

Starts ``python -m lrtui serve`` on a free loopback port, then connects LEARNERS browsers'
worth of websockets in waves of BURST at once. Each learner waits for its first frame, presses
``n`` its own number of times and checks that its screen shows its own epoch (a shared app would
show everyone's steps). With everyone connected it measures the memory of every app (PSS and
USS from /proc/PID/smaps_rollup) and the CPU the idle class uses; then every page closes at once
and it times how long each app's process takes to go.

Then, on a second server with a short idle timeout and ping interval, two pages that misbehave
at once: one floods its app with megabytes of keys and closes (its app must be gone, and its
place free, within 2 s), and one stays open doing nothing but answering the server's pings
(it must be closed once the idle timeout has passed, over several ping intervals).

    python benchmarks/serve_load.py [--learners 30] [--burst 10] [--timeout 600]

Targets (issue 15, on the 2-core machine): 30 learners; marginal memory <= 120 MB each (PSS);
every first frame <= 3 s while 10 connect at once; apps gone <= 5 s after their page closes.
Issue 27: a flooded app gone <= 2 s after its page closes; an idle page closed at its timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
ANSI = re.compile(r"\x1b\[[0-9;?<>=$]*[ -/]*[@-~]|\x1b[=>]")
MB = 1024 * 1024
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Learner:
    number: int
    presses: int
    websocket: aiohttp.ClientWebSocketResponse | None = None
    screen: str = ""
    first_frame: float | None = None
    own_run: bool = False
    error: str | None = None
    sessions: list[aiohttp.ClientSession] = field(default_factory=list)

    async def read_until(self, pattern: str, deadline: float) -> bool:
        assert self.websocket is not None
        while not re.search(pattern, self.screen):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            try:
                message = await self.websocket.receive(timeout=remaining)
            except TimeoutError:
                return False
            if message.type == aiohttp.WSMsgType.BINARY:
                self.screen += ANSI.sub("", message.data.decode("utf-8", "replace"))
            elif message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                self.error = f"closed: {message.extra}"
                return False
        return True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def children(pid: int) -> list[int]:
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def memory(pid: int) -> tuple[int, int]:
    """(PSS, USS) in bytes."""
    fields: dict[str, int] = {}
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            name, _, rest = line.partition(":")
            if rest.strip().endswith("kB"):
                fields[name] = int(rest.split()[0]) * 1024
    except OSError:
        return 0, 0
    return fields.get("Pss", 0), fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)


def cpu_seconds(pid: int) -> float:
    try:
        parts = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(parts[11]) + int(parts[12])) / TICKS


def start_server(
    port: int,
    learners: int,
    spares: int,
    deadline: float,
    idle_timeout: float = 600,
    heartbeat: float | None = None,
) -> tuple[subprocess.Popen[str], str]:
    environment = dict(
        os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    )
    if heartbeat is not None:
        environment["LRTUI_SERVE_HEARTBEAT"] = str(heartbeat)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lrtui",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--data",
            "noisy",
        ]
        + ["--max-sessions", str(learners), "--spares", str(spares), "--idle-timeout", str(idle_timeout)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=environment,
    )
    assert server.stdout is not None
    while time.monotonic() < deadline:
        line = server.stdout.readline()
        if not line:
            break
        if found := re.search(r"open (http://127\.0\.0\.1:\d+/\S*) in a browser", line):
            return server, found.group(1)
    server.kill()
    raise SystemExit("serve_load: the server did not start")


async def connect(learner: Learner, url: str, origin: str, deadline: float) -> None:
    started = time.monotonic()
    session = aiohttp.ClientSession()
    learner.sessions.append(session)
    try:
        learner.websocket = await session.ws_connect(url, headers={"Origin": origin})
        await learner.websocket.send_json(["resize", {"width": 100, "height": 30}])
        if await learner.read_until(r"epoch", deadline):
            learner.first_frame = time.monotonic() - started
        else:
            learner.error = learner.error or "no first frame"
    except (aiohttp.ClientError, OSError) as error:
        learner.error = f"{type(error).__name__}: {error}"


async def drive(learner: Learner, deadline: float) -> None:
    if learner.websocket is None or learner.first_frame is None:
        return
    for _ in range(learner.presses):
        await learner.websocket.send_json(["stdin", "n"])
    learner.own_run = await learner.read_until(rf"epoch {learner.presses - 1}/1000", deadline)


async def drain(learners: list[Learner]) -> None:
    """Keep reading, as a browser does, so no app blocks on a full pipe."""

    async def read(learner: Learner) -> None:
        assert learner.websocket is not None
        async for _message in learner.websocket:
            pass

    await asyncio.gather(*(read(learner) for learner in learners if learner.websocket is not None))


def describe(values: list[float], unit: str) -> str:
    if not values:
        return "none"
    return f"median {statistics.median(values):.2f} {unit}, max {max(values):.2f} {unit}"


async def load_test(
    url: str,
    server_pid: int,
    count: int,
    burst: int,
    spares: int,
    deadline: float,
    quiet_seconds: float = 1.0,
    idle_seconds: float = 3.0,
) -> None:
    websocket_url, base = websocket_url_of(url)
    forks = children(server_pid)
    if len(forks) != 1:
        raise SystemExit(f"serve_load: expected one fork server under the server, found {forks}")
    fork_server = forks[0]
    # The spares start as the server does: measure once they are up and quiet.
    expected = min(spares, count)
    while time.monotonic() < deadline:
        ready = children(fork_server)
        spent = sum(map(cpu_seconds, ready))
        await asyncio.sleep(quiet_seconds)
        if len(ready) == expected and sum(map(cpu_seconds, ready)) == spent:
            break
    spare_apps = len(children(fork_server))
    idle_total = sum(memory(pid)[0] for pid in (server_pid, fork_server, *children(fork_server)))
    load_before = os.getloadavg()[0]

    learners = [Learner(number, 2 + number % 7) for number in range(count)]
    waves = [learners[start : start + burst] for start in range(0, count, burst)]
    startup_cpu: list[float] = []
    for wave in waves:
        before = set(children(fork_server))
        await asyncio.gather(*(connect(learner, websocket_url, base, deadline) for learner in wave))
        startup_cpu += [cpu_seconds(pid) for pid in set(children(fork_server)) - before]
    await asyncio.gather(*(drive(learner, deadline) for learner in learners))
    readers = asyncio.create_task(drain(learners))

    apps = children(fork_server)
    app_memory = [memory(pid) for pid in apps]
    fork_server_pss = memory(fork_server)[0]
    total = memory(server_pid)[0] + fork_server_pss + sum(pss for pss, _uss in app_memory)
    every = [server_pid, fork_server, *apps]
    cpu_before, wall_before = sum(map(cpu_seconds, every)), time.monotonic()
    await asyncio.sleep(idle_seconds)
    idle_cpu = (sum(map(cpu_seconds, every)) - cpu_before) / (time.monotonic() - wall_before)

    closed_at = time.monotonic()
    await asyncio.gather(
        *(learner.websocket.close() for learner in learners if learner.websocket is not None)
    )
    gone: dict[int, float] = {}
    while len(gone) < count and time.monotonic() < deadline:  # the learners' apps; a spare may stay
        alive = set(children(fork_server))
        for pid in apps:
            if pid not in alive and pid not in gone:
                gone[pid] = time.monotonic() - closed_at
        await asyncio.sleep(0.02)
    readers.cancel()
    for learner in learners:
        for session in learner.sessions:
            await session.close()

    marginal = (total - idle_total) / max(len(apps) - spare_apps, 1)
    print(
        f"lrtui serve load test: {count} learners in waves of {burst}, {spare_apps} apps started ahead, "
        f"{os.cpu_count()} CPUs, load average before {load_before:.1f}"
    )
    for number, wave in enumerate(waves, 1):
        frames = [learner.first_frame for learner in wave if learner.first_frame is not None]
        print(f"first frame, wave {number} ({len(wave)} at once): {describe(frames, 's')}  (target <= 3 s)")
    print(
        f"CPU per app up to its first frame: {describe(startup_cpu, 's')}; "
        f"server {cpu_seconds(server_pid):.1f} s in all"
    )
    print(f"learners who saw their own run: {sum(learner.own_run for learner in learners)}/{count}")
    print(f"apps running with everyone connected: {len(apps)}")
    print(
        f"memory per app: PSS {describe([pss / MB for pss, _ in app_memory], 'MB')}, "
        f"USS {describe([uss / MB for _, uss in app_memory], 'MB')}"
    )
    print(
        f"marginal memory per learner (server + fork server + apps, PSS, against the idle server): "
        f"{marginal / MB:.1f} MB  (target <= 120 MB); fork server {fork_server_pss / MB:.0f} MB PSS"
    )
    print(f"CPU used by the idle class: {100 * idle_cpu:.0f}% of one core")
    print(
        f"apps gone after their pages closed: {len(gone)}/{count}, "
        f"{describe(list(gone.values()), 's')}  (target <= 5 s)"
    )
    for learner in learners:
        if learner.error or not learner.own_run:
            print(f"learner {learner.number}: {learner.error or 'did not see its own epoch'}")


def stop(server: subprocess.Popen[str]) -> None:
    server.send_signal(signal.SIGINT)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


FLOOD_BYTES = 3 * MB
FLOOD_MESSAGE = "n" * (64 << 10)


def websocket_url_of(url: str) -> tuple[str, str]:
    """The page's websocket address and its origin, from the link the server printed."""
    base = url.split("/?", 1)[0]
    token = url.split("token=", 1)[1] if "token=" in url else None
    return f"ws://{base.split('://', 1)[1]}/ws" + (
        f"/{token}" if token else ""
    ) + "?width=100&height=30", base


async def misbehaving_pages(
    url: str, server_pid: int, idle_timeout: float, heartbeat: float, deadline: float
) -> None:
    """A page flooding its app and an idle page that answers pings, at once, on a server of two
    places."""
    websocket_url, origin = websocket_url_of(url)
    (fork_server,) = children(server_pid)
    flooder, idler = Learner(0, 0), Learner(1, 0)
    flood: dict[str, float] = {}
    idle: dict[str, float] = {}

    before = set(children(fork_server))
    await connect(flooder, websocket_url, origin, deadline)
    if flooder.websocket is None or flooder.first_frame is None:
        raise SystemExit(f"serve_load: the flooding page got no app ({flooder.error})")
    (app,) = set(children(fork_server)) - before

    async def flooding() -> None:
        assert flooder.websocket is not None
        sent, started = 0, time.monotonic()
        while sent < FLOOD_BYTES and time.monotonic() - started < 5:
            await flooder.websocket.send_str(f'["stdin", "{FLOOD_MESSAGE}"]')
            sent += len(FLOOD_MESSAGE)
        flood["sent"], flood["sending"] = sent, time.monotonic() - started
        closed_at = time.monotonic()
        closing = asyncio.create_task(flooder.websocket.close())
        while app in children(fork_server) and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        flood["gone"] = time.monotonic() - closed_at
        await closing

    async def idling() -> None:
        session = aiohttp.ClientSession()
        idler.sessions.append(session)
        idler.websocket = websocket = await session.ws_connect(
            websocket_url, headers={"Origin": origin}, autoping=False
        )
        await websocket.send_json(["resize", {"width": 100, "height": 30}])
        last_input, pongs = time.monotonic(), 0
        while time.monotonic() < deadline:
            message = await websocket.receive(timeout=deadline - time.monotonic())
            if message.type == aiohttp.WSMsgType.PING:
                await websocket.pong(message.data)
                pongs += 1
            elif message.type in (
                aiohttp.WSMsgType.CLOSE,
                aiohttp.WSMsgType.CLOSED,
                aiohttp.WSMsgType.CLOSING,
            ):
                idle["closed"] = time.monotonic() - last_input
                idle["why"] = message.extra == "idle"
                break
        idle["pongs"] = pongs

    await asyncio.gather(flooding(), idling())
    for learner in (flooder, idler):
        for session in learner.sessions:
            await session.close()
    print(
        f"flooding page: {flood['sent'] / MB:.1f} MB of keys sent in {flood['sending']:.1f} s; "
        f"its app gone {flood['gone']:.2f} s after the page closed  (target <= 2 s)"
    )
    if "closed" in idle:
        print(
            f"idle page answering pings: closed {'as idle' if idle['why'] else 'for another reason'} "
            f"{idle['closed']:.2f} s after its last input, {idle['pongs']:.0f} pings answered "
            f"(idle timeout {idle_timeout:g} s, a ping every {heartbeat:g} s)"
        )
    else:
        print(f"idle page answering pings: still open at the deadline, {idle['pongs']:.0f} pings answered")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=30)
    parser.add_argument("--burst", type=int, default=10, help="learners connecting at once")
    parser.add_argument(
        "--spares", type=int, default=10, help="apps the server starts ahead (lrtui serve --spares)"
    )
    parser.add_argument("--timeout", type=float, default=600, help="give up after this many seconds")
    parser.add_argument(
        "--quiet-seconds",
        type=float,
        default=1.0,
        help="the spares count as started once they have used no CPU for this long",
    )
    parser.add_argument(
        "--idle-seconds", type=float, default=3.0, help="how long the idle class's CPU use is measured"
    )
    parser.add_argument(
        "--idle-timeout",
        type=float,
        default=2.0,
        help="the idle page's server closes a page after this many seconds without input",
    )
    parser.add_argument("--heartbeat", type=float, default=0.5, help="that server's ping interval")
    args = parser.parse_args()
    if not (1 <= args.learners <= 200 and 1 <= args.burst <= args.learners):
        parser.error("--learners must be 1..200 and --burst 1..learners")
    if not (args.quiet_seconds > 0 and args.idle_seconds > 0):
        parser.error("--quiet-seconds and --idle-seconds must be above 0")
    if not 0 < args.heartbeat < args.idle_timeout:
        parser.error("--heartbeat must be above 0 and below --idle-timeout")
    deadline = time.monotonic() + args.timeout
    server, url = start_server(free_port(), args.learners, args.spares, deadline)
    try:
        asyncio.run(
            load_test(
                url,
                server.pid,
                args.learners,
                args.burst,
                args.spares,
                deadline,
                args.quiet_seconds,
                args.idle_seconds,
            )
        )
    finally:
        stop(server)
    server, url = start_server(free_port(), 2, 0, deadline, args.idle_timeout, args.heartbeat)
    try:
        asyncio.run(misbehaving_pages(url, server.pid, args.idle_timeout, args.heartbeat, deadline))
    finally:
        stop(server)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
