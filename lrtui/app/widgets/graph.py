"""The graph view: the autograd graph of the cost of the leader's current step, as torch built
it (``engine.graph``), in place of the chart (``g``).

Laid out left to right, from the leaves (the parameters' ``AccumulateGrad`` and the data) to
the cost, where it fits; otherwise (80x24) as a column of nodes, inputs first. Each node shows
the tensor it produced; once backward has run (the phases, ``p``, or ``B`` one node at a time on
a copy) each edge shows the gradient torch sent along it, and each ``AccumulateGrad`` ``.grad``
before, the gradient arriving and ``.grad`` after. ``2`` calls ``cost.backward()`` a second
time (on a copy) and shows torch's own error, and what ``retain_graph=True`` would change.

The graph is built on a copy of the trainer only while the view is shown, once for each move
of the run, and at most ``GRAPH_RATE`` times a second while the run runs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from .state import number

if TYPE_CHECKING:
    from ...engine.graph import Graph, SecondBackward, Value
    from ...engine.race import Race
    from ...engine.run import Run

GRAPH_RATE = 8  # rebuilds a second at most while the run runs
GAP = 2  # the columns between two layers: a junction and an arrowhead
HINT = "p: the phases · B: backward one node · 2: backward again · g: the chart"

STYLES = {"op": "bold cyan", "leaf": "bold yellow", "input": "bold"}
GRADIENT = "green"
LINE = "grey50"


@dataclass
class Reveal:
    """How much of backward the view shows: the nodes of ``graph.order`` that have run, the
    phase of the step (None between steps) and the second backward, when asked for."""

    ran: int = 0
    phase: str | None = None
    second: SecondBackward | None = None
    after_step: bool = False
    stepping: bool = False  # B: the last node that ran is marked


def scalar(value: float, width: int) -> str:
    """A number as the state pane writes it, with fewer digits where it does not fit (never
    fewer than 4 significant ones)."""
    text = number(value, 0)
    for digits in (5, 4):
        if len(text) > width:
            text = f"{value:.{digits}g}"
    return text


def short(value: Value | None, width: int) -> str:
    """A tensor in ``width`` cells: a scalar as the state pane shows it; else its shape and first
    values, cut with … where they do not fit."""
    if value is None:
        return "None"
    if value.scalar is not None:
        return scalar(value.scalar, width)
    shape = "(" + ",".join(map(str, value.shape)) + ")"
    text = shape + " " + ", ".join(f"{v:.4g}" for v in value.values)
    if value.count > len(value.values):
        text += ", …"
    return text if len(text) <= width else text[: width - 1] + "…"


def first(value: Value | None, width: int) -> str:
    """A gradient under the tensor it is the gradient of (same shape): its first value."""
    if value is None or value.scalar is not None:
        return short(value, width)
    return scalar(value.values[0], width - 1) + "…"


def full(value: Value | None) -> str:
    """A tensor in full where it is small: its shape and every value kept, as the state pane
    writes numbers."""
    if value is None:
        return "None"
    if value.scalar is not None:
        return number(value.scalar, 0)
    shape = "(" + ", ".join(map(str, value.shape)) + ")"
    shown = ", ".join(number(v, 0) for v in value.values)
    more = f", … ({value.count} in all)" if value.count > len(value.values) else ""
    return f"{shape} [{shown}{more}]"


def node_title(graph: Graph, index: int) -> str:
    node = graph.nodes[index]
    if node.kind == "leaf":
        return f"AccumulateGrad ({node.tensor})"
    return node.name


class GraphText:
    """What each node shows, given how much of backward has run."""

    def __init__(self, graph: Graph, reveal: Reveal) -> None:
        self.graph = graph
        self.reveal = reveal
        self.ran = set(graph.order[: reveal.ran])

    def has_run(self, index: int) -> bool:
        return index in self.ran

    def gradient_shown(self, index: int) -> bool:
        """True when the edge out of ``index`` carries its gradient: its target has run."""
        return any(self.has_run(edge.target) for edge in self.graph.outputs(index))

    def lines(self, index: int, width: int) -> list[tuple[str, str]]:
        """The lines of a node's block (text, style), each at most ``width`` cells."""
        graph, node = self.graph, self.graph.nodes[index]
        style = STYLES[node.kind]
        if node.kind == "leaf":
            value = short(node.value, width - len(node.tensor) - 3)
            lines = [(f"{node.tensor} = {value}", "bold"), (node.name, style)]
            return lines + self.grad_lines(index, width)
        lines = [(node.name, style), (short(node.value, width), "bold" if node.tensor == "cost" else "")]
        if node.kind == "input":
            return lines
        if self.gradient_shown(index):
            gradient = next(edge.gradient for edge in graph.outputs(index))
            lines.append(("∂ " + first(gradient, width - 2), GRADIENT))
        return lines

    def grad_lines(self, index: int, width: int) -> list[tuple[str, str]]:
        """``.grad`` at an AccumulateGrad: before, + arriving, = after once it has run."""
        item = self.graph.accumulation(index)
        assert item is not None
        reveal = self.reveal
        if reveal.second is not None:
            twice = next(after for name, _, after in reveal.second.retained if name == item.parameter)
            return [
                (f".grad {short(item.after, width - 6)}", ""),
                (f"+ {short(item.arriving, width - 2)}", GRADIENT),
                (f"= {short(twice, width - 2)}", "bold magenta"),
            ]
        if self.has_run(index):
            return [
                (f".grad {short(item.before, width - 6)}", ""),
                (f"+ {short(item.arriving, width - 2)}", GRADIENT),
                (f"= {short(item.after, width - 2)}", "bold green"),
            ]
        zeroed = reveal.ran > 0 or reveal.phase in ("zero_grad", "backward")
        held = item.before if zeroed else item.held
        return [(f".grad {short(held, width - 6)}", "")]


