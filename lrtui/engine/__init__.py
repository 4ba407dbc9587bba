"""The training engine: settings, data, the simulation and the cost surface. No UI here.

The names below are loaded on first use (PEP 562), so ``lrtui --help`` and anything that
needs only ``lrtui.engine.settings`` answer without importing torch (about a second).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .data import DataError, Dataset, load
    from .settings import Settings, SettingsError, parse_field
    from .simulation import DivergedError, Simulation
    from .surface import CostSurface, Optimum
    from .trainer import EpochRecord

# The modules (in this package) that hold the public names.
_HOMES: dict[str, tuple[str, ...]] = {
    "data": ("DataError", "Dataset", "load"),
    "settings": ("Settings", "SettingsError", "parse_field"),
    "simulation": ("DivergedError", "Simulation"),
    "surface": ("CostSurface", "Optimum"),
    "trainer": ("EpochRecord",),
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


def __getattr__(name: str) -> Any:
    home = _HOME_OF.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{home}", __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
