"""The app at full speed, headless at 120x40: epochs per second, frames per second, key latency."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from textual import events
from textual.drivers.headless_driver import HeadlessDriver

from lrtui.engine import Settings
from lrtui.engine.data import from_tensors
from lrtui.engine.race import Race

from .timing import bare_loop


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
    # With a bare loop to compare: its rate in the windows around each of the app's, and the
    # app's rate over the bare loop's in each window (the app's over the mean of the two
    # bare windows around it).
    bare_rates: list[float] = field(default_factory=list)
    window_ratios: list[float] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        """The app's rate as a share of the bare loop's: the median over the windows."""
        return statistics.median(self.window_ratios)

    @property
    def bare_rate(self) -> float:
        return statistics.median(self.bare_rates)


async def app_at_full_speed(
    seconds: float,
    key_presses: int,
    race: tuple[str, ...] = (),
    settings: Settings | None = None,
    bare: Callable[[int], None] | None = None,
    bare_steps: int = 1000,
    windows: int = 8,
    keys: tuple[str, ...] = (),
) -> AppRun:
    """Run the app at 120x40 at full speed; count epochs (optimizer steps, with mini-batches),
    frames and key latency. ``race``: changes for contenders racing the run, as typed after the
    a key; ``settings``: the run's own (the lessons' first, for a billion epochs, by default);
    ``keys``: pressed before the run starts (``g``: the graph view in the chart's place).

    The run is cut into ``windows``, paused in between. With a ``bare`` loop, the loop runs
    ``bare_steps`` before each window and after the last, and each window is compared with
    the bare windows either side: this machine's speed swings by 2x from one second to the
    next, so only rates measured side by side compare."""
    from lrtui.app.app import LrtuiApp
    from lrtui.app.pacing import FULL_SPEED
    from lrtui.engine.race import contender_settings

    settings = settings or Settings(epochs=10**9)
    app = LrtuiApp(
        Race.of(settings, [contender_settings(settings, changes) for changes in race]), speed=FULL_SPEED
    )
    leader = app.leader
    app.driver_class = FrameCountingDriver
    latencies: list[float] = []
    steps, shown, elapsed = 0, 0, 0.0
    app_rates: list[float] = []
    bare_rates: list[float] = []

    def time_bare() -> None:
        if bare is not None:
            start = time.perf_counter()
            bare(bare_steps)
            bare_rates.append(bare_steps / (time.perf_counter() - start))

    async with app.run_test(size=(120, 40), headless=False) as pilot:
        if keys:
            await pilot.press(*keys)
        for _ in range(windows):
            time_bare()
            await pilot.press("space")
            start, first_epoch, first_frame = time.perf_counter(), leader.steps, FrameCountingDriver.frames
            await asyncio.sleep(seconds / windows)
            window = time.perf_counter() - start
            window_steps = leader.steps - first_epoch
            await pilot.press("space")
            steps, shown, elapsed = (
                steps + window_steps,
                shown + FrameCountingDriver.frames - first_frame,
                elapsed + window,
            )
            app_rates.append(window_steps / window)
        time_bare()
        await pilot.press("space")
        for _ in range(key_presses):
            zero_grad = leader.settings.zero_grad
            sent = time.perf_counter()
            app.post_message(events.Key("z", "z"))
            while leader.settings.zero_grad == zero_grad:
                await asyncio.sleep(0.001)
            latencies.append(time.perf_counter() - sent)
            await asyncio.sleep(0.05)
        await pilot.press("space")
    ratios = [
        rate / ((before + after) / 2)
        for rate, before, after in zip(app_rates, bare_rates, bare_rates[1:], strict=False)
    ]
    return AppRun(steps / elapsed, shown / elapsed, latencies, bare_rates, ratios)


def app_benchmarks() -> list[str]:
    dataset = from_tensors("line", torch.tensor([1.0, 2.0, 3.0]), torch.tensor([1.0, 2.0, 3.0]))
    bare_run = bare_loop(dataset.x_train, dataset.y_train, 0.01)
    run = asyncio.run(app_at_full_speed(seconds=4.0, key_presses=10, bare=bare_run, bare_steps=2000))
    race = asyncio.run(app_at_full_speed(4.0, 10, ("optimizer=adam lr=0.1", "momentum=0.9", "zero-grad=off")))
    graph = asyncio.run(app_at_full_speed(4.0, 10, bare=bare_run, bare_steps=2000, keys=("g",)))
    return [
        side_by_side(
            "app run mode, full speed, 3 points", run, "epochs", "per-epoch ratio", 1 / run.ratio, "<= 2x"
        ),
        _screen_line("app redraws at full speed", run),
        f"{'app race of 4, full speed':<38} {race.epochs_per_second:9,.0f} epochs/s for each contender"
        f" ({4 * race.epochs_per_second:,.0f} in all; the bare loop runs {run.bare_rate:,.0f} for one)",
        _screen_line("race of 4 redraws", race),
        side_by_side(
            "app, graph view (g), full speed", graph, "epochs", "per-epoch ratio", 1 / graph.ratio, "<= 2x"
        ),
        _screen_line("graph view redraws", graph),
    ]


def side_by_side(title: str, run: AppRun, unit: str, name: str, ratio: float, target: str) -> str:
    """The app's rate beside the bare loop's, and the median over the windows of their ratio."""
    return (
        f"{title:<38} lrtui {run.epochs_per_second:>9,.0f} {unit}/s   bare {run.bare_rate:>9,.0f} {unit}/s"
        f"   {name} {ratio:5.3f}x, median of {len(run.window_ratios)} windows side by side"
        f" (they range {min(run.window_ratios):.2f}-{max(run.window_ratios):.2f}x; target {target})"
    )


def _screen_line(name: str, run: AppRun) -> str:
    return (
        f"{name:<38} {run.frames_per_second:5.1f} frames/s (target >= 15);"
        f" key press handled within {max(run.key_latencies) * 1000:.0f} ms at worst,"
        f" {statistics.median(run.key_latencies) * 1000:.0f} ms median (target <= 100 ms)"
    )