def wide(graph: Graph, reveal: Reveal, width: int, height: int) -> Text | None:
    """The graph left to right from the leaves (the first column) to the cost (the last), its
    edges drawn between the columns; None where it does not fit ``width`` by ``height`` or is
    not a tree."""
    if any(len(graph.outputs(node.index)) > 1 for node in graph.nodes):
        return None
    texts = GraphText(graph, reveal)
    layer = _layers(graph)
    columns = max(layer) + 1
    widths = [10] * columns
    for node in graph.nodes:
        name = len(node.name)
        if node.kind == "leaf":  # its first line: W = 0.093333 (or as few as 5 digits)
            name = max(name, len(node.tensor) + 3 + 8)
        widths[layer[node.index]] = max(widths[layer[node.index]], name)
    if sum(widths) + GAP * (columns - 1) > width:
        return None
    widths[-1] = width - sum(widths[:-1]) - GAP * (columns - 1)  # the cost, in full
    x_of = [sum(widths[:i]) + GAP * i for i in range(columns)]
    blocks = {node.index: texts.lines(node.index, widths[layer[node.index]]) for node in graph.nodes}
    row_of: dict[int, int] = {}

    def place(index: int, top: int) -> int:
        """Rows from ``top`` for the subtree of ``index``; returns the first free row after it."""
        row_of[index] = top
        inputs = graph.inputs(index)
        if not inputs:
            return top + len(blocks[index]) + 1
        below = top
        for edge in inputs:
            below = place(edge.source, below)
        return max(below, top + len(blocks[index]) + 1)

    rows = place(graph.root, 0) - 1
    if rows > height:
        return None
    total = x_of[-1] + widths[-1]
    cells: list[list[tuple[str, str]]] = [[(" ", "")] * total for _ in range(rows)]

    def put(row: int, x: int, text: str, style: str, width: int | None = None) -> None:
        if width is not None and len(text) > width:
            text = text[: width - 1] + "…"
        for offset, char in enumerate(text):
            cells[row][x + offset] = (char, style)

    highlight = graph.order[reveal.ran - 1] if reveal.stepping else None
    for node in graph.nodes:
        x, top = x_of[layer[node.index]], row_of[node.index]
        marked = " reverse" if node.index == highlight else ""
        for line, (text, style) in enumerate(blocks[node.index]):
            put(top + line, x, text, style + (marked if line < 2 else ""), widths[layer[node.index]])
    for node in graph.nodes:
        inputs = graph.inputs(node.index)
        if not inputs:
            continue
        gap = x_of[layer[node.index]] - GAP
        sources = [row_of[edge.source] for edge in inputs]
        target = row_of[node.index]
        for edge in inputs:
            row = row_of[edge.source]
            start = x_of[layer[edge.source]] + len(blocks[edge.source][0][0]) + 1
            style = GRADIENT if texts.has_run(node.index) and edge.gradient is not None else LINE
            put(row, start, "─" * max(gap - start, 0), style)
        low, high = min([*sources, target]), max([*sources, target])
        for row in range(low, high + 1):
            left = row in sources
            up, down = row > low, row < high
            put(row, gap, _junction(left, up, down, row == target), LINE)
        put(target, gap + 1, "▶", LINE)
    drawing = Text()
    for line_number, cell_row in enumerate(cells):
        if line_number:
            drawing.append("\n")
        run_text, run_style = "", ""
        for char, style in cell_row:
            if style != run_style and run_text:
                drawing.append(run_text, run_style or None)
                run_text = ""
            run_text, run_style = run_text + char, style
        drawing.append(run_text.rstrip(), run_style or None)
    return drawing


