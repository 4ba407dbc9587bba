"""The code view: the plain PyTorch script for the current settings, the phase of the epoch
being stepped through, and the optimizer's state as numbers."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console, Group
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Static

from ...engine.run import Run
from ...engine.script import PHASES, phase_lines, script_for
from ...engine.settings import OPTIMIZER_NAMES
from .state import number

PHASE_TITLES = {
    "forward": "1. forward and cost",
    "zero_grad": "2. optimizer.zero_grad()",
    "backward": "3. cost.backward()",
    "step": "4. optimizer.step()",
}


class CodeView(Horizontal):
    """Shows what the app is running as the lessons would write it; ``show`` redraws it."""

    SCOPED_CSS = False  # its small-screen rules start from the screen's class, above it
    DEFAULT_CSS = """
    CodeView {
        border: round $primary 50%;
        border-title-color: $text;
    }
    CodeView #code-scroll {
        width: 2fr;
        scrollbar-size-vertical: 1;
    }
    CodeView #code-state {
        width: 1fr;
        min-width: 36;
        padding: 0 1;
    }
    /* a small screen stacks the state under the code */
    Screen.-compact CodeView {
        layout: vertical;
    }
    Screen.-compact CodeView #code-scroll {
        width: 1fr;
        height: 1fr;
    }
    Screen.-compact CodeView #code-state {
        width: 1fr;
        height: auto;
        max-height: 8;
    }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.border_title = "PyTorch code"
        self._script_key: tuple | None = None
        self._lines: dict[str, int] = {}
        self._script = ""

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="code-scroll"):
            yield Static(id="code-script")
        yield Static(id="code-state")

    def show(self, run: Run) -> None:
        highlight = self._lines.get(run.phase) if run.mid_epoch and run.phase else None
        key = (run.settings, highlight)
        if key != self._script_key:
            if self._script_key is None or self._script_key[0] != run.settings:
                self._script = script_for(run.settings, run.dataset)
                self._lines = phase_lines(self._script)
                highlight = self._lines.get(run.phase) if run.mid_epoch and run.phase else None
            self._script_key = (run.settings, highlight)
            syntax = Syntax(
                self._script,
                "python",
                line_numbers=True,
                highlight_lines={highlight} if highlight else set(),
                theme="monokai",
                word_wrap=True,  # a long line wraps onto the next rather than being cut
            )
            self.query_one("#code-script", Static).update(syntax)
            # the phase's line; between steps the loop (its forward line), not the docstring
            line = highlight or self._lines.get(PHASES[0])
            if line:
                self.call_after_refresh(self._scroll_to_line, syntax, line)
        # a small screen stacks this box under the code, a few rows high: phase and state side by side
        side_by_side = self.screen.has_class("-compact")
        self.query_one("#code-state", Static).update(state_panel(run, side_by_side), layout=False)

    def _scroll_to_line(self, syntax: Syntax, line: int) -> None:
        """Scroll the phase's line a third of the way down the code, wherever long lines above
        it wrapped (at 80x24 the code shows only a few rows, so it must be found exactly)."""
        scroll = self.query_one("#code-scroll", VerticalScroll)
        width = self.query_one("#code-script", Static).content_size.width
        row = wrapped_row(syntax, line, width) if width > 0 else line - 1
        scroll.scroll_to(y=max(row - scroll.scrollable_content_region.height // 3, 0), animate=False)


def wrapped_row(syntax: Syntax, line: int, width: int) -> int:
    """The row (from 0) on which line ``line`` (from 1) of the code starts, ``width`` wide."""
    console = Console(width=width, file=io.StringIO(), color_system=None)
    rows = console.render_lines(syntax, console.options.update_width(width), pad=False)
    gutter = len(str(syntax.code.count("\n") + 1)) + 3  # ❱ on the highlighted line, its number
    for row, segments in enumerate(rows):
        numbers = "".join(segment.text for segment in segments)[:gutter].split()
        if numbers and numbers[-1] == str(line):  # a wrapped line's later rows have a blank gutter
            return row
    return line - 1


def state_panel(run: Run, side_by_side: bool = False) -> Group | Table:
    if side_by_side:
        both = Table.grid(padding=(0, 3))
        both.add_row(phase_table(run), optimizer_table(run))
        return both
    parts: list[Group | Text] = [phase_table(run), Text("")]
    parts.append(optimizer_table(run))
    return Group(*parts)


def phase_table(run: Run) -> Group:
    """The last phase done, with W, b, their .grad and the cost before → after it; the step
    phase stays on show after it ends the epoch, until the next key moves the run."""
    if run.phase is None or run.phase_numbers is None:
        return Group(
            Text("phase: no epoch in progress", style="bold"),
            Text("p runs the next epoch one phase at a time", style="dim"),
        )
    before, after = run.phase_numbers
    position = PHASES.index(run.phase) + 1
    epoch = run.epoch if run.mid_epoch or run.last is None else run.last.epoch
    table = Table.grid(padding=(0, 1))
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_column()
    table.add_column(justify="right")
    for name in before:
        if before[name] is None and after[name] is None and name.startswith("b") and not run.bias:
            continue
        changed = before[name] != after[name]
        style = "bold yellow" if changed else ""
        table.add_row(name, number(before[name], 0), "→", Text(number(after[name], 0), style=style))
    cost = number(run.phase_cost, 0)
    if run.phase == "forward":  # the phase that computes it
        table.add_row("cost", number(None, 0), "→", Text(cost, style="bold yellow"))
    else:
        table.add_row("cost", cost, "→", cost)
    done = "; the epoch is done" if run.phase == "step" and not run.mid_epoch else ""
    return Group(
        Text(f"epoch {epoch}, phase {position}/4{done}", style="bold"),
        Text(PHASE_TITLES[run.phase], style="bold cyan"),
        table,
    )


def optimizer_table(run: Run) -> Group:
    settings = run.settings
    title = Text(f"{OPTIMIZER_NAMES[settings.optimizer]}.state", style="bold")
    rows = run.optimizer_state()
    if not rows:
        plain_sgd = settings.optimizer == "sgd" and settings.momentum == 0
        why = "plain SGD keeps no state" if plain_sgd else "empty until the first step()"
        return Group(title, Text(why, style="dim"))
    table = Table.grid(padding=(0, 1))
    table.add_column(style="bold")
    table.add_column()
    table.add_column(justify="right")
    for name, key, value in rows:
        if key == "step" and isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, tuple):  # L-BFGS's direction d and last gradient: one number per parameter
            shown = ", ".join(number(item, 0) for item in value)
        else:
            shown = number(value, 0) if isinstance(value, float) else str(value)
        table.add_row(name, key, shown)
    return Group(title, table)
