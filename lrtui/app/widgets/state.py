"""Live state: the epoch, W, b, the cost and the gradients torch holds right now."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from ...charts.palette import COLOR, Color

if TYPE_CHECKING:  # the state pane is painted before torch is imported (it says so)
    from ...engine.race import Race
    from ...engine.run import Run

BASE_HEIGHT = 7  # borders, the headline, the table of W and b, and the zero_grad note


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

    DEFAULT_CSS = """
    LiveState {
        height: 7;
        border: round $primary 50%;
        border-title-color: $text;
        border-subtitle-color: $text;
        padding: 0 1;
    }
    LiveState.-diverged {
        border: round $error;
        border-subtitle-color: $error;
        border-subtitle-style: bold;
    }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.border_title = "State"
        self._shown: tuple[Race, str] | None = None

    def on_resize(self) -> None:
        if self._shown is not None and self.screen.has_class("-compact"):
            self.show(*self._shown)  # a new width can wrap the small screen's lines differently

    def show_loading(self, lines: list[Text]) -> None:
        """Before the run is open: what is loading, and the keys waiting for it."""
        height = 2 + len(lines)
        if self.styles.height is None or self.styles.height.value != height:
            self.styles.height = height
        self.update(Group(*lines))
        self.border_subtitle = "loading…"

    def show(self, race: Race, status: str) -> None:
        """Show the leader's numbers, with the status (paused, running, diverged) on the border,
        and the contenders racing it: a line each, or one line for all on a small screen."""
        self._shown = (race, status)
        leader, rivals = race.leader, race.rivals
        compact = self.screen.has_class("-compact")
        lines: list[Text] = []
        if rivals and compact:
            lines.append(race_summary(rivals))
        elif rivals:
            names = race.labels()[1:]
            lines = [
                rival_line(rival, name, i) for i, (rival, name) in enumerate(zip(rivals, names, strict=True))
            ]
        # The height changes only when contenders join or leave or the screen changes size,
        # so a new state never needs a layout pass.
        loop = loop_line(leader, compact)
        if compact:
            # a small screen gives the chart every row it can: the numbers in two lines, and
            # every rival's cost in a third when racing
            shown = [*compact_state(leader), *loop, *lines]
            body: Group = Group(*shown)
            height = 2 + self.rows_for(shown)
        else:
            width = self.content_size.width or 80
            table = state_table(leader, width=width)
            body = Group(table, *loop, *lines) if lines or loop else table
            height = BASE_HEIGHT + len(lines) + len(loop) + (1 if leader.settings.standardize else 0)
            if leader.dataset.features > 1:  # w1..wk and b in as many side-by-side groups as fit
                rows = -(-(leader.dataset.features + int(leader.bias)) // groups_for(width))
                height += rows - 2
        if self.styles.height is None or self.styles.height.value != height:
            self.styles.height = height
        self.update(body, layout=False)
        self.border_subtitle = status
        self.set_class(leader.diverged, "-diverged")

    def rows_for(self, lines: list[Text]) -> int:
        """The rows these lines take at this pane's width: with the parameter panel open beside
        it, a small screen's state wraps (and a fixed height would hide the gradients)."""
        width = self.content_size.width
        if width <= 0:
            return len(lines)
        # Most frames every line fits: wrapping is only worked out for one that does not.
        return sum(1 if line.cell_len <= width else len(line.wrap(self.app.console, width)) for line in lines)


def _letter(rival: Run, index: int) -> tuple[str, str]:
    return (rival.letter, f"bold {_rgb(COLOR.rivals[index])}")


def rival_line(rival: Run, label: str, index: int) -> Text:
    """``B Adam lr 0.1  W 0.660  b 0.417  cost 0.152018``, the letter in the rival's chart colour."""
    record = rival.last
    line = Text.assemble(_letter(rival, index), " ", (label[:28].ljust(29), "dim"))
    if rival.diverged:
        line.append(f"diverged at epoch {rival.diverged_at}", style="bold red")
        return line
    line.append(f"{'W' if rival.dataset.features == 1 else 'w1'} {number(rival.w, 0)}  ")
    if rival.bias:
        line.append(f"b {number(rival.b, 0)}  ")
    line.append(f"cost {number(record.cost if record else None, 0)}")
    return line


def race_summary(rivals: list[Run]) -> Text:
    """Every rival's cost on one line (``B 0.082940  C 1.0419e-04  D ✖19``) for a small screen."""
    line = Text("cost ", style="bold")
    for index, rival in enumerate(rivals):
        line.append_text(Text.assemble(_letter(rival, index), " "))
        if rival.diverged:
            line.append(f"✖{rival.diverged_at}  ", style="bold red")
        else:
            record = rival.last
            line.append(f"{number(record.cost if record else None, 0)}  ")
    return line


def _rgb(color: Color) -> str:
    if isinstance(color, str):
        return color
    red, green, blue = color
    return f"rgb({red},{green},{blue})"


SUMMED_EPOCHS = 10_000
SPARKS = "▁▂▃▄▅▆▇█"
SPARK_EPOCHS = 12


def sparkline(values: list[float]) -> str:
    """Sizes as bar heights, the largest a full block (an empty or all-zero list: flat)."""
    top = max((abs(v) for v in values if math.isfinite(v)), default=0.0)
    if not top:
        return SPARKS[0] * len(values)
    return "".join(
        SPARKS[min(len(SPARKS) - 1, int(abs(v) / top * (len(SPARKS) - 1) + 0.5))] if math.isfinite(v) else "!"
        for v in values
    )


def fresh_grads_summed(run: Run) -> int | None:
    """How many epochs' fresh gradients ``.grad`` holds now: the n for which the last n fresh
    gradients of W add up to the W.grad the last step used (None if no n does)."""
    import numpy as np  # here: the state pane is painted before numpy (and torch) are imported

    history = run.history
    if run.last is None or not len(history):
        return None
    # Drawn every frame: the sums of the last 1, 2, 3, ... fresh gradients at once (numpy), not
    # a Python loop; at most SUMMED_EPOCHS back, all within the history's unthinned tail.
    fresh = np.frombuffer(history.columns["fresh_grad_w"], dtype=np.float64)[-SUMMED_EPOCHS:]
    sums = np.cumsum(fresh[::-1])
    del fresh  # a live view would stop the history's array from growing
    found = np.flatnonzero(np.isclose(sums, run.last.grad_w, rtol=1e-4, atol=1e-12))
    return int(found[0]) + 1 if found.size else None


def accumulation_line(run: Run) -> Text:
    """zero_grad off: how the .grad the step used was made, in numbers."""
    record = run.last
    count = fresh_grads_summed(run) if record is not None else None
    if record is None or count is None:
        return Text("zero_grad() is off: .grad sums all fresh grads", style="italic yellow")
    ratio = record.grad_w / record.fresh_grad_w if record.fresh_grad_w else math.inf
    return Text(
        f"zero_grad() off: W.grad = the sum of {count} fresh grads = {ratio:.3g} × this step's",
        style="italic yellow",
    )


def epoch_and_cost(run: Run) -> tuple[str, float | None]:
    """The state's headline: the last step's epoch and its cost, or the step in progress
    phase by phase and its cost once forward has run."""
    phased = step_in_phases(run)
    if phased is not None:
        where, _, cost = phased
        return where, cost
    record = run.last
    return epoch_text(run), record.cost if record else None


def epoch_text(run: Run) -> str:
    """``3/1000`` for the last step's epoch, ``3/1000, batch 2/4`` with mini-batches."""
    record = run.last
    if record is None:
        return f"—/{run.settings.epochs}"
    text = f"{record.epoch}/{run.settings.epochs}"
    return text if record.batch is None else f"{text}, batch {record.batch}/{record.batches}"


def loop_line(run: Run, compact: bool = False) -> list[Text]:
    """With mini-batches or a schedule, one line: the last batch's points, the lr the next step
    uses and, with a schedule, the next lr it sets and from which epoch (nothing for the lessons' loop)."""
    settings = run.settings
    if not settings.mini_batches and settings.scheduler == "none":
        return []
    line = Text()
    batch = run.last_batch()
    if batch is not None:
        xs = batch[0].flatten().tolist()
        points = f"{len(xs)} point{'s' if len(xs) != 1 else ''}"
        spread = "" if compact else f", x {min(xs):.3g}…{max(xs):.3g}"
        line.append_text(Text.assemble(("batch ", "bold"), f"{points}{spread}  "))
    elif settings.mini_batches:
        line.append_text(Text.assemble(("batches ", "bold"), f"{run.batches_per_epoch} an epoch  "))
    line.append_text(Text.assemble(("lr ", "bold"), f"{run.learning_rate_in_use:.6g}"))
    ahead = run.learning_rate_ahead()
    if ahead is not None:
        line.append(f" → {ahead[0]:.6g} from epoch {ahead[1]}", style="cyan")
    return [line]


PHASE_NAMES = ("forward", "zero_grad", "backward", "step")  # engine.script.PHASES (torch-free here)


def step_in_phases(run: Run) -> tuple[str, dict[str, float | None], float | None] | None:
    """A step run phase by phase (p) and not done yet: where it stands (``2/1000, phase 3/4``),
    W, b and their .grad as torch holds them now, and the cost once forward has run. None
    between steps."""
    if not run.mid_epoch or run.phase is None or run.phase_numbers is None:
        return None
    _, now = run.phase_numbers
    where = f"{run.epoch}/{run.settings.epochs}, phase {PHASE_NAMES.index(run.phase) + 1}/4 ({run.phase})"
    return where, now, run.phase_cost


def parameters(run: Run) -> list[tuple[str, float | None, float | None, float | None]]:
    """Each parameter's name, value now, the .grad the last step used and its fresh gradient:
    W and b, or w1..wk and b with k features. Mid-step (p), the value and .grad torch holds
    after the last phase, and no fresh gradient yet."""
    phased = step_in_phases(run)
    if phased is not None:
        _, now, _ = phased
        names = ["W"] if run.dataset.features == 1 else [f"w{j}" for j in range(1, run.dataset.features + 1)]
        keys = ["W", *(f"w{j}" for j in range(2, run.dataset.features + 1))]
        rows_now: list[tuple[str, float | None, float | None, float | None]] = [
            (name, now.get(key), now.get(f"{key}.grad"), None) for name, key in zip(names, keys, strict=True)
        ]
        if run.bias:
            rows_now.append(("b", now.get("b"), now.get("b.grad"), None))
        return rows_now
    record = run.last
    if run.dataset.features == 1:
        rows = [("W", run.w, *((record.grad_w, record.fresh_grad_w) if record else (None, None)))]
        values: list[float | None] = [run.w]
    else:
        names = [f"w{j}" for j in range(1, run.dataset.features + 1)]
        values = list(run.weights)
        grads = list(record.weights("grad_w")) if record else [None] * len(names)
        fresh = list(record.weights("fresh_grad_w")) if record else [None] * len(names)
        rows = list(zip(names, values, grads, fresh, strict=True))
    if run.bias:
        rows.append(("b", run.b, *((record.grad_b, record.fresh_grad_b) if record else (None, None))))
    return rows


def compact_parameters(run: Run) -> list[Text]:
    """k features on a small screen: a line each for the values, the .grad and the fresh
    gradients, every number whole (a line too long for the pane wraps, ``LiveState.rows_for``)."""
    epoch, cost = epoch_and_cost(run)
    head = Text.assemble(("epoch ", "bold"), f"{epoch}  ", ("cost ", "bold"), number(cost, 0))
    rows = parameters(run)
    lines = [head]
    for title, at in (("now ", 0), (".grad ", 1), ("fresh ", 2)):
        if at == 2 and run.settings.zero_grad:
            continue  # with zero_grad on, .grad is the fresh gradient
        line = Text(title, style="bold")
        for name, *numbers in rows:
            line.append_text(Text.assemble((f"{name} ", "dim"), number(numbers[at], 0), "  "))
        lines.append(line)
    units = x_units_line(run)
    if units is not None:
        lines.append(units)
    return lines


def compact_state(run: Run) -> list[Text]:
    """The state in two lines for a small screen: epoch, cost, W and b; then the gradients
    (with zero_grad off, how many fresh gradients .grad holds)."""
    if run.dataset.features > 1:
        return compact_parameters(run)
    record = None if step_in_phases(run) is not None else run.last  # mid-step: the phase's numbers
    epoch, cost = epoch_and_cost(run)
    (_, w, grad_w, _), *rest = parameters(run)
    first = Text.assemble(
        ("epoch ", "bold"), f"{epoch}  ", ("cost ", "bold"), number(cost, 0), ("  W ", "bold"), number(w, 0)
    )
    if rest:
        first.append_text(Text.assemble(("  b ", "bold"), number(rest[0][1], 0)))
    grads = Text.assemble((".grad ", "bold"), f"W {number(grad_w, 0)}")
    if rest:
        grads.append(f"  b {number(rest[0][2], 0)}")
    units = x_units_line(run)
    if units is not None:  # on the shorter line: a small screen has no row to spare
        grads.append_text(Text("  ")).append_text(units)
    if not run.settings.zero_grad and record is not None:
        count = fresh_grads_summed(run)
        held = f"sum of {count} fresh" if count else "accumulated"
        grads.append(f"  ({held}; fresh W {number(record.fresh_grad_w, 0)})", style="italic yellow")
    return [first, grads]


GROUP_WIDTH = 44  # a parameter's name, value, .grad and fresh gradient, with the gaps between


def groups_for(width: int) -> int:
    """How many side-by-side groups of parameters fit in ``width`` columns."""
    return max(1, (width + 2) // (GROUP_WIDTH + 2))


def parameters_table(run: Run, width: int) -> Table:
    """w1..wk and b with value, .grad and fresh gradient, in as many groups side by side as the
    pane's width takes, so that every number is whole and the pane stays short."""
    groups = groups_for(width)
    rows = parameters(run)
    per = -(-len(rows) // groups)
    groups = -(-len(rows) // per)
    table = Table.grid(padding=(0, 2))
    for _ in range(groups):
        table.add_column(style="bold")
        table.add_column(justify="right")
        table.add_column(justify="right")
        table.add_column(justify="right")
    grad = ".grad (used)" if not run.settings.zero_grad else ".grad"
    table.add_row(*(Text(cell, style="dim") for cell in ["", "value", grad, "fresh grad"] * groups))
    for index in range(per):
        cells: list[str] = []
        for group in range(groups):
            at = group * per + index
            if at < len(rows):
                name, value, grad_value, fresh = rows[at]
                cells += [name, number(value), number(grad_value), number(fresh)]
            else:
                cells += [""] * 4
        table.add_row(*cells)
    return table


def state_table(run: Run, note: bool = True, width: int = 80) -> Group:
    settings = run.settings
    accumulating = not settings.zero_grad
    epoch, cost = epoch_and_cost(run)
    if run.dataset.features > 1:
        headline = Text.assemble(("epoch ", "bold"), epoch.ljust(max(12, len(epoch) + 2)), ("cost ", "bold"),
                                 number(cost, 0))  # fmt: skip
        parts: list[Text | Table] = [headline, parameters_table(run, width)]
        units = x_units_line(run)
        if units is not None:
            parts.append(units)
        if accumulating and note:
            parts.append(Text("zero_grad() is off: .grad sums all fresh grads", style="italic yellow"))
        return Group(*parts)
    headline = Text.assemble(
        ("epoch ", "bold"),
        epoch.ljust(max(12, len(epoch) + 2)),
        ("cost ", "bold"),
        number(cost, 0),
    )
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_column(justify="right")
    header = ["", "value", ".grad (used)" if accumulating else ".grad"]
    if accumulating:
        table.add_column(justify="right")
        table.add_column()
        header += ["fresh grad", f"|.grad|, last {SPARK_EPOCHS} epochs"]
    table.add_row(*(Text(cell, style="dim") for cell in header))
    rows = [(*row, column) for row, column in zip(parameters(run), ("grad_w", "grad_b"), strict=False)]
    for name, value, grad, fresh, column in rows:
        cells = [name, number(value), number(grad)]
        if accumulating:
            recent = list(run.history.columns[column][-SPARK_EPOCHS:])
            cells += [number(fresh), sparkline(recent)]
        table.add_row(*cells)
    parts = [headline, table]
    units = x_units_line(run)
    if units is not None:
        parts.append(units)
    if accumulating and note:
        parts.append(accumulation_line(run))
    return Group(*parts)


def x_units_line(run: Run) -> Text | None:
    """For a standardized run: the line W x + b in x's own units (W = W'/σ, b = b' - W'μ/σ)."""
    from ...engine.scaling import scaling_of  # torch is loaded once a run is shown

    scaling = scaling_of(run.dataset, run.settings)
    if scaling is None:
        return None
    if run.dataset.features > 1:
        weights, b = scaling.original_weights(run.weights, run.b)
        line = Text("in x's units ", style="dim")
        for j, w in enumerate(weights, start=1):
            line.append_text(Text.assemble((f"w{j} ", "bold"), number(w, 0), "  "))
        return line.append_text(Text.assemble(("b ", "bold"), number(b, 0)))
    w, b = scaling.original(run.w, run.b)
    return Text.assemble(
        ("in x's units ", "dim"), ("W ", "bold"), number(w, 0), ("  b ", "bold"), number(b, 0)
    )