def _layers(graph: Graph) -> list[int]:
    """Every leaf and input in the first column; each autograd node one column right of its
    deepest input."""
    layer = [0] * len(graph.nodes)

    def depth(index: int) -> int:
        inputs = graph.inputs(index)
        if inputs:
            layer[index] = 1 + max(depth(edge.source) for edge in inputs)
        return layer[index]

    depth(graph.root)
    for node in graph.nodes:
        if node.kind == "leaf" and graph.inputs(node.index):
            layer[node.index] = 0
    return layer


def _junction(left: bool, up: bool, down: bool, right: bool) -> str:
    return {
        (True, False, True, False): "┐",
        (True, True, False, False): "┘",
        (True, True, True, False): "┤",
        (True, False, True, True): "┬",
        (True, True, False, True): "┴",
        (True, True, True, True): "┼",
        (True, False, False, True): "─",
        (False, True, True, False): "│",
        (False, False, True, True): "┌",
        (False, True, False, True): "└",
        (False, True, True, True): "├",
    }.get((left, up, down, right), "─")


def column(graph: Graph, reveal: Reveal, width: int) -> Text:
    """The compact layout: one node a line, inputs first, each with the node it feeds and the
    gradient that flowed back along that edge; a line too long for ``width`` is cut with …."""
    texts = GraphText(graph, reveal)
    highlight = graph.order[reveal.ran - 1] if reveal.stepping else None
    names = {index: _column_name(graph, index) for index in range(len(graph.nodes))}
    name_width = max(map(len, names.values())) + 1
    text = Text()
    for position, index in enumerate(_forward_order(graph)):
        node = graph.nodes[index]
        line = Text()
        line.append(
            f"{names[index]:<{name_width}}", STYLES[node.kind] + (" reverse" if index == highlight else "")
        )
        if node.kind == "leaf":
            line.append(short(node.value, 11))
            for part, style in texts.grad_lines(index, 16):
                line.append("  " + part, style or None)
        else:
            line.append(f"{short(node.value, 20):<21}", "bold" if node.tensor == "cost" else "")
        for edge in graph.outputs(index):
            line.append(f"{' ' if node.kind == 'leaf' else ''}→ {graph.nodes[edge.target].name} ", "grey50")
            if texts.has_run(edge.target) and edge.gradient is not None:
                line.append("∂ " + first(edge.gradient, 12), GRADIENT)
        line.truncate(width, overflow="ellipsis")
        if position:
            text.append("\n")
        text.append_text(line)
    return text


