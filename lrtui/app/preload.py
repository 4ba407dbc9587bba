"""What a process that forks apps imports and does once, so that every app forked from it
shares it (``lrtui serve``'s fork server): the app, the web driver, torch, and what an app
does first."""

from __future__ import annotations

import importlib

# Modules the app imports only once it draws (found by comparing sys.modules before and after).
WARM_MODULES = ("numpy.ma", "rich.ansi", "textual.layouts.horizontal", "textual.layouts.stream")


def preload() -> None:
    """Import the app and the web driver, and warm up: a Simulation's first epochs import most
    of torch (torch._dynamo, sympy: ~70 MB and seconds of CPU), and drawing a few modules more."""
    import textual.drivers.web_driver  # noqa: F401
    from rich.cells import cell_len

    import lrtui.app.app  # noqa: F401
    from lrtui.engine import Settings, Simulation

    # Three points: small enough that torch starts no thread pool, which a forked app could not use.
    simulation = Simulation(Settings())
    for _ in range(3):
        simulation.step()
    cell_len("─●◆")
    for name in WARM_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            pass  # another version of textual or numpy: the apps import what they need
