"""The chart: the cost surface with the run on it, the cost per epoch, or the data and the fit.

A textual-plotext widget over the drawing functions of ``lrtui.charts``, which the headless
``lrtui run --plot`` shares. The app calls ``show`` after every frame; ``next_view`` switches
views and ``reset_view`` forgets the surface's range when the run starts again.
"""

from __future__ import annotations

import time
from functools import lru_cache

from rich.segment import Segment
from rich.style import Style as RichStyle
from rich.text import Text
from textual.css.styles import RulesMap
from textual.reactive import reactive
from textual.strip import Strip
from textual.style import Style
from textual.visual import RenderOptions, Visual
from textual_plotext import Plot, PlotextPlot

from ...charts import (
    COLOR,
    VIEW_TITLES,
    VIEWS,
    CellPainting,
    Scene,
    SurfaceCache,
    ViewRange,
    draw_view,
    scene_for,
)
from ...charts.canvas import CellColors, Row, cell_ansi
from ...engine import EpochRecord
from ...engine.race import Race

MIN_WIDTH = 20
MIN_HEIGHT = 8


class ChartPlot(CellPainting, Plot):
    """textual-plotext's Plot, able to paint the cost map as cell backgrounds.

    textual-plotext's widget sizes and themes the plot, then calls ``build`` and parses the
    ANSI text it returns; parsing it was a third of the cost of a frame. So ``build`` keeps
    the canvas as rows of same-coloured runs in ``rows`` and returns no text, and the chart
    shows the rows as a ``CanvasVisual``. It times its builds."""

    build_seconds = 0.0  # how long the last frame took plotext to build
    rows: list[Row] = []

    def build(self) -> str:
        start = time.perf_counter()
        try:
            self.rows = self.build_rows()
        finally:
            self.build_seconds = time.perf_counter() - start
        return ""


@lru_cache(maxsize=1024)
def cell_style(colors: CellColors) -> RichStyle:
    """The Rich style of a cell of these plotext colours: what parsing plotext's ANSI gives."""
    spans = Text.from_ansi(cell_ansi(colors) + " ").spans
    style = spans[0].style if spans else RichStyle.null()
    return style if isinstance(style, RichStyle) else RichStyle.parse(style)


@lru_cache(maxsize=4096)
def _offset(x: int, y: int) -> RichStyle:
    return RichStyle.from_meta({"offset": (x, y)})


class CanvasVisual(Visual):
    """The chart's canvas, one strip per row, each run of cells styled from its plotext colours
    over the widget's own style."""

    def __init__(self, rows: list[Row]) -> None:
        self.rows = rows

    def render_strips(
        self, width: int, height: int | None, style: Style, options: RenderOptions
    ) -> list[Strip]:
        base = style.rich_style
        strips = []
        for y, row in enumerate(self.rows[:height]):
            segments = []
            x = 0
            for text, colors in row:
                # Each run carries its offset, as Textual's own text does (text selection uses it).
                segments.append(Segment(text, base + cell_style(colors) + _offset(x, y)))
                x += len(text)
            strip = Strip(segments)  # its cell length, not x: a Korean title's letters are two cells wide
            strips.append(strip if strip.cell_length <= width else strip.crop(0, width))
        return strips

    def get_optimal_width(self, rules: RulesMap, container_width: int) -> int:
        return max((sum(len(text) for text, _ in row) for row in self.rows), default=0)

    def get_height(self, rules: RulesMap, width: int) -> int:
        return len(self.rows)


