"""The charts of a run, drawn with plotext: the cost surface, J(W), cost per epoch and the fit.

Every function here draws on a plotext-like figure ``plt``: the ``plt`` of a textual-plotext
``PlotextPlot`` in the app, or a plotext figure of its own for ``lrtui run --plot``. Numbers
come from the engine only: the path from the history, the next step from
``Simulation.peek()``, the surface from the closed-form ``CostSurface``. No textual here.

plotext draws whatever it is given, one Python step per point and per cell of a line, so
the charts hand it only finite points, lines clipped to the view, and at most
``PATH_POINTS`` points of a long trajectory.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import plotext
from plotext._figure import _figure_class as PlotextFigure

from .engine import CostSurface, Dataset, EpochRecord, Settings, Simulation
from .engine.history import History
from .engine.race import Race, labels

Color = tuple[int, int, int] | str
Span = tuple[float, float]
Plt = Any  # a plotext figure, the plotext module, or a textual-plotext Plot

VIEWS: tuple[str, ...] = ("surface", "cost", "fit")
VIEW_TITLES: dict[str, str] = {"surface": "cost surface", "cost": "cost per epoch", "fit": "data and fit"}

LEVELS = 10  # coloured levels of the cost map, half a decade apart
PATH_POINTS = 400  # the most trajectory points handed to plotext
RECENT_POINTS = 100  # the last points of a trajectory, always drawn exactly
RIVAL_POINTS = 150  # fewer for a race's other contenders: each costs plotext a whole path
DATA_POINTS = 2000  # the most data points drawn in the fit view
MARGIN = 0.12  # room around what a view must hold, as a fraction of its span

STEP_HEADS = "→↗↑↖←↙↓↘"  # arrow heads by direction, counter-clockwise from east
FRESH_HEADS = "▶◥▲◤◀◣▼◢"
NOW = "●"
OPTIMUM = "◆"
DIVERGED = "✖"
EARLIER = "•"
FLOOR = "┈"


# ---------------------------------------------------------------------- colours
@dataclass(frozen=True)
class Palette:
    """Colours and characters of the charts.

    ``levels`` colour the cost map from low cost to high (as cell backgrounds, or as the
    colour of ``level_marks`` where a figure cannot paint backgrounds). The ``map_*`` colours
    are drawn over the map; the others over the theme's canvas, so they are mid-tones that
    read on dark and light themes alike."""

    levels: tuple[Color, ...]
    level_marks: tuple[str, ...]
    map_path: Color
    map_now: Color
    map_diverged: Color
    map_optimum: Color
    map_step: Color
    map_fresh: Color
    path: Color
    now: Color
    optimum: Color
    step: Color
    fresh: Color
    curve: Color
    tangent: Color
    fit: Color
    best_fit: Color
    rivals_map: tuple[Color, ...]  # contenders B, C, D over the cost map
    rivals: tuple[Color, ...]  # and over the canvas

    @property
    def colored(self) -> bool:
        return self.levels[0] != "default"


# viridis, darkened so that the path and the markers stand out on it
_VIRIDIS = (
    (68, 1, 84),
    (72, 40, 120),
    (62, 73, 137),
    (49, 104, 142),
    (38, 130, 142),
    (31, 158, 137),
    (53, 183, 121),
    (110, 206, 88),
    (181, 222, 43),
    (253, 231, 37),
)


def _dim(color: tuple[int, int, int], factor: float) -> tuple[int, int, int]:
    red, green, blue = color
    return (round(red * factor), round(green * factor), round(blue * factor))


_RIVALS = ((255, 150, 40), (60, 200, 255), (235, 100, 235))

COLOR = Palette(
    levels=tuple(_dim(c, 0.55) for c in _VIRIDIS),
    level_marks=("█",) * LEVELS,
    map_path=(255, 255, 255),
    map_now=(255, 60, 60),
    map_diverged=(255, 120, 220),
    map_optimum=(255, 215, 0),
    map_step=(255, 60, 60),
    map_fresh=(90, 220, 255),
    path=(0, 130, 200),
    now=(230, 25, 75),
    optimum=(210, 150, 0),
    step=(230, 25, 75),
    fresh=(145, 30, 180),
    curve=(60, 180, 75),
    tangent=(245, 130, 48),
    fit=(230, 25, 75),
    best_fit=(128, 128, 128),
    # the same colour for a contender everywhere: bright enough over the map and the canvas
    rivals_map=_RIVALS,
    rivals=_RIVALS,
)
# Without colour the levels are told apart by their characters, denser where the cost is high.
_PLAIN: dict[str, Any] = {field.name: "default" for field in fields(Palette)}
MONO = Palette(
    **{
        **_PLAIN,
        "levels": ("default",) * LEVELS,
        "rivals_map": ("default",) * 3,
        "rivals": ("default",) * 3,
        "level_marks": (" ", " ", "·", "·", ":", ":", "░", "░", "▒", "▒"),
    }
)


Painter = Callable[[int, int], list[list[Color]]]


class CellPainting:
    """Mixin for a plotext figure class: paints the background of every canvas cell.

    ``paint_cells(painter)`` registers ``painter(cols, rows)``, which returns one row of colours
    per canvas row, bottom row first; ``build`` calls it with the canvas size plotext settled
    on and paints under whatever was drawn (plotext's legend box is left alone). A cell
    coloured this way costs nothing in plotext's per-point pipeline.
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
    matrix = monitor.matrix
    cols, rows = matrix.Cols_canvas, matrix.Rows_canvas
    if len(cols) < 1 or len(rows) < 1:
        return
    colors = painter(len(cols), len(rows))
    labels = [label for label in monitor.label if label is not None]
    legend_rows = len(labels)
    legend_cols = 3 + max((len(label) + 2 for label in labels), default=0)
    background = matrix.background
    for index, row in enumerate(rows):
        line = background[row]
        painted = colors[index]
        skip = legend_cols if index >= len(rows) - legend_rows else 0
        line[cols.start + skip : cols.stop] = painted[skip:]


class ChartFigure(CellPainting, PlotextFigure):
    """A plotext figure of its own (no global state) that can paint the cost map."""


# ------------------------------------------------------------------ the history
def thin_indices(count: int, limit: int = PATH_POINTS, recent: int = RECENT_POINTS) -> np.ndarray:
    """Which of ``count`` points to draw: all if few, else the first, the last ``recent``
    exactly, and evenly spaced ones in between."""
    if count <= limit:
        return np.arange(count)
    recent = min(recent, limit - 2)
    head = np.linspace(0, count - recent - 1, limit - recent).round().astype(int)
    tail = np.arange(count - recent, count)
    return np.unique(np.concatenate([head, tail]))


def history_values(history: History, name: str, indices: np.ndarray | None = None) -> np.ndarray:
    """One field of every record (or of the records at ``indices``) as float64.

    Reads History's column arrays without copying them whole when it has them, else goes
    through ``trajectory()`` and ``costs()``. ``b`` is 0 where a record has none."""
    store = getattr(history, "epochs", None) if name == "epoch" else getattr(history, "columns", {}).get(name)
    if isinstance(store, array):
        if len(store) == 0:
            return np.empty(0)
        view = np.frombuffer(store, dtype=np.int64 if store.typecode == "q" else np.float64)
        values = view[indices] if indices is not None else view.copy()
        del view  # a live view would stop the array from growing
        return values.astype(np.float64)
    values = np.asarray(_public_values(history, name), dtype=np.float64)
    return values[indices] if indices is not None else values


def _public_values(history: History, name: str) -> list[float]:
    ws, bs = history.trajectory()
    epochs, costs = history.costs()
    bs = [0.0 if b is None else b for b in bs]
    columns = {"epoch": epochs, "cost": costs, "w": ws[:-1], "b": bs[:-1], "w_next": ws[1:], "b_next": bs[1:]}
    return columns[name]


@dataclass(frozen=True)
class Track:
    """The run so far, thinned for drawing: each drawn epoch's number, start (W, b) and cost,
    and where the last step landed."""

    epochs: np.ndarray
    w: np.ndarray
    b: np.ndarray
    cost: np.ndarray
    end: tuple[float, float] | None

    @staticmethod
    def of(history: History, limit: int = PATH_POINTS) -> Track:
        indices = thin_indices(len(history), limit - 1)  # and one more: where the last step landed
        last = history.last
        end = None if last is None else (last.w_next, last.b_next if last.b_next is not None else 0.0)
        return Track(
            epochs=history_values(history, "epoch", indices),
            w=history_values(history, "w", indices),
            b=history_values(history, "b", indices),
            cost=history_values(history, "cost", indices),
            end=end,
        )


# ------------------------------------------------------------------ the scene
@dataclass(frozen=True)
class RivalScene:
    """Another contender of a race: its letter, what it is, its track and where it stands."""

    letter: str
    settings: Settings
    track: Track
    w: float
    b: float | None
    diverged_at: int | None

    @staticmethod
    def of(letter: str, simulation: Simulation, history: History) -> RivalScene:
        track = Track.of(history, RIVAL_POINTS)
        return RivalScene(
            letter, simulation.settings, track, simulation.w, simulation.b, simulation.diverged_at
        )

    def path(self) -> tuple[list[float], list[float]]:
        return track_points(self.track)


@dataclass(frozen=True)
class Scene:
    """What the charts show, read from the engine once per frame."""

    settings: Settings
    surface: CostSurface
    dataset: Dataset
    history: History
    track: Track
    last: EpochRecord | None  # the last epoch run
    w: float
    b: float | None
    next: EpochRecord | None  # the epoch about to run, from Simulation.peek()
    diverged_at: int | None
    rivals: tuple[RivalScene, ...] = ()  # the other contenders of a race

    @property
    def bias(self) -> bool:
        return self.surface.bias

    @property
    def learning_rate(self) -> float:
        """The learning rate of the step shown, or of the epoch that diverged."""
        if self.next is not None:
            return self.next.learning_rate
        return self.last.learning_rate if self.last is not None else self.settings.learning_rate


def scene_of(
    simulation: Simulation,
    history: History,
    peeked: EpochRecord | None = None,
    rivals: Sequence[RivalScene] = (),
) -> Scene:
    """The scene of a run; ``peeked`` saves a second ``peek()`` when the caller has one."""
    if peeked is None and not simulation.diverged:
        peeked = simulation.peek()
    return Scene(
        settings=simulation.settings,
        surface=simulation.surface,
        dataset=simulation.dataset,
        history=history,
        track=Track.of(history),
        last=history.last,
        w=simulation.w,
        b=simulation.b,
        next=peeked,
        diverged_at=simulation.diverged_at,
        rivals=tuple(rivals),
    )


def finite(*values: float | None) -> bool:
    return all(value is not None and math.isfinite(value) for value in values)


# ------------------------------------------------------------------- the view
def _padded(values: np.ndarray, margin: float) -> Span:
    """The span of the finite values, widened by ``margin`` on each side (never empty)."""
    values = values[np.isfinite(values)]
    if values.size == 0:
        return (-1.0, 1.0)
    low, high = float(values.min()), float(values.max())
    half = max((high - low) / 2 * (1 + 2 * margin), 0.25 * max(1.0, abs(low), abs(high)))
    middle = low / 2 + high / 2
    return (middle - half, middle + half)


def _floats(values: Sequence[float | None] | np.ndarray) -> np.ndarray:
    if isinstance(values, np.ndarray):
        return values.astype(np.float64)
    return np.array([np.nan if value is None else value for value in values], dtype=np.float64)


class ViewRange:
    """The part of the (W, b) plane a chart shows, steady from frame to frame.

    ``update`` fits the range to the points it must hold (start, optimum, path, next point)
    with a margin, and then keeps it while the current point stays inside: the picture does
    not jitter as the run moves. It re-ranges when the point leaves, or after ``reset``.
    Non-finite points are ignored. Without bias ``b`` is None and only W is ranged.
    """

    def __init__(self, margin: float = MARGIN) -> None:
        self.margin = margin
        self.w: Span | None = None
        self.b: Span | None = None

    def reset(self) -> None:
        self.w = None
        self.b = None

    def contains(self, w: float, b: float | None = None) -> bool:
        if self.w is None or not self.w[0] <= w <= self.w[1]:
            return False
        return b is None or self.b is None or self.b[0] <= b <= self.b[1]

    def needs_update(self, w: float, b: float | None = None) -> bool:
        """True with no range yet, or when a finite current point has left the range."""
        if self.w is None:
            return True
        return finite(w, 0.0 if b is None else b) and not self.contains(w, b)

    def fit(
        self, ws: Sequence[float] | np.ndarray, bs: Sequence[float | None] | np.ndarray | None = None
    ) -> None:
        """Range to hold these points (finite ones only), with the margin."""
        self.w = _padded(_floats(ws), self.margin)
        self.b = None if bs is None else _padded(_floats(bs), self.margin)

    def update(
        self,
        current: tuple[float, float | None],
        ws: Sequence[float] | np.ndarray,
        bs: Sequence[float | None] | np.ndarray | None = None,
    ) -> bool:
        """Keep the range while ``current`` is inside; else fit it to ws/bs. True if it changed."""
        if not self.needs_update(*current):
            return False
        w, b = current
        self.fit(
            np.append(_floats(ws), w),
            None if bs is None else np.append(_floats(bs), np.nan if b is None else b),
        )
        return True


def held_points(scene: Scene) -> tuple[np.ndarray, np.ndarray | None]:
    """What the view must hold: the whole path, the next point and the optimum."""
    extra_w: list[float | None] = []
    extra_b: list[float | None] = []
    if scene.track.end is not None:
        extra_w.append(scene.track.end[0])
        extra_b.append(scene.track.end[1])
    if scene.next is not None:
        extra_w.append(scene.next.w_next)
        extra_b.append(scene.next.b_next)
    optimum = scene.surface.optimum
    if optimum.unique:
        extra_w.append(optimum.w)
        extra_b.append(optimum.b)
    # a rival that diverged would stretch the view until nothing else can be seen
    racing = [rival.path() for rival in scene.rivals if rival.diverged_at is None]
    rival_ws = [_floats(ws) for ws, _ in racing]
    rival_bs = [_floats(bs) for _, bs in racing]
    ws = np.concatenate([history_values(scene.history, "w"), _floats(extra_w), *rival_ws])
    if not scene.bias:
        return ws, None
    return ws, np.concatenate([history_values(scene.history, "b"), _floats(extra_b), *rival_bs])


def follow(view: ViewRange, scene: Scene) -> bool:
    """Re-range the view if it must (the current point, or a rival's, has left it); True if it did."""
    b = scene.b if scene.bias else None
    left = view.needs_update(scene.w, b) or any(
        view.needs_update(rival.w, rival.b if scene.bias else None)
        for rival in scene.rivals
        if rival.diverged_at is None
    )
    if not left:
        return False
    ws, bs = held_points(scene)
    view.fit(np.append(ws, scene.w), None if bs is None else np.append(bs, np.nan if b is None else b))
    return True


def path_points(scene: Scene) -> tuple[list[float], list[float]]:
    """The trajectory to draw (thinned, finite points only): each epoch's start, then the
    point the last step reached."""
    return track_points(scene.track)


def track_points(track: Track) -> tuple[list[float], list[float]]:
    ws, bs = track.w, track.b
    if track.end is not None:
        ws, bs = np.append(ws, track.end[0]), np.append(bs, track.end[1])
    keep = np.isfinite(ws) & np.isfinite(bs)
    return ws[keep].tolist(), bs[keep].tolist()


# ---------------------------------------------------------------- geometry
def nice_step(span: float, count: int) -> float:
    """A round tick step (1, 2, 2.5 or 5 times a power of ten) for about ``count`` ticks."""
    raw = span / max(count, 1)
    if not raw > 0 or not math.isfinite(raw):
        return 1.0
    power = 10.0 ** math.floor(math.log10(raw))
    for factor in (1.0, 2.0, 2.5, 5.0, 10.0):
        if raw <= factor * power:
            return factor * power
    return 10 * power


def tick_label(value: float, step: float) -> str:
    """A short label, with as many decimals as the step needs."""
    if value == 0:
        return "0"
    if abs(value) >= 1e5 or step < 1e-4:
        return f"{value:.2g}".replace("e+0", "e").replace("e+", "e").replace("e-0", "e-")
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    if round(step / 10**-decimals, 6) % 1:
        decimals += 1
    text = f"{value:.{decimals}f}"
    return "0" if float(text) == 0 else text


def ticks(span: Span, count: int) -> tuple[list[float], list[str]]:
    """Round ticks inside ``span`` with their labels."""
    low, high = span
    step = nice_step(high - low, count)
    first = math.ceil(low / step - 1e-9)
    values = [(first + i) * step for i in range(int((high - low) / step) + 2)]
    values = [v for v in values if low <= v <= high]
    return values, [tick_label(v, step) for v in values]


@dataclass(frozen=True)
class Frame:
    """A chart's axes: spans, ticks, and the canvas size in cells that plotext will use."""

    x: Span
    y: Span
    x_ticks: tuple[list[float], list[str]]
    y_ticks: tuple[list[float], list[str]]
    cols: int
    rows: int

    def cell_size(self) -> tuple[float, float]:
        """Data units per cell, across and up."""
        return (
            (self.x[1] - self.x[0]) / max(self.cols - 1, 1),
            (self.y[1] - self.y[0]) / max(self.rows - 1, 1),
        )

    def snap(self, xs: Sequence[float], ys: Sequence[float]) -> tuple[list[float], list[float]]:
        """Where to put one-character markers so that each lands in the cell where a braille
        line through the same point is drawn.

        plotext places a braille dot on a grid 2 x 4 times finer that spans the whole canvas,
        but a one-character marker with cell centres at the two ends of the axis; the two
        differ by up to a cell. Snapped points sit at the centre of the braille cell."""
        return (
            _snap(np.asarray(xs, dtype=float), self.x, self.cols, BRAILLE_ACROSS),
            _snap(np.asarray(ys, dtype=float), self.y, self.rows, BRAILLE_UP),
        )

    def braille_centres(self) -> tuple[np.ndarray, np.ndarray]:
        """The data coordinates at the middle of each cell as braille lines see it."""
        return _centres(self.x, self.cols, BRAILLE_ACROSS), _centres(self.y, self.rows, BRAILLE_UP)


BRAILLE_ACROSS, BRAILLE_UP = 2, 4  # braille dots per cell


def _snap(values: np.ndarray, span: Span, cells: int, per_cell: int) -> list[float]:
    low, high = span
    fine = np.floor(np.round(0.5 + (per_cell * cells - 1) * (values - low) / (high - low), 8))
    cell = np.clip(fine // per_cell, 0, cells - 1)
    return (low + cell * (high - low) / max(cells - 1, 1)).tolist()


def _centres(span: Span, cells: int, per_cell: int) -> np.ndarray:
    low, high = span
    middle = (per_cell * np.arange(cells) + (per_cell - 1) / 2) / max(per_cell * cells - 1, 1)
    return low + middle * (high - low)


def frame(
    width: int, height: int, x: Span, y: Span, y_ticks: tuple[list[float], list[str]] | None = None
) -> Frame:
    """The frame of a width x height chart with a title line, an axis-label line and a box.

    plotext's canvas is the plot minus the y tick labels and the two y axes across, and minus
    the two x axes, the x tick labels, the title and the label line down.
    """
    rows = max(height - 5, 1)
    y_ticks = y_ticks if y_ticks is not None else ticks(y, max(2, rows // 3))
    label_width = max((len(label) for label in y_ticks[1]), default=0)
    cols = max(width - 2 - label_width, 1)
    x_ticks = ticks(x, max(2, cols // 12))
    return Frame(x, y, x_ticks, y_ticks, cols, rows)


def setup_axes(
    plt: Plt,
    chart: Frame,
    width: int,
    x_label: str,
    y_label: str,
    notes: Sequence[str],
    titles: Sequence[str],
) -> None:
    """Limits, ticks and labels; the first title and note (longest first) that fit.

    plotext writes the y label at the left end of the label line under the chart, the x label
    in its middle and the right y label at its right end, where the learning-rate note goes;
    a text that does not fit in its place is silently left out, so shorter ones are offered."""
    plt.xlim(*chart.x)
    plt.ylim(*chart.y)
    x_values, x_labels = chart.x_ticks
    y_values, y_labels = chart.y_ticks
    # placed in the cell where a braille line through the tick's value is drawn, like the markers
    plt.xticks(_snap(np.asarray(x_values, dtype=float), chart.x, chart.cols, BRAILLE_ACROSS), x_labels)
    plt.yticks(_snap(np.asarray(y_values, dtype=float), chart.y, chart.rows, BRAILLE_UP), y_labels)
    plt.xlabel(x_label)
    plt.ylabel(y_label)
    middle = width - chart.cols - 1 + chart.cols // 2
    room = width - (middle - len(x_label) // 2 + len(x_label) + 2)
    note = next((note for note in notes if len(note) <= room), "")
    if note:
        plt.ylabel(note, yside="right")
    title = next(
        (title for title in titles if len(title) // 2 + 1 <= min(middle, width - middle - 1) and title), ""
    )
    if title:
        plt.title(title)


def shortened(parts: Sequence[str], separator: str = "  ") -> list[str]:
    """The parts joined, then with the last ones left off, longest first."""
    return [separator.join(parts[:count]) for count in range(len(parts), 0, -1)]


# ---------------------------------------------------------------- drawing help
def clip_segment(
    start: tuple[float, float], end: tuple[float, float], chart: Frame
) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """The part of a segment inside the frame (Liang-Barsky), or None. Ends inside the frame
    are returned exactly as given."""
    (x0, y0), (x1, y1) = start, end
    if not finite(x0, y0, x1, y1):
        return None
    dx, dy = x1 - x0, y1 - y0
    low, high = 0.0, 1.0
    for p, q in (
        (-dx, x0 - chart.x[0]),
        (dx, chart.x[1] - x0),
        (-dy, y0 - chart.y[0]),
        (dy, chart.y[1] - y0),
    ):
        if p == 0:
            if q < 0:
                return None
            continue
        t = q / p
        if p < 0:
            low = max(low, t)
        else:
            high = min(high, t)
        if low > high:
            return None
    clipped_start = start if low == 0 else (x0 + low * dx, y0 + low * dy)
    clipped_end = end if high == 1 else (x0 + high * dx, y0 + high * dy)
    return clipped_start, clipped_end


def head_for(start: tuple[float, float], end: tuple[float, float], chart: Frame, heads: str) -> str:
    """The arrow head pointing from start to end as it looks on screen (cells are about
    twice as tall as they are wide)."""
    cell_x, cell_y = chart.cell_size()
    across = (end[0] - start[0]) / cell_x if cell_x else 0.0
    up = (end[1] - start[1]) / cell_y if cell_y else 0.0
    angle = math.atan2(2 * up, across)
    return heads[round(angle / (math.pi / 4)) % 8]


def draw_arrow(
    plt: Plt,
    start: tuple[float, float],
    end: tuple[float, float],
    chart: Frame,
    color: Color,
    heads: str,
    label: str | None = None,
) -> None:
    """A braille line from start to end with a head at the end, clipped to the frame."""
    clipped = clip_segment(start, end, chart)
    if clipped is None:
        return
    (x0, y0), (x1, y1) = clipped
    plt.plot([x0, x1], [y0, y1], marker="braille", color=color, label=label)
    head = head_position(start, (x1, y1), chart)
    if head is not None and inside(chart, *head):
        xs, ys = chart.snap([head[0]], [head[1]])
        plt.scatter(xs, ys, marker=head_for(start, end, chart, heads), color=color)


def head_position(
    start: tuple[float, float], end: tuple[float, float], chart: Frame
) -> tuple[float, float] | None:
    """Where the head goes: at the end, or, when the arrow is shorter than two cells, in the
    next cell in its direction, so that the direction shows under the current point's
    marker. None for an arrow of length 0."""
    cell_x, cell_y = chart.cell_size()
    across = (end[0] - start[0]) / cell_x if cell_x else 0.0
    up = (end[1] - start[1]) / cell_y if cell_y else 0.0
    longest = max(abs(across), abs(up))
    if longest == 0 or not math.isfinite(longest):
        return None
    if longest >= 2:
        return end
    return (start[0] + across / longest * cell_x, start[1] + up / longest * cell_y)


def inside(chart: Frame, x: float, y: float) -> bool:
    return finite(x, y) and chart.x[0] <= x <= chart.x[1] and chart.y[0] <= y <= chart.y[1]


def mark(plt: Plt, chart: Frame, x: float, y: float, marker: str, color: Color) -> None:
    """One marker, in the cell where the braille lines pass through (x, y)."""
    if inside(chart, x, y):
        xs, ys = chart.snap([x], [y])
        plt.scatter(xs, ys, marker=marker, color=color)


def number(value: float) -> str:
    return f"{value:.3g}"


def learning_rate_notes(scene: Scene) -> list[str]:
    """The learning rate and the largest one at which plain gradient descent converges
    (2 / the largest curvature of the cost), longest first."""
    limit = scene.surface.stability_limit
    limit_text = "any" if math.isinf(limit) else number(limit)
    rate = f"lr {scene.learning_rate:g}"
    return [f"{rate} · plain GD stable below {limit_text}", f"{rate} · stable < {limit_text}", rate]


def diverged_titles(scene: Scene) -> list[str]:
    """Which epoch diverged and the stability limit, with the likely reason; longest first."""
    epoch = f"diverged at epoch {scene.diverged_at}"
    learning_rate = scene.learning_rate
    limit = number(scene.surface.stability_limit)
    if learning_rate >= scene.surface.stability_limit:
        return [
            f"{epoch} — learning rate {learning_rate:g} is above the stability limit {limit}",
            f"{epoch} — lr {learning_rate:g} > stability limit {limit}",
            epoch,
        ]
    if not scene.settings.zero_grad:
        reason = "zero_grad is off, so .grad kept growing"
    elif scene.settings.momentum > 0:
        reason = "momentum added up the steps"
    else:
        reason = f"{scene.settings.optimizer} outgrew it"
    return [
        f"{epoch} — learning rate {learning_rate:g} is below the stability limit {limit}, but {reason}",
        f"{epoch} — {reason}",
        epoch,
    ]


# --------------------------------------------------------------- the cost map
def cost_levels(surface: CostSurface, ws: np.ndarray, bs: np.ndarray, count: int = LEVELS) -> np.ndarray:
    """The level (0 lowest) of each grid cell, row i for b = bs[i]: half-decade steps of the
    cost above the optimum, counted down from the highest costs in view, so that the valley
    shows at any zoom. The top level holds at least the costliest twentieth of the cells."""
    costs = surface.grid(ws, bs)
    finite_costs = costs[np.isfinite(costs)]
    if finite_costs.size == 0:
        return np.full(costs.shape, count - 1, dtype=int)
    optimum = surface.optimum
    best = optimum.cost if optimum.cost is not None else float(finite_costs.min())
    excess = np.maximum(costs - best, 0.0)
    top = float(np.percentile(np.maximum(finite_costs - best, 0.0), 95))
    if not top > 0:
        return np.zeros(costs.shape, dtype=int)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        steps = np.floor(2.0 * np.log10(excess / top))
    steps = np.nan_to_num(steps, nan=0.0, neginf=-count, posinf=0.0)
    return np.clip(count - 1 + steps, 0, count - 1).astype(int)


def level_grid(surface: CostSurface, w_span: Span, b_span: Span, cols: int, rows: int) -> np.ndarray:
    """Levels at the middle of each cell of a cols x rows canvas, as the braille path sees it."""
    chart = Frame(w_span, b_span, ([], []), ([], []), cols, rows)
    return cost_levels(surface, *chart.braille_centres())


class SurfaceCache:
    """The last cost map, reused while the data, the range and the canvas size stay the same."""

    def __init__(self) -> None:
        self._key: tuple | None = None
        self._value: Any = None
        self.builds = 0

    def get(self, key: tuple, make: Callable[[], Any]) -> Any:
        if key != self._key:
            self._value = make()
            self._key = key
            self.builds += 1
        return self._value


def _surface_key(surface: CostSurface, *rest: Any) -> tuple:
    return (surface.sums, surface.bias, surface.loss_reduction, *rest)


def draw_levels(plt: Plt, surface: CostSurface, chart: Frame, palette: Palette, cache: SurfaceCache) -> None:
    """The cost map: painted cell backgrounds where ``plt`` can (``CellPainting``), else one
    plotext point per cell, a character and colour per level."""
    w_span, b_span = chart.x, chart.y
    if palette.colored and hasattr(plt, "paint_cells"):

        def painter(cols: int, rows: int) -> list[list[Color]]:
            def make() -> list[list[Color]]:
                levels = level_grid(surface, w_span, b_span, cols, rows)
                return [[palette.levels[level] for level in row] for row in levels.tolist()]

            return cache.get(_surface_key(surface, w_span, b_span, cols, rows, palette, "paint"), make)

        plt.paint_cells(painter)
        return

    def groups() -> list[tuple[list[float], list[float], Color, str]]:
        levels = level_grid(surface, w_span, b_span, chart.cols, chart.rows).ravel()
        ws, bs = np.linspace(*w_span, chart.cols), np.linspace(*b_span, chart.rows)  # one per cell
        xs, ys = np.tile(ws, chart.rows), np.repeat(bs, chart.cols)
        found = []
        for level in range(LEVELS):
            cells = levels == level
            if cells.any() and palette.level_marks[level] != " ":
                found.append(
                    (
                        xs[cells].tolist(),
                        ys[cells].tolist(),
                        palette.levels[level],
                        palette.level_marks[level],
                    )
                )
        return found

    key = _surface_key(surface, w_span, b_span, chart.cols, chart.rows, palette, "marks")
    for xs, ys, color, character in cache.get(key, groups):
        plt.scatter(xs, ys, marker=character, color=color)


# --------------------------------------------------------------- surface view
def with_last_point(titles: list[str]) -> list[str]:
    """Diverged titles, first with the key of the marker on the last finite point."""
    return [f"{titles[0]}  {DIVERGED} last finite point", *titles]


def surface_titles(scene: Scene) -> list[str]:
    if scene.diverged_at is not None:
        return with_last_point(diverged_titles(scene))
    optimum = f"{OPTIMUM} optimum" if scene.surface.optimum.unique else "no single optimum"
    if scene.rivals:
        return race_titles("cost J(W, b)", scene, NOW, [optimum])
    parts = ["cost J(W, b), log levels", f"{NOW} now", optimum]
    if scene.settings.zero_grad:
        parts.append(f"{STEP_HEADS[0]} next step")
    else:
        parts += [f"{STEP_HEADS[0]} step with .grad", f"{FRESH_HEADS[0]} fresh gradient"]
    return shortened(parts)


FRESH_LABEL = "-lr × fresh gradient (this epoch)"
STEP_LABEL = "step with the accumulated .grad"


def step_arrows(
    plt: Plt,
    scene: Scene,
    chart: Frame,
    start: tuple[float, float],
    end_of: Callable[[float, float], tuple[float, float]],
    colors: tuple[Color, Color],
) -> None:
    """The step about to be taken, from ``start`` to where ``peek()`` says the optimizer
    lands; with zero_grad off also this epoch's own gradient, drawn at the scale of a plain
    SGD step (-lr x gradient) so that the learner can compare it with the ``.grad`` step.
    ``end_of(w, b)`` places a (W, b) point on the chart."""
    peeked = scene.next
    if peeked is None:
        return
    step_color, fresh_color = colors
    accumulating = not scene.settings.zero_grad
    if accumulating and finite(peeked.fresh_grad_w, peeked.fresh_grad_b if scene.bias else 0.0):
        lr = peeked.learning_rate
        fresh = end_of(
            peeked.w - lr * peeked.fresh_grad_w, (peeked.b or 0.0) - lr * (peeked.fresh_grad_b or 0.0)
        )
        draw_arrow(plt, start, fresh, chart, fresh_color, FRESH_HEADS, FRESH_LABEL)
    end = end_of(peeked.w_next, peeked.b_next or 0.0)
    draw_arrow(plt, start, end, chart, step_color, STEP_HEADS, STEP_LABEL if accumulating else None)


def draw_surface(
    plt: Plt,
    scene: Scene,
    view: ViewRange,
    width: int,
    height: int,
    palette: Palette = COLOR,
    cache: SurfaceCache | None = None,
) -> None:
    """The cost over (W, b) as coloured levels, the path, the current point, the optimum and
    the next step. Without bias, the J(W) curve instead."""
    if not scene.bias:
        draw_curve(plt, scene, view, width, height, palette)
        return
    follow(view, scene)
    assert view.w is not None and view.b is not None
    chart = frame(width, height, view.w, view.b)
    setup_axes(plt, chart, width, "W", "b", learning_rate_notes(scene), surface_titles(scene))
    draw_levels(plt, scene.surface, chart, palette, cache or SurfaceCache())
    draw_rival_paths(plt, scene, chart, palette.rivals_map)
    ws, bs = path_points(scene)
    if len(ws) > 1:
        plt.plot(ws, bs, marker="braille", color=palette.map_path)  # over the rivals': the one being driven
    mark_rivals(plt, scene, chart, palette.rivals_map)
    if scene.next is not None:
        start = (scene.next.w, scene.next.b or 0.0)
        step_arrows(plt, scene, chart, start, lambda w, b: (w, b), (palette.map_step, palette.map_fresh))
    optimum = scene.surface.optimum
    if optimum.unique:
        mark(plt, chart, optimum.w, optimum.b, OPTIMUM, palette.map_optimum)  # type: ignore[arg-type]
    if scene.diverged_at is not None:
        if ws:
            mark(plt, chart, ws[-1], bs[-1], DIVERGED, palette.map_diverged)
    else:
        mark(plt, chart, scene.w, scene.b or 0.0, NOW, palette.map_now)


def draw_rival_paths(plt: Plt, scene: Scene, chart: Frame, colors: tuple[Color, ...]) -> None:
    """Each rival's path in its colour (the last drawn on top, so B last)."""
    for rival, color in reversed(list(zip(scene.rivals, colors, strict=False))):
        for run_w, run_b in clipped_runs(*rival.path(), chart):
            plt.plot(run_w, run_b, marker="braille", color=color)


def mark_rivals(plt: Plt, scene: Scene, chart: Frame, colors: tuple[Color, ...]) -> None:
    """Each rival's letter where it stands, or ✖ on its last finite point if it diverged."""
    for rival, color in zip(scene.rivals, colors, strict=False):
        ws, bs = rival.path()
        if rival.diverged_at is not None:
            if ws:
                mark(plt, chart, ws[-1], bs[-1], DIVERGED, color)
        else:
            mark(plt, chart, rival.w, rival.b or 0.0, rival.letter, color)


def clipped_runs(ws: list[float], bs: list[float], chart: Frame) -> list[tuple[list[float], list[float]]]:
    """The parts of a path inside the frame (plotext would rasterise a far-off segment point by point)."""
    runs: list[tuple[list[float], list[float]]] = []
    for i in range(len(ws) - 1):
        clipped = clip_segment((ws[i], bs[i]), (ws[i + 1], bs[i + 1]), chart)
        if clipped is None:
            continue
        (w0, b0), (w1, b1) = clipped
        if runs and runs[-1][0][-1] == w0 and runs[-1][1][-1] == b0:
            runs[-1][0].append(w1)
            runs[-1][1].append(b1)
        else:
            runs.append(([w0, w1], [b0, b1]))
    return runs


def race_titles(head: str, scene: Scene, leader: str, tail: Sequence[str] = ()) -> list[str]:
    """A race's chart titles, longest first: every contender named, then just their letters."""
    letters = [f"{leader} A", *(rival.letter + ("✖" if rival.diverged_at is not None else "")
                                for rival in scene.rivals)]  # fmt: skip
    return [
        "  ".join([head, *race_legend(scene, leader), *tail]),
        "  ".join([head, *race_legend(scene, leader)]),
        "  ".join([head, " ".join(letters), *tail]),
        "  ".join([head, " ".join(letters)]),
        head,
    ]


def race_legend(scene: Scene, leader: str) -> list[str]:
    """``● A SGD lr 0.01  B Adam lr 0.1 ...`` for a race; nothing otherwise."""
    if not scene.rivals:
        return []
    names = labels([scene.settings, *(rival.settings for rival in scene.rivals)])
    return [f"{leader} A {names[0]}"] + [
        f"{rival.letter} {name}" + (f" ✖{rival.diverged_at}" if rival.diverged_at is not None else "")
        for rival, name in zip(scene.rivals, names[1:], strict=True)
    ]


# ---------------------------------------------------------------- J(W) curve
def curve_titles(scene: Scene) -> list[str]:
    if scene.diverged_at is not None:
        return with_last_point(diverged_titles(scene))
    if scene.rivals:
        return race_titles("cost J(W)", scene, NOW)
    parts = ["cost J(W)", f"{NOW} now", f"{EARLIER} earlier W", "─ tangent: slope = gradient"]
    if not scene.surface.optimum.unique:
        parts.insert(1, "no single optimum")
    if scene.settings.zero_grad:
        parts.append(f"{STEP_HEADS[0]} next step")
    else:
        parts += [f"{STEP_HEADS[0]} step with .grad", f"{FRESH_HEADS[0]} fresh gradient"]
    return shortened(parts)


def curve_points(scene: Scene) -> tuple[list[float], list[float]]:
    """The earlier iterates as (W, the cost computed at that W), thinned and finite."""
    track = scene.track
    keep = np.isfinite(track.w) & np.isfinite(track.cost)
    return track.w[keep].tolist(), track.cost[keep].tolist()


def draw_curve(
    plt: Plt, scene: Scene, view: ViewRange, width: int, height: int, palette: Palette = COLOR
) -> None:
    """J(W) without bias: the curve, the earlier iterates, the current W with its tangent
    (slope: the gradient torch computes there) and the next step, landing on the curve."""
    follow(view, scene)
    assert view.w is not None
    surface = scene.surface
    curve_w = np.linspace(view.w[0], view.w[1], max(2 * width, 2))
    curve_cost = surface.costs(curve_w)
    top = float(np.max(curve_cost[np.isfinite(curve_cost)], initial=0.0))
    cost_span = (-0.04 * top, 1.06 * top) if top > 0 else (-1.0, 1.0)
    chart = frame(width, height, view.w, cost_span)
    setup_axes(plt, chart, width, "W", "J(W)", learning_rate_notes(scene), curve_titles(scene))
    plt.plot(curve_w.tolist(), curve_cost.tolist(), marker="braille", color=palette.curve)
    earlier_w, earlier_cost = curve_points(scene)
    peeked = scene.next
    here = (peeked.w, peeked.cost) if peeked is not None and finite(peeked.w, peeked.cost) else None
    if here is not None:
        draw_tangent(plt, chart, here, peeked.fresh_grad_w, palette.tangent)  # type: ignore[union-attr]
    if earlier_w:
        plt.scatter(*chart.snap(earlier_w, earlier_cost), marker=EARLIER, color=palette.path)
    for rival, color in zip(scene.rivals, palette.rivals, strict=False):
        # on the leader's curve: a rival with another loss reduction has its own scale
        rival_w = np.asarray(rival.path()[0], dtype=np.float64)
        rival_w = rival_w[(rival_w >= chart.x[0]) & (rival_w <= chart.x[1])]
        rival_cost = surface.costs(rival_w)
        shown = rival_cost <= chart.y[1]
        if shown.any():
            plt.scatter(
                *chart.snap(rival_w[shown].tolist(), rival_cost[shown].tolist()), marker=EARLIER, color=color
            )
        if rival.diverged_at is None:
            mark(plt, chart, rival.w, surface.cost(rival.w), rival.letter, color)
    if here is not None:
        step_arrows(plt, scene, chart, here, lambda w, b: (w, surface.cost(w)), (palette.step, palette.fresh))
    optimum = surface.optimum
    if optimum.unique:
        mark(plt, chart, optimum.w, optimum.cost, OPTIMUM, palette.optimum)  # type: ignore[arg-type]
    if here is not None:
        mark(plt, chart, here[0], here[1], NOW, palette.now)
    elif earlier_w and scene.diverged_at is not None:
        mark(plt, chart, earlier_w[-1], earlier_cost[-1], DIVERGED, palette.now)


def draw_tangent(plt: Plt, chart: Frame, here: tuple[float, float], slope: float, color: Color) -> None:
    """The tangent at ``here``: a line whose slope is the gradient, a fifth of the view wide."""
    if not finite(slope):
        return
    half = (chart.x[1] - chart.x[0]) / 5
    (w, cost) = here
    segment = clip_segment((w - half, cost - slope * half), (w + half, cost + slope * half), chart)
    if segment is not None:
        (x0, y0), (x1, y1) = segment
        plt.plot([x0, x1], [y0, y1], marker="braille", color=color)


# ------------------------------------------------------------- cost per epoch
def log_ticks(span: Span, count: int) -> tuple[list[float], list[str]]:
    """Ticks on a log10 axis: round decades (every 1, 2, 5, 10... of them), with 2 and 5
    between them when only a few decades show."""
    low, high = span
    decades = list(range(math.ceil(low), math.floor(high) + 1))
    if len(decades) * 3 <= count:
        values = [
            k + math.log10(mantissa)
            for k in range(math.floor(low), math.ceil(high) + 1)
            for mantissa in (1, 2, 5)
            if low <= k + math.log10(mantissa) <= high
        ]
    else:
        every = max(1, round(nice_step(len(decades), max(count, 1))))
        values = [float(k) for k in decades if k % every == 0]
    if not values:
        values = [low / 2 + high / 2]
    return values, [_power_label(value) for value in values]


def _power_label(log_value: float) -> str:
    value = 10**log_value
    if 1e-3 <= value < 1e5:
        return f"{value:.3g}"
    return f"{value:.0e}".replace("e-0", "e-").replace("e+0", "e").replace("e+", "e")


def cost_titles(scene: Scene) -> list[str]:
    if scene.diverged_at is not None:
        return diverged_titles(scene)
    if scene.rivals:
        return race_titles("cost per epoch (log)", scene, NOW)
    parts = ["cost per epoch (log scale)"]
    if scene.last is not None:
        parts.append(f"{number(scene.last.cost)} at epoch {scene.last.epoch}")
    lowest = lowest_cost(scene)
    if lowest is not None:
        parts.append(f"{FLOOR} lowest possible {number(lowest)}")
    return shortened(parts, " — ")


def lowest_cost(scene: Scene) -> float | None:
    """The least-squares cost, when there is one above 0 (a log scale has no 0)."""
    optimum = scene.surface.optimum
    return optimum.cost if optimum.cost is not None and optimum.cost > 0 else None


def draw_cost(plt: Plt, scene: Scene, width: int, height: int, palette: Palette = COLOR) -> None:
    """The cost of each epoch on a log scale (thinned; non-finite costs left out; a cost of
    exactly 0 drawn at the lowest positive one)."""
    tracks = [scene.track, *(rival.track for rival in scene.rivals)]
    kept = [(track.epochs[np.isfinite(track.cost)], track.cost[np.isfinite(track.cost)]) for track in tracks]
    every_cost = np.concatenate([costs for _, costs in kept])
    positive = every_cost[every_cost > 0]
    floor = float(positive.min()) if positive.size else 1e-12
    curves = [(epochs, np.log10(np.maximum(costs, floor))) for epochs, costs in kept]
    every_epoch = np.concatenate([track.epochs for track in tracks])
    first = float(every_epoch.min()) if every_epoch.size else 0.0
    last = float(every_epoch.max()) if every_epoch.size else 1.0
    x_span = (first, max(last, first + 1))
    lowest = lowest_cost(scene)
    # a rival that diverged is followed up to the edge, not given the whole scale
    ranged = [curves[0]] + [c for c, r in zip(curves[1:], scene.rivals, strict=True) if r.diverged_at is None]
    logs = np.concatenate([curve_logs for _, curve_logs in ranged])
    known = np.append(logs, math.log10(lowest)) if lowest is not None else logs
    low, high = (float(known.min()), float(known.max())) if known.size else (-1.0, 1.0)
    if high - low < 0.5:
        low, high = low - 0.25, high + 0.25
    pad = (high - low) * 0.05
    y_span = (low - pad, high + pad)
    chart = frame(width, height, x_span, y_span, log_ticks(y_span, max(2, (height - 5) // 3)))
    setup_axes(plt, chart, width, "epoch", "cost", learning_rate_notes(scene), cost_titles(scene))
    if lowest is not None:
        floor_x, floor_y = chart.snap(list(x_span), [math.log10(lowest)] * 2)  # a one-character line
        plt.plot(floor_x, floor_y, marker=FLOOR, color=palette.best_fit)
    markers = [(NOW, palette.curve, palette.now)] + [
        (rival.letter, color, color) for rival, color in zip(scene.rivals, palette.rivals, strict=False)
    ]
    drawn = list(zip(curves, markers, strict=False))
    for (epochs, curve_logs), (_, line_color, _) in reversed(drawn):  # the leader's curve on top
        for run_x, run_y in clipped_runs(epochs.tolist(), curve_logs.tolist(), chart):
            plt.plot(run_x, run_y, marker="braille", color=line_color)
    for (epochs, curve_logs), (marker, _, marker_color) in drawn:
        if epochs.size:
            mark(plt, chart, float(epochs[-1]), float(curve_logs[-1]), marker, marker_color)


# -------------------------------------------------------------- data and fit
_data_cache: dict[int, tuple[Dataset, list[float], list[float]]] = {}


def data_points(dataset: Dataset, limit: int = DATA_POINTS) -> tuple[list[float], list[float]]:
    """Up to ``limit`` of the data points, evenly strided (cached per dataset)."""
    cached = _data_cache.get(id(dataset))
    if cached is not None and cached[0] is dataset:
        return cached[1], cached[2]
    xs = dataset.x_train.flatten().numpy()
    ys = dataset.y_train.flatten().numpy()
    stride = max(1, math.ceil(xs.size / limit))
    points = (xs[::stride].astype(float).tolist(), ys[::stride].astype(float).tolist())
    _data_cache.clear()
    _data_cache[id(dataset)] = (dataset, *points)
    return points


def fit_titles(scene: Scene) -> list[str]:
    if scene.diverged_at is not None:
        return diverged_titles(scene)
    if scene.rivals:
        return race_titles("data and each contender's line", scene, "─")
    line = f"H(x) = {number(scene.w)}·x"
    if scene.b is not None:
        line += f" {'-' if scene.b < 0 else '+'} {number(abs(scene.b))}"
    return [f"data ({scene.dataset.size:,} points) and the fitted line {line}", line]


def draw_fit(plt: Plt, scene: Scene, width: int, height: int, palette: Palette = COLOR) -> None:
    """The data points, the current line H(x) = Wx + b and the least-squares line."""
    xs, ys = data_points(scene.dataset)
    x_span = _padded(np.asarray(xs), 0.05)
    y_span = _padded(np.asarray(ys), 0.08)
    chart = frame(width, height, x_span, y_span)
    setup_axes(plt, chart, width, "x", "y", learning_rate_notes(scene), fit_titles(scene))
    optimum = scene.surface.optimum
    if optimum.unique:
        _draw_line(plt, chart, optimum.w, optimum.b or 0.0, palette.best_fit, "least squares")  # type: ignore[arg-type]
    if finite(scene.w, scene.b if scene.b is not None else 0.0):
        _draw_line(plt, chart, scene.w, scene.b or 0.0, palette.fit, "H(x) = Wx + b now")
    for rival, color in zip(scene.rivals, palette.rivals, strict=False):
        if rival.diverged_at is None and finite(rival.w, rival.b if rival.b is not None else 0.0):
            _draw_line(plt, chart, rival.w, rival.b or 0.0, color, rival.letter)
    plt.scatter(*chart.snap(xs, ys), marker=EARLIER, color=palette.path, label="data")


def _draw_line(plt: Plt, chart: Frame, w: float, b: float, color: Color, label: str) -> None:
    x0, x1 = chart.x
    clipped = clip_segment((x0, w * x0 + b), (x1, w * x1 + b), chart)
    if clipped is not None:
        (a, c), (d, e) = clipped
        plt.plot([a, d], [c, e], marker="braille", color=color, label=label)


# ------------------------------------------------------------------ entry points
def draw_view(
    plt: Plt,
    name: str,
    scene: Scene,
    view: ViewRange,
    width: int,
    height: int,
    palette: Palette = COLOR,
    cache: SurfaceCache | None = None,
) -> None:
    """Draw one of ``VIEWS`` on ``plt`` (already cleared)."""
    if name == "surface":
        draw_surface(plt, scene, view, width, height, palette, cache)
    elif name == "cost":
        draw_cost(plt, scene, width, height, palette)
    elif name == "fit":
        draw_fit(plt, scene, width, height, palette)
    else:
        raise ValueError(f"unknown view {name!r}: use one of {', '.join(VIEWS)}")


def new_figure(width: int, height: int) -> ChartFigure:
    """A plotext figure of its own, of exactly this size whatever the terminal."""
    figure = ChartFigure()
    figure._limit_size(False, False)
    figure.plot_size(width, height)
    figure.theme("pro")
    return figure


def build_chart(name: str, scene: Scene, view: ViewRange, width: int, height: int, color: bool = True) -> str:
    """One chart as text (with ANSI colours if ``color``)."""
    figure = new_figure(width, height)
    draw_view(figure, name, scene, view, width, height, COLOR if color else MONO)
    text = figure.build()
    return text if color else plotext.uncolorize(text)


def render_for_terminal(race: Race, width: int, height: int, color: bool = True) -> str:
    """For ``lrtui run --plot``: the cost per epoch, then the surface (or J(W) without bias)
    with the final path of every contender, together width x height."""
    leader = race.leader
    rivals = [RivalScene.of(run.letter, run.simulation, run.history) for run in race.rivals]
    scene = scene_of(leader.simulation, leader.history, rivals=rivals)
    cost_height = max(10, height * 2 // 5)
    surface_height = max(12, height - cost_height)
    charts = [
        build_chart("cost", scene, ViewRange(), width, cost_height, color),
        build_chart("surface", scene, ViewRange(), width, surface_height, color),
    ]
    return "\n".join(chart.rstrip("\n") for chart in charts) + "\n"
