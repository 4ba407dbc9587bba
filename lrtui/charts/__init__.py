"""The charts of a run, drawn with plotext: the cost surface, J(W), cost per epoch and the fit.

Every drawing function draws on a plotext-like figure ``plt``: the ``plt`` of a
textual-plotext ``PlotextPlot`` in the app, or a plotext figure of its own for
``lrtui run --plot``. Numbers come from the engine only: the path from the history, the next
step from ``Simulation.peek()``, the surface from the closed-form ``CostSurface``. No textual
here.

plotext draws whatever it is given, one Python step per point and per cell of a line, so
the charts hand it only finite points, lines clipped to the view, and at most
``PATH_POINTS`` points of a long trajectory.

The layers, each importing only those below it::

    views      the four views and the entry points (draw_view, build_chart, render_*)
    titles     titles, legends and notes
    marks      markers, arrows, clipped paths, the cost map
    geometry   the view range, the frame and its axes, snapping, clipping
    scene      what a frame shows of a run (Scene, Track, RivalScene)
    canvas     the plotext figure: the one module that touches plotext's internals
    palette    colours and glyphs

This package re-exports what the rest of lrtui and the tests use, each name loaded on first
use (PEP 562): the charts need plotext, numpy and the engine (torch), which `lrtui --help`
and the first frame of the app should not wait for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy_names

if TYPE_CHECKING:
    from .canvas import CellPainting, ChartFigure, new_figure
    from .geometry import ViewRange, clip_segment, frame
    from .marks import SurfaceCache, level_grid
    from .palette import COLOR, FRESH_HEADS, MONO, NOW, OPTIMUM, STEP_HEADS, Palette
    from .scene import RivalScene, Scene, Track, scene_of, thin_indices
    from .slices import scene_for
    from .titles import diverged_titles
    from .views import VIEW_TITLES, VIEWS, build_chart, draw_view, render_for_terminal

# The modules (in this package) that hold the public names.
_HOMES: dict[str, tuple[str, ...]] = {
    "canvas": ("CellPainting", "ChartFigure", "new_figure"),
    "geometry": ("ViewRange", "clip_segment", "frame"),
    "marks": ("SurfaceCache", "level_grid"),
    "palette": ("COLOR", "FRESH_HEADS", "MONO", "NOW", "OPTIMUM", "STEP_HEADS", "Palette"),
    "scene": ("RivalScene", "Scene", "Track", "scene_of", "thin_indices"),
    "slices": ("scene_for",),
    "titles": ("diverged_titles",),
    "views": ("VIEW_TITLES", "VIEWS", "build_chart", "draw_view", "render_for_terminal"),
}
_HOME_OF = {name: home for home, names in _HOMES.items() for name in names}

__all__ = [
    "COLOR",
    "CellPainting",
    "ChartFigure",
    "FRESH_HEADS",
    "MONO",
    "NOW",
    "OPTIMUM",
    "Palette",
    "RivalScene",
    "STEP_HEADS",
    "Scene",
    "SurfaceCache",
    "Track",
    "VIEWS",
    "VIEW_TITLES",
    "ViewRange",
    "build_chart",
    "clip_segment",
    "diverged_titles",
    "draw_view",
    "frame",
    "level_grid",
    "new_figure",
    "render_for_terminal",
    "scene_for",
    "scene_of",
    "thin_indices",
]


__getattr__, __dir__ = lazy_names(__name__, _HOME_OF, globals(), __all__)
