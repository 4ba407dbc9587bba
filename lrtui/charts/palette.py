"""The colours and characters of the charts: the two palettes (``COLOR``, ``MONO``), the
glyphs that mark the current point, the optimum, a divergence, earlier points, the lowest
possible cost and the arrow heads, and the line styles. Every mark differs from the others
by its glyph or its line style, so that the charts read without colour (``MONO``).

This bottom layer knows nothing of plotext or of the engine.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

Color = tuple[int, int, int] | str  # RGB, or a plotext colour name

LEVELS = 10  # coloured levels of the cost map, half a decade apart

STEP_HEADS = "→↗↑↖←↙↓↘"  # arrow heads by direction, counter-clockwise from east
FRESH_HEADS = "▶◥▲◤◀◣▼◢"
NOW = "●"
OPTIMUM = "◆"
BATCH_OPTIMUM = "◇"  # the optimum of the next step's mini-batch alone
BATCH_POINT = "●"  # the points of the next step's mini-batch
DIVERGED = "✖"
RIDGE_OPTIMUM = "◈"  # where coupled weight decay settles: the minimum of J + λ/2 (W² + b²)
PROBE = "∘"  # a point L-BFGS's closure evaluates inside the next step
EARLIER = "•"
FLOOR = "┈"

# Line styles, so that no mark is told apart by colour alone: the lengths of a line's dashes
# and gaps in columns along it (a row counts two), None for a solid line; and each one's key.
Dashes = tuple[float, ...] | None
SOLID: Dashes = None
DASHED: Dashes = (2.0, 1.5)
DOTTED: Dashes = (0.5, 1.5)
LINE_KEYS: dict[Dashes, str] = {SOLID: "─", DASHED: "╌", DOTTED: "┈"}


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
    map_axes: Color = (200, 200, 200)  # the principal axes over the cost map

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
