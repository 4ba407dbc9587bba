"""The chart: one frame of the surface view, and the cost map for a big dataset.

A frame is what the app does for each redraw of the chart: read the scene from the engine
(``peek()`` included), draw it on a plotext figure and let plotext build the text. Each
figure is the best of several rounds, so a busy moment on the machine does not count.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from lrtui.charts import (
    COLOR,
    SurfaceCache,
    ViewRange,
    draw_view,
    level_grid,
    new_figure,
    scene_for,
    scene_of,
)
from lrtui.engine import CostSurface, Settings
from lrtui.engine.data import from_tensors
from lrtui.engine.race import Race

from .timing import best_milliseconds

WIDTH, HEIGHT = 120, 40
FRAME_TARGET = "< 25 ms"
SURFACE_TARGET = "< 10 ms"


def finished_run(epochs: int) -> Race:
    """A real run of the line preset through epochs 0..epochs, with its history."""
    race = Race.of(Settings(epochs=epochs))
    race.run_to_end()
    return race


def frame_maker(race: Race, warm: bool) -> Callable[[], str]:
    """One chart frame; ``warm`` keeps the range and the cost map from frame to frame, as the
    app's widget does while the point stays in view."""
    kept = (ViewRange(), SurfaceCache())

    def frame() -> str:
        view, cache = kept if warm else (ViewRange(), SurfaceCache())
        figure = new_figure(WIDTH, HEIGHT)
        draw_view(figure, "surface", scene_of(race), view, WIDTH, HEIGHT, COLOR, cache)
        return figure.build()

    return frame


def frame_benchmark(epochs: int, warm: bool = True, rounds: int = 15) -> float:
    frame = frame_maker(finished_run(epochs), warm)
    frame()
    return best_milliseconds(frame, rounds)


def features_frame_benchmark(features: int = 16, epochs: int = 1_000, rounds: int = 15) -> float:
    """A frame of the slice view of a 16-feature run (1,000 points) mid-run: the slice moves with
    θ, so its cost map is drawn afresh each frame (a new SurfaceCache), the range kept."""
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(1_000, features, generator=generator)
    y = x @ torch.linspace(-2, 2, features) + 0.5 + 0.1 * torch.randn(1_000, generator=generator)
    names = tuple(f"x{j}" for j in range(1, features + 1))
    race = Race.of(Settings(epochs=epochs), dataset=from_tensors("features", x, y, names))
    race.run_to_end()
    view = ViewRange()

    def frame() -> str:
        figure = new_figure(WIDTH, HEIGHT)
        draw_view(figure, "surface", scene_for(race), view, WIDTH, HEIGHT, COLOR, SurfaceCache())
        return figure.build()

    frame()
    return best_milliseconds(frame, rounds)


def big_surface(points: int) -> CostSurface:
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(points, generator=generator)
    dataset = from_tensors("big", x, 2.5 + 4 * x + 0.5 * torch.randn(points, generator=generator))
    return CostSurface(dataset.sums)


def surface_benchmark(points: int, rounds: int = 15) -> float:
    """The coloured levels of a full 120x40 chart's canvas, from the closed form."""
    surface = big_surface(points)
    cols, rows = WIDTH - 6, HEIGHT - 5

    def levels() -> list[list[object]]:
        grid = level_grid(surface, (-1.0, 6.0), (-1.0, 4.0), cols, rows)
        return [[COLOR.levels[level] for level in row] for row in grid.tolist()]

    return best_milliseconds(levels, rounds)


def chart_benchmarks() -> list[tuple[str, float, str]]:
    """(title, milliseconds, target) of each chart benchmark."""
    return [
        (f"chart frame {WIDTH}x{HEIGHT}, 10,000-epoch history", frame_benchmark(10_000), FRAME_TARGET),
        (f"chart frame {WIDTH}x{HEIGHT}, 1,000-epoch history", frame_benchmark(1_000), FRAME_TARGET),
        (
            f"first chart frame {WIDTH}x{HEIGHT}, 10,000 epochs (range + map)",
            frame_benchmark(10_000, warm=False),
            FRAME_TARGET,
        ),
        ("cost map, 1,000,000 data points", surface_benchmark(1_000_000), SURFACE_TARGET),
        (f"slice frame {WIDTH}x{HEIGHT}, 16 features, map redrawn", features_frame_benchmark(), FRAME_TARGET),
    ]


def report(title: str, milliseconds: float, target: str) -> str:
    return f"{title:<52} {milliseconds:8.2f} ms   (target {target})"


def chart_benchmark_lines() -> list[str]:
    return [report(*row) for row in chart_benchmarks()]
