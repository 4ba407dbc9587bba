"""Live state: the epoch, W, b, the cost and the gradients torch holds right now."""

from __future__ import annotations

import math

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from ..engine import Simulation


def number(value: float | None, width: int = 11) -> str:
    """A fixed-width number: 6 decimals while that reads well, then scientific notation."""
    if value is None:
        text = "—"
    elif not math.isfinite(value):
        text = str(value)
    elif value != 0 and not 1e-3 <= abs(value) < 1e5:
        text = f"{value:.4e}"
    else:
        text = f"{value:.6f}"
    return text.rjust(width)


class LiveState(Static):
    """Shows the run's state; the app calls ``show`` after each frame."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.border_title = "State"

    def show(self, simulation: Simulation, status: str) -> None:
        """Show the run's numbers, with the status (paused, running, diverged) on the border."""
        # The height is fixed in CSS, so a new state never needs a layout pass.
        self.update(state_table(simulation), layout=False)
        self.border_subtitle = status
        self.set_class(simulation.diverged, "-diverged")


def state_table(simulation: Simulation) -> Group:
    settings = simulation.settings
    record = simulation.last
    accumulating = not settings.zero_grad
    epoch = "—" if record is None else str(record.epoch)
    headline = Text.assemble(
        ("epoch ", "bold"),
        f"{epoch}/{settings.epochs}".ljust(12),
        ("cost ", "bold"),
        number(record and record.cost, 0),
    )
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_column(justify="right")
    header = ["", "value", ".grad (used)" if accumulating else ".grad"]
    if accumulating:
        table.add_column(justify="right")
        header.append("fresh grad")
    table.add_row(*(Text(cell, style="dim") for cell in header))
    rows = [("W", simulation.w, record and record.grad_w, record and record.fresh_grad_w)]
    if simulation.bias:
        rows.append(("b", simulation.b, record and record.grad_b, record and record.fresh_grad_b))
    for name, value, grad, fresh in rows:
        cells = [name, number(value), number(grad)]
        if accumulating:
            cells.append(number(fresh))
        table.add_row(*cells)
    parts = [headline, table]
    if accumulating:
        parts.append(Text("zero_grad() is off: .grad sums all fresh grads", style="italic yellow"))
    return Group(*parts)
