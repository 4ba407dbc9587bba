"""The autograd graph of the cost of a run's next step, read from torch itself.

``graph_of(run)`` does what the step does, on a copy of the trainer (as the chart's next-step
arrow is worked out, ``Simulation.peek``): the forward pass and the cost, ``zero_grad()`` when
it is on, and ``cost.backward()``. It walks ``cost.grad_fn`` and ``next_functions`` (torch's own
nodes, named as torch names them) and returns plain data: the nodes with the tensor each one
produced in the forward pass, the edges with the gradient torch sent along each (caught with
hooks on the nodes as backward runs, not worked out again), every ``AccumulateGrad`` with
``.grad`` before, the gradient arriving and ``.grad`` after, and the order autograd ran the
nodes in. ``second_backward(run)`` calls ``cost.backward()`` twice on another copy: torch's
own error, and what ``retain_graph=True`` would have changed. The run itself never moves.

The tensors a node produced are caught as the forward pass runs (a ``TorchDispatchMode``
records each aten op's output; once the op returns, autograd has set the output's ``grad_fn``),
which also names the inputs that need no gradient (the data: ``next_functions`` holds None for
them) by the tensor handed to the op.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode

from .scaling import training_data

if TYPE_CHECKING:
    from .run import Run
    from .trainer import Trainer

SHOWN = 8  # the values of a tensor kept: its first few, flattened
ACCUMULATE_GRAD = "AccumulateGrad"


@dataclass(frozen=True)
class Value:
    """A tensor as the view shows it: its shape, its first values and how many there are."""

    shape: tuple[int, ...]
    values: tuple[float, ...]
    count: int

    @staticmethod
    def of(tensor: torch.Tensor) -> Value:
        flat = tensor.detach().reshape(-1)
        return Value(tuple(tensor.shape), tuple(flat[:SHOWN].tolist()), flat.numel())

    @property
    def scalar(self) -> float | None:
        """The value of a one-element tensor (None for more elements)."""
        return self.values[0] if self.count == 1 else None


@dataclass(frozen=True)
class Node:
    """One node of the graph: an autograd node (``kind`` "op", or "leaf" for an
    ``AccumulateGrad``) or a tensor that needs no gradient (``kind`` "input": the data).

    ``name`` is torch's (``MulBackward0``, ``AccumulateGrad``) or the input's (``x_train``);
    ``tensor`` names what it stands for (``W``, ``model.bias``, ``cost``; "" for an inner node);
    ``value`` is the tensor it produced in the forward pass (a leaf's: the parameter)."""

    index: int
    name: str
    kind: str
    tensor: str
    value: Value | None


@dataclass(frozen=True)
class Edge:
    """``source`` feeds ``target`` (``target``'s ``next_functions[slot]``). ``gradient`` is what
    backward sent from ``target`` to ``source``: torch's, from the hook on ``target``; None where
    torch sends none (an input with ``requires_grad=False``)."""

    source: int
    target: int
    slot: int
    gradient: Value | None


@dataclass(frozen=True)
class Accumulation:
    """What an ``AccumulateGrad`` node did to its parameter's ``.grad``: ``held`` before the
    step's ``zero_grad()``, ``before`` backward (None: ``zero_grad()`` set it to None), the
    gradient ``arriving`` and ``after`` (before + arriving)."""

    node: int
    parameter: str
    held: Value | None
    before: Value | None
    arriving: Value
    after: Value


@dataclass(frozen=True)
class Graph:
    """The graph of one step's cost; nodes are numbered as the walk from ``cost.grad_fn``
    along ``next_functions`` first meets them (depth first, inputs in slot order)."""

    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    order: tuple[int, ...]  # the autograd nodes in the order backward ran them
    accumulations: tuple[Accumulation, ...]
    cost: float
    zero_grad: bool
    epoch: int
    batch: int | None  # the batch's number (1-based) with mini-batches
    batches: int

    @property
    def root(self) -> int:
        return 0

    def inputs(self, node: int) -> list[Edge]:
        """The edges into ``node``, in slot order."""
        return sorted((edge for edge in self.edges if edge.target == node), key=lambda edge: edge.slot)

    def outputs(self, node: int) -> list[Edge]:
        """The edges out of ``node`` (towards the cost)."""
        return [edge for edge in self.edges if edge.source == node]

    def accumulation(self, node: int) -> Accumulation | None:
        return next((item for item in self.accumulations if item.node == node), None)


@dataclass(frozen=True)
class SecondBackward:
    """``cost.backward()`` called a second time on the same graph: torch's own error (None if
    torch raised none), and with ``retain_graph=True`` the first time, each parameter's
    ``.grad`` after the first call and after the second (the fresh gradient added again)."""

    error: str | None
    retained: tuple[tuple[str, Value, Value], ...]


class _Outputs(TorchDispatchMode):
    """Records each aten op's tensor arguments and output as the forward pass runs."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[list[torch.Tensor], Any]] = []

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        out = func(*args, **(kwargs or {}))
        self.calls.append(([arg for arg in args if isinstance(arg, torch.Tensor)], out))
        return out


def parameter_names(trainer: Trainer) -> list[tuple[str, torch.Tensor]]:
    """The parameters as the lesson's script names them."""
    if trainer.model is not None:
        names = ["model.weight", "model.bias"]
    else:
        names = ["W", "b"]
    return list(zip(names, trainer.params, strict=False))


def _twin(run: Run) -> Trainer:
    return copy.deepcopy(run.simulation.trainer_between_epochs)


def _forward(
    twin: Trainer, run: Run
) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor], int | None, int]:
    return twin.forward(training_data(run.dataset, run.settings), run.settings)