def _column_name(graph: Graph, index: int) -> str:
    node = graph.nodes[index]
    return f"{node.tensor} {node.name}" if node.kind == "leaf" else node.name


def _forward_order(graph: Graph) -> list[int]:
    """Inputs before the node they feed (the reverse of a walk from the cost)."""
    seen: list[int] = []

    def visit(index: int) -> None:
        for edge in graph.inputs(index):
            if edge.source not in seen:
                visit(edge.source)
        seen.append(index)

    visit(graph.root)
    return seen


def detail(graph: Graph, reveal: Reveal, run: Run) -> Text:
    """One or two lines under the graph: which step it is, and what the last node did."""
    where = f"epoch {graph.epoch}" + (f", batch {graph.batch}/{graph.batches}" if graph.batch else "")
    text = Text()
    if reveal.second is not None:
        second = reveal.second
        text.append("cost.backward() again: ", "bold")
        if second.error is None:
            text.append("torch raised nothing (no node kept saved tensors)")
        else:
            text.append(f"RuntimeError: {second.error}", "bold red")
        text.append("\nwith backward(retain_graph=True) the first time, the second adds the gradient again: ")
        text.append(
            "; ".join(
                f"{name}.grad {number(first.scalar, 0)} → {number(twice.scalar, 0)}"
                for name, first, twice in second.retained
            ),
            "bold magenta",
        )
        return text
    if reveal.after_step:
        text.append(
            f"{where}: optimizer.step() used these gradients; the next key moves on to the next step", "bold"
        )
        return text
    total = len(graph.order)
    if reveal.ran == 0:
        text.append(f"{where}: the forward pass of the step", "bold")
        if reveal.phase is None:
            text.append(
                " about to be taken (on a copy); p runs its phases, B its backward one node at a time"
            )
        elif reveal.phase == "forward":
            text.append("; .grad is as the last step left it")
        else:
            zero = (
                "set .grad to None (torch's default, set_to_none=True)"
                if graph.zero_grad
                else "is off: .grad keeps the sum so far"
            )
            text.append(f"; zero_grad() {zero}")
        return text
    if reveal.ran >= total and reveal.phase == "backward":
        text.append(f"{where}: cost.backward() ran every node; ", "bold")
    else:
        text.append(f"{where}: backward {reveal.ran}/{total} on a copy; ", "bold")
    index = graph.order[reveal.ran - 1]
    node = graph.nodes[index]
    if node.kind == "leaf":
        item = graph.accumulation(index)
        assert item is not None
        text.append(f"AccumulateGrad adds into {item.parameter}.grad: ")
        text.append(f"{full(item.before)} + {full(item.arriving)} = {full(item.after)}", "green")
        return text
    text.append(f"{node.name} sent ")
    sent = [
        f"{full(edge.gradient)} to {node_title(graph, edge.source)}"
        for edge in graph.inputs(index)
        if edge.gradient is not None
    ]
    text.append("; ".join(sent), GRADIENT)
    return text