class CostChart(PlotextPlot):
    """Draws the run it was last shown, in one of ``VIEWS``."""

    DEFAULT_CSS = """
    CostChart {
        border: round $primary 50%;
        border-title-color: $text;
    }
    """

    view: reactive[str] = reactive("surface", init=False)

    def __init__(
        self,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self.border_title = "Chart"
        self.chart_plot = self._plot = ChartPlot()
        self.race: Race | None = None
        self.view_range = ViewRange()
        self.surface_cache = SurfaceCache()
        self.in_x_units = False  # a standardized run's surface over raw x (t switches)
        self.pair: tuple[int, int] | None = None  # k features: the slice's two parameters (None: default)
        self._pair_data: object = None  # the dataset ``pair`` was chosen on
        self._peek_key: tuple | None = None
        self._peeked: EpochRecord | None = None
        self.border_subtitle = self._subtitle()

    # ------------------------------------------------------------- the app's calls
    def show(self, race: Race) -> None:
        """Draw this race now (a single run is a race of one); hidden (the graph view in its
        place), it only keeps the race, and is drawn when shown again."""
        self.race = race
        if self.display:
            self.replot()

    @property
    def build_seconds(self) -> float:
        """How long the last frame took to build (a race's paths or a big terminal take longer)."""
        return self.chart_plot.build_seconds

    def next_view(self) -> None:
        self.view = VIEWS[(VIEWS.index(self.view) + 1) % len(VIEWS)]

    def toggle_x_units(self) -> bool:
        """Switch a standardized run's surface between x' (as trained) and raw x; False when
        the run is not standardized (or has no bias, or several features: a slice is over x'),
        so there is nothing to switch."""
        leader = self.race.leader if self.race is not None else None
        if leader is None or not (leader.settings.standardize and leader.bias) or leader.dataset.features > 1:
            self.in_x_units = False
            return False
        self.in_x_units = not self.in_x_units
        self.view_range.reset()
        self.replot()
        return True

    def next_pair(self) -> str | None:
        """With k features, slice the cost over the next pair of parameters; the new pair's
        names (None with one feature: the surface is over W and b already)."""
        if self.race is None or self.race.leader.dataset.features == 1:
            return None
        from ...charts.slices import next_pair
        from ...engine.features import FeatureSurface

        scene = self.scene()
        assert scene.pair is not None and isinstance(scene.full_surface, FeatureSurface)
        self.pair = next_pair(scene.full_surface, scene.pair)
        self.view_range.reset()
        self.replot()
        names = self.scene().slice
        return None if names is None else " and ".join(name for name in names.names if name)

    def reset_view(self) -> None:
        """Forget the surface's range: the next frame ranges it afresh (after a reset or a new problem)."""
        self.view_range.reset()
        self._peek_key = None

    # ---------------------------------------------------------------- drawing
    def render(self) -> Visual:
        super().render()  # sizes and themes the plot, which builds its rows (ChartPlot.build)
        return CanvasVisual(self.chart_plot.rows)

    def watch_view(self) -> None:
        self.border_subtitle = self._subtitle()
        self.replot()

    def on_resize(self) -> None:
        self.replot()

    def replot(self) -> None:
        plt = self.plt
        plt.clear_figure()
        width, height = self.size
        if self.race is not None and width >= MIN_WIDTH and height >= MIN_HEIGHT:
            draw_view(plt, self.view, self.scene(), self.view_range, width, height, COLOR, self.surface_cache)
        self.refresh()

    def scene(self) -> Scene:
        assert self.race is not None
        if self._pair_data is not self.race.leader.dataset:  # a new problem: its own default pair
            self.pair, self._pair_data = None, self.race.leader.dataset
        scene = scene_for(self.race, self._peek(), self.pair)
        if self.in_x_units:
            from ...charts.units import can_show_x_units, in_x_units

            if can_show_x_units(scene):
                return in_x_units(scene)
            self.in_x_units = False
        return scene

    def _peek(self) -> EpochRecord | None:
        """The leader's ``peek()``, asked again only when the run has moved since."""
        assert self.race is not None
        leader = self.race.leader
        if leader.diverged:
            return None
        key = (leader, leader.revision)
        if key != self._peek_key:
            self._peeked = leader.peek()
            self._peek_key = key
        return self._peeked

    def _subtitle(self) -> str:
        following = VIEWS[(VIEWS.index(self.view) + 1) % len(VIEWS)]
        return f"{VIEW_TITLES[self.view]} · v: {VIEW_TITLES[following]}"
