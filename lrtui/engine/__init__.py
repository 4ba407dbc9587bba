"""The training engine: settings, data, the simulation and the cost surface. No UI here."""

from .data import DataError, Dataset, load
from .settings import Settings, SettingsError, parse_field
from .simulation import DivergedError, Simulation
from .surface import CostSurface, Optimum
from .trainer import EpochRecord

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
