"""Where things go on a chart: the steady view range over (W, b), the frame (spans, ticks and
canvas size), the axes, snapping markers to the cells braille lines pass through, and
clipping segments to the frame.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .canvas import Plt
from .scene import Scene

Span = tuple[float, float]
MARGIN = 0.12  # room around what a view must hold, as a fraction of its span
LEAD = 0.25  # more room on the side a point left the view by, as a fraction of the new span
SOON = 8  # a re-range this many frames after the last one finds the run in a hurry
CALM = 2  # quick re-ranges in a row that are only a run starting out
MAX_HURRY = 3  # the room ahead doubles with each hurried re-range, up to 2**MAX_HURRY times


# ------------------------------------------------------------------------ the view range
def finite(*values: float | None) -> bool:
    """True when every value is a number, neither None, nan nor infinite."""
    return all(value is not None and math.isfinite(value) for value in values)


def padded(values: np.ndarray, margin: float) -> Span:
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


Points = tuple[np.ndarray, np.ndarray | None]  # W values, and b values or None without bias


class ViewRange:
    """The part of the (W, b) plane a chart shows, steady from frame to frame.

    ``keep`` holds the range while the points that must be seen (the current point, the end
    of its next step) are inside it. When one would leave, it widens the range to hold them
    and everything worth seeing (the path, the optimum), with a margin, and with ``lead``
    times the width more room on the side it left by, so that a run moving outwards gets
    many frames before the next re-range. A run that keeps leaving (a third re-range in a row
    each within ``SOON`` frames of the one before: a run blowing up) gets twice the room, on
    both sides, and twice more each time, so that even then the view changes only every few
    frames. The range only grows, until ``reset``. Non-finite points are ignored. Without
    bias ``b`` is None and only W is ranged.
    """

    def __init__(self, margin: float = MARGIN, lead: float = LEAD) -> None:
        self.margin = margin
        self.lead = lead
        self.w: Span | None = None
        self.b: Span | None = None
        self.frames = 0  # frames kept since the last re-range
        self.hurried = 0  # re-ranges in a row that each came soon after the one before

    def reset(self) -> None:
        self.w = None
        self.b = None
        self.frames = self.hurried = 0

    def contains(self, w: float, b: float | None = None) -> bool:
        if self.w is None or not self.w[0] <= w <= self.w[1]:
            return False
        return b is None or self.b is None or self.b[0] <= b <= self.b[1]

    def fit(
        self, ws: Sequence[float] | np.ndarray, bs: Sequence[float | None] | np.ndarray | None = None
    ) -> None:
        """Range to hold these points (finite ones only), with the margin."""
        self.w = padded(_floats(ws), self.margin)
        self.b = None if bs is None else padded(_floats(bs), self.margin)

    def keep(self, must: Points, held: Points) -> bool:
        """Keep the range while every finite ``must`` point is inside; else (or with no range
        yet) range it to hold ``must`` and ``held``. True if it changed."""
        must_w, must_b = _floats(must[0]), None if must[1] is None else _floats(must[1])
        finite_must = np.isfinite(must_w) & (np.isfinite(must_b) if must_b is not None else True)
        must_w = must_w[finite_must]
        must_b = None if must_b is None else must_b[finite_must]
        every_w = np.concatenate([_floats(held[0]), must_w])
        every_b = None if must_b is None or held[1] is None else np.concatenate([_floats(held[1]), must_b])
        if self.w is None:
            self.fit(every_w, every_b)
            self.frames = self.hurried = 0
            return True
        inside_b = must_b is None or self.b is None or _inside(self.b, must_b)
        if _inside(self.w, must_w) and inside_b:
            self.frames += 1
            return False
        self.hurried = self.hurried + 1 if self.frames < SOON else 0
        hurry = min(max(self.hurried - CALM, 0), MAX_HURRY)
        lead = self.lead * 2**hurry
        self.w = _widened(self.w, padded(every_w, self.margin), must_w, lead, both=hurry > 0)
        if self.b is not None and every_b is not None and must_b is not None:
            self.b = _widened(self.b, padded(every_b, self.margin), must_b, lead, both=hurry > 0)
        self.frames = 0
        return True


def _inside(span: Span, values: np.ndarray) -> bool:
    return bool(((values >= span[0]) & (values <= span[1])).all())


def _widened(span: Span, wanted: Span, must: np.ndarray, lead: float, both: bool) -> Span:
    """``span`` itself while every ``must`` value is inside it; else grown to hold ``wanted``,
    with ``lead`` times the new width more on the side a ``must`` value left by (on both
    sides if ``both``)."""
    low, high = span
    below, above = bool((must < low).any()), bool((must > high).any())
    if not (below or above):
        return span
    low, high = min(low, wanted[0]), max(high, wanted[1])
    extra = lead * (high - low)
    return (low - extra if below or both else low, high + extra if above or both else high)


def held_points(scene: Scene) -> Points:
    """What the view should hold when it re-ranges: the whole path (the track's bounds hold
    the epochs thinned out of it), where the last step landed, the next point, the optimum
    and the rivals' paths."""
    track = scene.track
    held_w: list[float | None] = [*(track.w_bounds or ())]
    held_b: list[float | None] = [*(track.b_bounds or ())]
    if track.end is not None:
        held_w.append(track.end[0])
        held_b.append(track.end[1])
    if scene.next is not None:
        held_w.append(scene.next.w_next)
        held_b.append(scene.next.b_next)
    optimum = scene.surface.optimum
    if optimum.unique:
        held_w.append(optimum.w)
        held_b.append(optimum.b)
    # a rival that diverged would stretch the view until nothing else can be seen
    racing = [rival.path() for rival in scene.rivals if rival.diverged_at is None]
    ws = np.concatenate([_floats(held_w), *(_floats(rival_ws) for rival_ws, _ in racing)])
    if not scene.bias:
        return ws, None
    return ws, np.concatenate([_floats(held_b), *(_floats(rival_bs) for _, rival_bs in racing)])


def must_points(scene: Scene) -> Points:
    """What must always be in view: the current point, the end of its next step and where
    each racing rival stands."""
    ws: list[float | None] = [scene.w]
    bs: list[float | None] = [scene.b]
    if scene.next is not None:
        ws.append(scene.next.w_next)
        bs.append(scene.next.b_next)
    for rival in scene.rivals:
        if rival.diverged_at is None:
            ws.append(rival.w)
            bs.append(rival.b)
    return _floats(ws), _floats(bs) if scene.bias else None


def follow(view: ViewRange, scene: Scene) -> bool:
    """Re-range the view if the current point, the end of its next step or a rival would
    leave it; True if it did."""
    return view.keep(must_points(scene), held_points(scene))


# ------------------------------------------------------------------- ticks and the frame
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


# ------------------------------------------------------------------------------ clipping
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
