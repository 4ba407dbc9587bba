"""Benchmarks: lrtui against the bare lesson loop, side by side in one process.

    python -m lrtui.bench            # every benchmark (the memory group takes minutes)
    python -m lrtui.bench engine     # one group: engine, app, charts, data or memory

Each comparison alternates rounds of the two contenders and keeps each one's best
round, so a busy moment on the machine hurts both alike.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch

from .engine import Settings, Simulation
from .engine.data import from_tensors


def bare_loop(x_train: torch.Tensor, y_train: torch.Tensor, learning_rate: float) -> Callable[[int], None]:
    """The lessons' loop, exactly as written there (printing aside)."""
    W = torch.zeros(1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([W, b], lr=learning_rate)

    def run(epochs: int) -> None:
        for _epoch in range(epochs):
            hypothesis = x_train * W + b
            cost = torch.mean((hypothesis - y_train) ** 2)
            optimizer.zero_grad()
            cost.backward()
            optimizer.step()

    return run


def engine_loop(simulation: Simulation) -> Callable[[int], None]:
    def run(epochs: int) -> None:
        step = simulation.step
        for _ in range(epochs):
            step()

    return run


def best_rate(contenders: dict[str, Callable[[int], None]], epochs: int, rounds: int) -> dict[str, float]:
    """Epochs per second of each contender's best round."""
    best = dict.fromkeys(contenders, 0.0)
    for _ in range(rounds):
        for name, run in contenders.items():
            start = time.perf_counter()
            run(epochs)
            elapsed = time.perf_counter() - start
            best[name] = max(best[name], epochs / elapsed)
    return best


@dataclass
class Comparison:
    title: str
    lrtui_rate: float
    bare_rate: float
    target: str

    @property
    def ratio(self) -> float:
        """How many times longer lrtui takes per epoch than the bare loop."""
        return self.bare_rate / self.lrtui_rate

    def report(self) -> str:
        return (
            f"{self.title:<38} lrtui {self.lrtui_rate:>11,.0f} epochs/s   bare {self.bare_rate:>11,.0f} epochs/s"
            f"   per-epoch ratio {self.ratio:5.3f}x   (target {self.target})"
        )


def engine_comparison(points: int, epochs: int, rounds: int) -> Comparison:
    if points == 3:
        dataset = from_tensors("line", torch.tensor([1.0, 2.0, 3.0]), torch.tensor([1.0, 2.0, 3.0]))
    else:
        generator = torch.Generator().manual_seed(0)
        x = torch.randn(points, generator=generator)
        dataset = from_tensors("big", x, 2.5 + 4 * x + 0.5 * torch.randn(points, generator=generator))
    learning_rate = 0.01
    simulation = Simulation(Settings(learning_rate=learning_rate, epochs=10**9), dataset)
    rates = best_rate(
        {
            "lrtui": engine_loop(simulation),
            "bare": bare_loop(dataset.x_train, dataset.y_train, learning_rate),
        },
        epochs,
        rounds,
    )
    return Comparison(f"engine step, {points:,} points", rates["lrtui"], rates["bare"], "<= 1.2x")


def engine_benchmarks() -> list[str]:
    return [
        engine_comparison(3, epochs=2000, rounds=7).report(),
        engine_comparison(1_000_000, epochs=20, rounds=5).report(),
    ]


@dataclass
class AppRun:
    epochs_per_second: float
    frames_per_second: float
    key_latencies: list[float]


async def _app_at_full_speed(seconds: float, key_presses: int, race: tuple[str, ...] = ()) -> AppRun:
    """Run the app headless at 120x40 at full speed; count epochs, composed frames and key latency.
    ``race``: changes for contenders racing the run, as typed after the a key."""
    from textual import events
    from textual._compositor import CompositorUpdate

    from .app import LrtuiApp
    from .engine.race import contender_settings
    from .pacing import FULL_SPEED

    simulation = Simulation(Settings(epochs=10**9))
    contenders = [contender_settings(simulation.settings, changes) for changes in race]
    app = LrtuiApp(simulation, speed=FULL_SPEED, contenders=contenders)
    frames = 0
    display = app._display

    def counting_display(screen, renderable) -> None:
        # Headless mode skips turning the frame into terminal output; do it here so it is paid for.
        nonlocal frames
        if isinstance(renderable, CompositorUpdate):
            frames += 1
            renderable.render_segments(app.console)
        display(screen, renderable)

    app._display = counting_display
    latencies: list[float] = []
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("space")
        start, first_epoch, first_frame = time.perf_counter(), simulation.epoch, frames
        await asyncio.sleep(seconds)
        elapsed = time.perf_counter() - start
        epochs, shown = simulation.epoch - first_epoch, frames - first_frame
        for _ in range(key_presses):
            zero_grad = simulation.settings.zero_grad
            sent = time.perf_counter()
            app.post_message(events.Key("z", "z"))
            while simulation.settings.zero_grad == zero_grad:
                await asyncio.sleep(0.001)
            latencies.append(time.perf_counter() - sent)
            await asyncio.sleep(0.05)
        await pilot.press("space")
    return AppRun(epochs / elapsed, shown / elapsed, latencies)


def app_benchmarks() -> list[str]:
    run = asyncio.run(_app_at_full_speed(seconds=4.0, key_presses=10))
    dataset = from_tensors("line", torch.tensor([1.0, 2.0, 3.0]), torch.tensor([1.0, 2.0, 3.0]))
    bare = best_rate({"bare": bare_loop(dataset.x_train, dataset.y_train, 0.01)}, 2000, 5)["bare"]
    comparison = Comparison("app run mode, full speed, 3 points", run.epochs_per_second, bare, "<= 2x")
    race = asyncio.run(
        _app_at_full_speed(4.0, 10, ("optimizer=adam lr=0.1", "momentum=0.9", "zero-grad=off"))
    )
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


def chart_benchmark_lines() -> list[str]:
    from .bench_charts import chart_benchmarks, report

    return [report(*row) for row in chart_benchmarks()]


def long_run_child(epochs: int) -> None:
    """In a process of its own: run ``epochs`` epochs keeping history as the app does, then
    time one chart frame; print the process's peak memory and the frame time as JSON."""
    import json
    import resource

    from .bench_charts import best_milliseconds, finished_run, frame_maker

    simulation, history = finished_run(epochs - 1)
    frame_ms = best_milliseconds(frame_maker(simulation, history, warm=True), 10)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {"epochs": epochs, "records": len(history), "peak_mb": peak_kb / 1024, "frame_ms": frame_ms}
        )
    )


