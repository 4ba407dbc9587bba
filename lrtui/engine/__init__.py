"""The training engine: settings, data, the simulation and the cost surface. No UI here.

The names below are loaded on first use (PEP 562), so ``lrtui --help`` and anything that
needs only ``lrtui.engine.settings`` answer without importing torch (about a second).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy_names

if TYPE_CHECKING:
    from .data import DataError, Dataset, load
    from .record import EpochRecord
    from .settings import Settings, SettingsError, parse_field
    from .simulation import DivergedError, Simulation
    from .surface import CostSurface, Optimum

# The modules (in this package) that hold the public names.
_HOMES: dict[str, tuple[str, ...]] = {
    "data": ("DataError", "Dataset", "load"),
    "settings": ("Settings", "SettingsError", "parse_field"),
    "simulation": ("DivergedError", "Simulation"),
    "surface": ("CostSurface", "Optimum"),
    "record": ("EpochRecord",),
}
_HOME_OF = {name: home for home, names in _HOMES.items() for name in names}

__all__ = [
    "CostSurface",
    "DataError",
    "Dataset",
    "DivergedError",
    "EpochRecord",
    "Optimum",
    "Settings",
    "SettingsError",
    "Simulation",
    "load",
    "parse_field",
]


__getattr__, __dir__ = lazy_names(__name__, _HOME_OF, globals(), __all__)
