"""The chart: the cost surface with the run on it, the cost per epoch, or the data and the fit.

A textual-plotext widget over the drawing functions of ``lrtui.charts``, which the headless
``lrtui run --plot`` shares. The app calls ``show`` after every frame; ``next_view`` switches
views and ``reset_view`` forgets the surface's range when the run starts again.
"""

from __future__ import annotations

import time

from textual.reactive import reactive
from textual_plotext import Plot, PlotextPlot

from ..charts import (
    COLOR,
    VIEW_TITLES,
    VIEWS,
    CellPainting,
    Scene,
    SurfaceCache,
    ViewRange,
    draw_view,
    scene_of,
)
from ..engine import EpochRecord
from ..engine.race import Race

MIN_WIDTH = 20
MIN_HEIGHT = 8


class ChartPlot(CellPainting, Plot):
    """textual-plotext's Plot, able to paint the cost map as cell backgrounds; it times its builds."""

    build_seconds = 0.0  # how long the last frame took plotext to build

    def build(self) -> str:
        start = time.perf_counter()
        try:
            return super().build()
        finally:
            self.build_seconds = time.perf_counter() - start


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
        self._peek_key: tuple | None = None
        self._peeked: EpochRecord | None = None
        self.border_subtitle = self._subtitle()

    # ------------------------------------------------------------- the app's calls
    def show(self, race: Race) -> None:
        """Draw this race now (a single run is a race of one)."""
        self.race = race
        self.replot()

    @property
    def build_seconds(self) -> float:
        """How long the last frame took to build (a race's paths or a big terminal take longer)."""
        return self.chart_plot.build_seconds

    def next_view(self) -> None:
        self.view = VIEWS[(VIEWS.index(self.view) + 1) % len(VIEWS)]

    def toggle_x_units(self) -> bool:
        """Switch a standardized run's surface between x' (as trained) and raw x; False when
        the run is not standardized (or has no bias), so there is nothing to switch."""
        if self.race is None or not (self.race.leader.settings.standardize and self.race.leader.bias):
            self.in_x_units = False
            return False
        self.in_x_units = not self.in_x_units
        self.view_range.reset()
        self.replot()
        return True

    def reset_view(self) -> None:
        """Forget the surface's range: the next frame ranges it afresh (after a reset or a new problem)."""
        self.view_range.reset()
        self._peek_key = None

    # ---------------------------------------------------------------- drawing
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
        scene = scene_of(self.race, self._peek())
        if self.in_x_units:
            from ..charts.units import can_show_x_units, in_x_units

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
