"""Loading a big CSV, beside the bare csv.reader loop a lesson would write; and the app's keys
while it reads one (off the UI thread)."""

from __future__ import annotations

import asyncio
import csv
import os
import random
import statistics
import tempfile
import time
from typing import TYPE_CHECKING

import torch

from lrtui.engine import Settings
from lrtui.engine.data import load_csv
from lrtui.engine.race import Race

if TYPE_CHECKING:
    from lrtui.app.app import LrtuiApp


def _bare_read(path: str) -> None:
    with open(path, newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        points = [(float(x), float(y)) for x, y in reader]
    torch.tensor(points)


def data_benchmarks(rows: int = 1_000_000) -> list[str]:
    rng = random.Random(0)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "points.csv")
        with open(path, "w") as out:
            out.write("x,y\n")
            for _ in range(rows):
                x = rng.uniform(-5, 5)
                out.write(f"{x:.6f},{2.5 + 4 * x + rng.gauss(0, 0.5):.6f}\n")
        timings: dict[str, list[float]] = {"lrtui": [], "bare": []}
        for _ in range(3):
            for name, load in (("lrtui", load_csv), ("bare", _bare_read)):
                start = time.perf_counter()
                load(path)
                timings[name].append(time.perf_counter() - start)
        read_s, idle, during = asyncio.run(keys_while_reading(path))
    lrtui_s, bare_s = min(timings["lrtui"]), min(timings["bare"])
    return [
        f"{'load a CSV, ' + f'{rows:,} rows':<38} lrtui {lrtui_s:.2f} s; bare csv.reader + torch.tensor"
        f" {bare_s:.2f} s; ratio {lrtui_s / bare_s:.2f}x (target: well under a few seconds)",
        f"{'the app reading it, keys meanwhile':<38} n stepped {len(during)} times during the"
        f" {read_s:.1f} s read: median {statistics.median(during) * 1000:.0f} ms, worst"
        f" {max(during) * 1000:.0f} ms; before it {statistics.median(idle) * 1000:.0f} ms,"
        f" {max(idle) * 1000:.0f} ms (target: no freeze, keys <= 100 ms)",
    ]


async def keys_while_reading(path: str, epochs: int = 10**6) -> tuple[float, list[float], list[float]]:
    """The CSV typed into the data field of the headless app at 120x40: how long the read took
    and how soon n stepped an epoch, before the read and while it ran."""
    from lrtui.app.app import LrtuiApp

    app = LrtuiApp(Race.of(Settings(epochs=epochs)))
    async with app.run_test(size=(120, 40)):
        idle = [await _step_latency(app) for _ in range(20)]
        app.change_setting("data", path)
        start = time.perf_counter()
        during: list[float] = []
        while app.reading is not None:
            during.append(await _step_latency(app))
        read_s = time.perf_counter() - start
    return read_s, idle, during or [0.0]


async def _step_latency(app: LrtuiApp) -> float:
    """Seconds from the key n to the epoch it steps (Pilot's wait for an idle CPU would wait
    for the reading thread too)."""
    epoch = app.leader.epoch
    start = time.perf_counter()
    app.simulate_key("n")
    while app.leader.epoch == epoch:
        await asyncio.sleep(0.001)
    return time.perf_counter() - start
