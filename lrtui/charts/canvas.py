"""The figure the charts draw on: the one module that touches plotext's internals.

``ChartFigure`` is a plotext figure of its own (no global state); ``CellPainting`` lets a
figure paint the cost map as cell backgrounds instead of one plotext point per cell. Every
other module draws through the public plotext calls of a ``Plt``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from plotext._figure import _figure_class as PlotextFigure

from .palette import Color

Plt = Any  # a plotext figure, the plotext module, or a textual-plotext Plot
Painter = Callable[[int, int], list[list[Color]]]


class CellPainting:
    """Mixin for a plotext figure class: paints the background of every canvas cell.

    ``paint_cells(painter)`` registers ``painter(cols, rows)``, which returns one row of colours
    per canvas row, bottom row first; ``build`` calls it with the canvas size plotext settled
    on and paints under whatever was drawn. A cell coloured this way costs nothing in
    plotext's per-point pipeline.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cell_painter: Painter | None = None

    def paint_cells(self, painter: Painter | None) -> None:
        self.cell_painter = painter

    def build(self) -> str:
        if self.cell_painter is None:
            return super().build()  # type: ignore[misc]
        self._set_sizes()  # type: ignore[attr-defined]
        self._build_matrix()  # type: ignore[attr-defined]
        monitor = self.monitor  # type: ignore[attr-defined]
        _paint(monitor, self.cell_painter)
        monitor.matrix.set_canvas()
        return monitor.matrix.get_canvas()


def _paint(monitor: Any, painter: Painter) -> None:
    """Paint the painter's colours under plotext's canvas. (The charts give plotext no labels,
    so it draws no legend box over the map: every key is in a title.)"""
    matrix = monitor.matrix
    cols, rows = matrix.Cols_canvas, matrix.Rows_canvas
    if len(cols) < 1 or len(rows) < 1:
        return
    colors = painter(len(cols), len(rows))
    background = matrix.background
    for index, row in enumerate(rows):
        background[row][cols.start : cols.stop] = colors[index]


class ChartFigure(CellPainting, PlotextFigure):
    """A plotext figure of its own (no global state) that can paint the cost map."""


def new_figure(width: int, height: int) -> ChartFigure:
    """A plotext figure of its own, of exactly this size whatever the terminal."""
    figure = ChartFigure()
    figure._limit_size(False, False)
    figure.plot_size(width, height)
    figure.theme("pro")
    return figure