def memory_benchmarks() -> list[str]:
    import json
    import subprocess

    results = {}
    for epochs in (1_000, 1_000_000):
        code = f"from lrtui.bench import long_run_child; long_run_child({epochs})"
        output = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout
        results[epochs] = json.loads(output)
    small, big = results[1_000], results[1_000_000]
    return [
        f"{'peak memory, headless run with history':<38} 1,000 epochs {small['peak_mb']:.0f} MB;"
        f" 1,000,000 epochs {big['peak_mb']:.0f} MB ({big['records']:,} records kept);"
        f" difference {big['peak_mb'] - small['peak_mb']:.1f} MB (target <= 50 MB)",
        f"{'chart frame after the run':<38} 1,000 epochs {small['frame_ms']:.1f} ms;"
        f" 1,000,000 epochs {big['frame_ms']:.1f} ms (target: no growth)",
    ]


def data_benchmarks(rows: int = 1_000_000) -> list[str]:
    """Loading a big CSV, beside the bare csv.reader loop a lesson would write."""
    import csv
    import os
    import random
    import tempfile

    from .engine.data import load_csv

    def bare_read(path: str) -> None:
        with open(path, newline="") as handle:
            reader = csv.reader(handle)
            next(reader)
            points = [(float(x), float(y)) for x, y in reader]
        torch.tensor(points)

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
            for name, load in (("lrtui", load_csv), ("bare", bare_read)):
                start = time.perf_counter()
                load(path)
                timings[name].append(time.perf_counter() - start)
    lrtui_s, bare_s = min(timings["lrtui"]), min(timings["bare"])
    return [
        f"{'load a CSV, ' + f'{rows:,} rows':<38} lrtui {lrtui_s:.2f} s; bare csv.reader + torch.tensor"
        f" {bare_s:.2f} s; ratio {lrtui_s / bare_s:.2f}x (target: well under a few seconds)"
    ]


GROUPS: dict[str, Callable[[], list[str]]] = {
    "engine": engine_benchmarks,
    "app": app_benchmarks,
    "charts": chart_benchmark_lines,
    "data": data_benchmarks,
    "memory": memory_benchmarks,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lrtui.bench", description=__doc__.splitlines()[0])
    parser.add_argument("groups", nargs="*", help=f"some of: {', '.join(GROUPS)} (default all)")
    args = parser.parse_args(argv)
    unknown = [name for name in args.groups if name not in GROUPS]
    if unknown:
        parser.error(f"unknown group {unknown[0]!r}: choose from {', '.join(GROUPS)}")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s)")
    for name in args.groups or GROUPS:
        for line in GROUPS[name]():
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