class GraphView(Vertical):
    """Shows the leader's graph; the app calls ``show`` after each frame while it is shown."""

    SCOPED_CSS = False
    DEFAULT_CSS = """
    GraphView {
        display: none;
        height: 1fr;
        border-top: round $primary 50%;
        border-title-color: $text;
    }
    GraphView #graph-scroll {
        height: 1fr;
        scrollbar-size-vertical: 1;
        scrollbar-gutter: stable;
    }
    GraphView #graph-detail {
        height: auto;
        max-height: 7;
    }
    GraphView #graph-hint {
        height: 1;
        color: $text-muted;
    }
    Screen.-tiny GraphView {
        display: none;
    }
    """

    def __init__(self, clock: Any = time.perf_counter, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.border_title = "autograd graph of the cost"
        self.clock = clock
        self.graph: Graph | None = None
        self.reveal = Reveal()
        self.builds = 0  # graphs built so far (read by the tests: never while hidden)
        self._key: tuple[Any, int] | None = None
        self._next_build = 0.0
        self._run: Run | None = None
        self._drawn: tuple[Any, ...] | None = None  # what was drawn last: the key, reveal, width

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="graph-scroll"):
            yield Static(id="graph-drawing")
        yield Static(id="graph-detail")
        yield Static(HINT, id="graph-hint")

    def show(self, race: Race, running: bool = False) -> None:
        """Build the leader's graph if the run moved since (no more than ``GRAPH_RATE`` times a
        second while it runs), then draw it."""
        from ...engine.graph import graph_of

        run = race.leader
        key = (run, run.revision)
        if key != self._key:
            now = self.clock()
            if running and now < self._next_build and self.graph is not None:
                return
            self._next_build = now + 1 / GRAPH_RATE
            kept = (
                self.graph is not None
                and self._key is not None
                and self._key[0] is run
                and self.reveal.phase == "backward"
                and run.phase == "step"
                and not run.mid_epoch
            )
            self._key, self._run = key, run
            if kept and self.graph is not None:  # the step just taken: its gradients stay on show
                self.reveal = Reveal(ran=len(self.graph.order), phase="step", after_step=True)
            else:
                self.graph = graph_of(run)
                self.builds += 1
                phase = run.phase if run.mid_epoch else None
                ran = len(self.graph.order) if phase == "backward" else 0
                self.reveal = Reveal(ran=ran, phase=phase)
        self.draw()

    def backward_one_node(self) -> str | None:
        """Show one more node of backward, in the order autograd ran them (from the first again
        after the last). Returns a line for the log when the node is an AccumulateGrad."""
        graph = self.graph
        if graph is None:
            return None
        reveal = self.reveal
        ran = 1 if reveal.ran >= len(graph.order) or reveal.after_step else reveal.ran + 1
        self.reveal = Reveal(ran=ran, phase=reveal.phase if not reveal.after_step else None, stepping=True)
        self.draw()
        item = graph.accumulation(graph.order[ran - 1])
        if item is None:
            return None
        return (
            f"backward (on a copy), node {ran}/{len(graph.order)}: AccumulateGrad adds into {item.parameter}.grad:"
            f" {full(item.before)} + {full(item.arriving)} = {full(item.after)}"
        )

    def second_backward(self) -> str | None:
        """Call cost.backward() a second time (on a copy) and show what torch says; returns a
        line for the log."""
        from ...engine.graph import second_backward

        if self.graph is None or self._run is None:
            return None
        second = second_backward(self._run)
        self.reveal = Reveal(ran=len(self.graph.order), phase=self.reveal.phase, second=second)
        self.draw()
        said = "torch raised nothing" if second.error is None else f"RuntimeError: {second.error}"
        kept = "; ".join(
            f"{name}.grad {full(first)} → {full(twice)}" for name, first, twice in second.retained
        )
        return f"cost.backward() a second time (on a copy): {said} With retain_graph=True: {kept}"

    def on_resize(self) -> None:
        self.call_after_refresh(self.draw)  # once the scroll inside has its new size too

    def draw(self) -> None:
        graph, run = self.graph, self._run
        if graph is None or run is None:
            return
        width = self.query_one("#graph-scroll").content_size.width
        if width <= 0:  # just shown, not laid out yet: on_resize draws it
            return
        drawn = (self._key, self.reveal, width)
        if drawn == self._drawn:
            return
        self._drawn = drawn
        height = self.size.height - 3  # two lines of detail and the hint
        drawing = wide(graph, self.reveal, width, height) or column(graph, self.reveal, width)
        drawing.no_wrap = True
        self.query_one("#graph-drawing", Static).update(drawing)
        self.border_title = f"autograd graph of the cost = {graph.cost!r}"
        self.query_one("#graph-detail", Static).update(detail(graph, self.reveal, run))
