"""The figure the charts draw on: the one module that touches plotext's internals.

``ChartFigure`` is a plotext figure of its own (no global state); ``CellPainting`` lets a
figure paint the cost map as cell backgrounds instead of one plotext point per cell. Every
other module draws through the public plotext calls of a ``Plt``.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import groupby
from operator import itemgetter
from typing import Any

from plotext._figure import _figure_class as PlotextFigure
from plotext._utility import colors_to_ansi

from .palette import Color

Plt = Any  # a plotext figure, the plotext module, or a textual-plotext Plot
Painter = Callable[[int, int], list[list[Color]]]
CellColors = tuple[Any, Any, Any]  # plotext's (foreground, style, background) of a cell
Row = list[tuple[str, CellColors]]  # a canvas row as runs of cells of the same colours


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
            return super().build()  # type: ignore[misc]  # a mixin: mypy cannot see plotext's build above it
        matrix = self._built_matrix()
        matrix.set_canvas()
        return matrix.get_canvas()

    def build_rows(self) -> list[Row]:
        """What ``build`` draws, as rows (top first) of runs of same-coloured cells: for a
        widget that styles cells itself, which is far cheaper than parsing ``build``'s ANSI
        text back into styles on every frame."""
        return _rows(self._built_matrix())

    def _built_matrix(self) -> Any:
        # plotext's build, up to the point where it would join the matrix into ANSI text
        self._set_sizes()  # type: ignore[attr-defined]  # plotext's figure, below this mixin
        self._build_matrix()  # type: ignore[attr-defined]  # plotext's figure, below this mixin
        monitor = self.monitor  # type: ignore[attr-defined]  # plotext's figure, below this mixin
        if self.cell_painter is not None:
            _paint(monitor, self.cell_painter)
        return monitor.matrix


def cell_ansi(colors: CellColors) -> str:
    """The escape codes plotext writes before a cell of these colours."""
    return colors_to_ansi(*colors)


def _hashable(color: Any) -> Any:
    return tuple(color) if isinstance(color, list) else color


def _rows(matrix: Any) -> list[Row]:
    rows: list[Row] = []
    cols = slice(matrix.Cols.start, matrix.Cols.stop)
    for row in reversed(matrix.Rows):
        colors = zip(
            map(_hashable, matrix.fullground[row][cols]),
            map(_hashable, matrix.style[row][cols]),
            map(_hashable, matrix.background[row][cols]),
            strict=True,
        )
        cells = zip(matrix.marker[row][cols], colors, strict=True)
        rows.append(
            [("".join(marker for marker, _ in run), key) for key, run in groupby(cells, itemgetter(1))]
        )
    return rows


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
