"""The app at full speed, headless at 120x40: epochs per second, frames per second, key latency."""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass

import torch
from textual import events
from textual.drivers.headless_driver import HeadlessDriver

from lrtui.engine import Settings
from lrtui.engine.data import from_tensors
from lrtui.engine.race import Race

from .timing import Comparison, bare_loop, best_rate


class FrameCountingDriver(HeadlessDriver):
    """A headless driver that says it is not headless, so the app turns every frame into
    terminal output as it would for a real terminal (a headless app skips that work), and
    counts the frames. The output itself goes nowhere.

    This is Textual's public driver API (``App.driver_class``); it replaces patching the
    private ``App._display`` and importing ``textual._compositor``. The app flushes the
    driver once after writing each frame.
    """

    frames = 0

    @property
    def is_headless(self) -> bool:
        return False

    def flush(self) -> None:
        FrameCountingDriver.frames += 1


@dataclass
class AppRun:
    epochs_per_second: float
    frames_per_second: float
    key_latencies: list[float]


async def app_at_full_speed(
    seconds: float, key_presses: int, race: tuple[str, ...] = (), settings: Settings | None = None
) -> AppRun:
    """Run the app at 120x40 at full speed; count epochs (optimizer steps, with mini-batches),
    frames and key latency. ``race``: changes for contenders racing the run, as typed after the
    a key; ``settings``: the run's own (the lessons' first, for a billion epochs, by default)."""
    from lrtui.app import LrtuiApp
    from lrtui.engine.race import contender_settings
    from lrtui.pacing import FULL_SPEED

    settings = settings or Settings(epochs=10**9)
    app = LrtuiApp(
        Race.of(settings, [contender_settings(settings, changes) for changes in race]), speed=FULL_SPEED
    )
    leader = app.leader
    app.driver_class = FrameCountingDriver
    latencies: list[float] = []
    async with app.run_test(size=(120, 40), headless=False) as pilot:
        await pilot.press("space")
        start, first_epoch, first_frame = time.perf_counter(), leader.steps, FrameCountingDriver.frames
        await asyncio.sleep(seconds)
        elapsed = time.perf_counter() - start
        epochs, shown = leader.steps - first_epoch, FrameCountingDriver.frames - first_frame
        for _ in range(key_presses):
            zero_grad = leader.settings.zero_grad
            sent = time.perf_counter()
            app.post_message(events.Key("z", "z"))
            while leader.settings.zero_grad == zero_grad:
                await asyncio.sleep(0.001)
            latencies.append(time.perf_counter() - sent)
            await asyncio.sleep(0.05)
        await pilot.press("space")
    return AppRun(epochs / elapsed, shown / elapsed, latencies)


def app_benchmarks() -> list[str]:
    run = asyncio.run(app_at_full_speed(seconds=4.0, key_presses=10))
    dataset = from_tensors("line", torch.tensor([1.0, 2.0, 3.0]), torch.tensor([1.0, 2.0, 3.0]))
    bare = best_rate({"bare": bare_loop(dataset.x_train, dataset.y_train, 0.01)}, 2000, 5)["bare"]
    comparison = Comparison("app run mode, full speed, 3 points", run.epochs_per_second, bare, "<= 2x")
    race = asyncio.run(app_at_full_speed(4.0, 10, ("optimizer=adam lr=0.1", "momentum=0.9", "zero-grad=off")))
    return [
        comparison.report(),
        _screen_line("app redraws at full speed", run),
        f"{'app race of 4, full speed':<38} {race.epochs_per_second:9,.0f} epochs/s for each contender"
        f" ({4 * race.epochs_per_second:,.0f} in all; the bare loop runs {bare:,.0f} for one)",
        _screen_line("race of 4 redraws", race),
    ]


def _screen_line(name: str, run: AppRun) -> str:
    return (
        f"{name:<38} {run.frames_per_second:5.1f} frames/s (target >= 15);"
        f" key press handled within {max(run.key_latencies) * 1000:.0f} ms at worst,"
        f" {statistics.median(run.key_latencies) * 1000:.0f} ms median (target <= 100 ms)"
    )