def graph_of(run: Run) -> Graph:
    """The graph of the run's next step (the step in progress, when it is run phase by phase),
    built and run backward on a copy of its trainer."""
    settings = run.settings
    twin = _twin(run)
    params = parameter_names(twin)
    held = {name: _value(param.grad) for name, param in params}
    outputs = _Outputs()
    with outputs:
        cost, (x, y), batch, batches = _forward(twin, run)
    data_names = ("x_batch", "y_batch") if batch is not None else ("x_train", "y_train")
    data = {id(x): data_names[0], id(y): data_names[1]}

    produced: dict[Any, torch.Tensor] = {}  # autograd node -> the tensor it made
    consumed: dict[Any, list[torch.Tensor]] = {}  # autograd node -> the op's tensor arguments
    for args, out in outputs.calls:
        if isinstance(out, torch.Tensor) and out.grad_fn is not None and out.grad_fn not in produced:
            produced[out.grad_fn] = out
            consumed[out.grad_fn] = args
    produced[cost.grad_fn] = cost

    names_of = {id(param): name for name, param in params}
    nodes: list[Node] = []
    edges: list[tuple[int, int, int]] = []
    index_of: dict[Any, int] = {}

    def visit(fn: Any) -> int:
        if fn in index_of:
            return index_of[fn]
        index = len(nodes)
        index_of[fn] = index
        name = type(fn).__name__
        if name == ACCUMULATE_GRAD:
            variable = fn.variable
            nodes.append(Node(index, name, "leaf", names_of.get(id(variable), "leaf"), Value.of(variable)))
            return index
        tensor = "cost" if fn is cost.grad_fn else ""
        made = produced.get(fn)
        nodes.append(Node(index, name, "op", tensor, None if made is None else Value.of(made)))
        args = consumed.get(fn, [])
        for slot, (child, _) in enumerate(fn.next_functions):
            if child is None:
                source = _input(nodes, args[slot] if slot < len(args) else None, data)
            else:
                source = visit(child)
            edges.append((source, index, slot))
        return index

    visit(cost.grad_fn)

    if settings.zero_grad:
        twin.optimizer.zero_grad()
    before = {name: _value(param.grad) for name, param in params}
    sent: dict[int, tuple[Any, ...]] = {}
    arrived: dict[int, torch.Tensor] = {}
    order: list[int] = []
    handles = []
    for fn, index in index_of.items():

        def hook(grad_inputs: Any, grad_outputs: Any, index: int = index) -> None:
            order.append(index)
            sent[index] = tuple(None if g is None else g.detach().clone() for g in grad_inputs)
            arrived[index] = grad_outputs[0].detach().clone()

        handles.append(fn.register_hook(hook))
    cost.backward()
    for handle in handles:
        handle.remove()

    accumulations = []
    for node in nodes:
        if node.kind == "leaf":
            param = dict(params)[node.tensor]
            assert param.grad is not None
            accumulations.append(
                Accumulation(
                    node.index,
                    node.tensor,
                    held[node.tensor],
                    before[node.tensor],
                    Value.of(arrived[node.index]),
                    Value.of(param.grad),
                )
            )
    graph_edges = []
    for source, target, slot in edges:
        grads = sent.get(target, ())
        gradient = grads[slot] if slot < len(grads) else None
        graph_edges.append(Edge(source, target, slot, None if gradient is None else Value.of(gradient)))
    return Graph(
        tuple(nodes),
        tuple(graph_edges),
        tuple(order),
        tuple(accumulations),
        cost.item(),
        settings.zero_grad,
        run.simulation.epoch,
        batch,
        batches,
    )


def _input(nodes: list[Node], tensor: torch.Tensor | None, data: dict[int, str]) -> int:
    """A node for a tensor that needs no gradient; one per tensor."""
    name = "a constant" if tensor is None else data.get(id(tensor), "a constant")
    for node in nodes:
        if node.kind == "input" and node.name == name and name != "a constant":
            return node.index
    index = len(nodes)
    nodes.append(Node(index, name, "input", name, None if tensor is None else Value.of(tensor)))
    return index


def _value(tensor: torch.Tensor | None) -> Value | None:
    return None if tensor is None else Value.of(tensor)


def second_backward(run: Run) -> SecondBackward:
    """``cost.backward()`` and then ``cost.backward()`` again on the same graph, on a copy of
    the trainer: torch's error; then, on another copy, the same with ``retain_graph=True``."""
    twin = _twin(run)
    cost = _forward(twin, run)[0]
    if run.settings.zero_grad:
        twin.optimizer.zero_grad()
    cost.backward()
    error: str | None = None
    try:
        cost.backward()
    except RuntimeError as raised:
        error = str(raised)
    twin = _twin(run)
    cost = _forward(twin, run)[0]
    if run.settings.zero_grad:
        twin.optimizer.zero_grad()
    cost.backward(retain_graph=True)
    firsts = [(name, Value.of(param.grad)) for name, param in parameter_names(twin) if param.grad is not None]
    cost.backward()
    retained = []
    for (name, first), (_, param) in zip(firsts, parameter_names(twin), strict=True):
        assert param.grad is not None
        retained.append((name, first, Value.of(param.grad)))
    return SecondBackward(error, tuple(retained))
