"""The autograd graph view's engine against plain torch: the same cost built in the test, walked
with ``next_functions`` and run backward with hooks, gives the same nodes, order, edges,
gradients and ``.grad``."""

from __future__ import annotations

import re
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from plain_torch import DATA
from torch import nn, optim
from torch.utils.data import DataLoader, TensorDataset

from lrtui.engine.graph import Graph, graph_of, second_backward
from lrtui.engine.run import Run
from lrtui.engine.settings import Settings


class PlainStep:
    """The lesson's loop in plain torch, stopped at the forward pass of step ``steps`` (0-based),
    with that step's cost, its zero_grad done if on, and hooks on every node of its graph."""

    def __init__(self, settings: Settings, steps: int, retain_graph: bool = False) -> None:
        x_all, y_all = DATA[settings.data]()
        self.model: nn.Linear | None = None
        if settings.model == "raw":
            W = torch.zeros(1, requires_grad=True)
            b = torch.zeros(1, requires_grad=True) if settings.bias else None
            self.params = [p for p in (W, b) if p is not None]
        else:
            torch.manual_seed(settings.seed)
            self.model = nn.Linear(1, 1, bias=settings.bias)
            self.params = list(self.model.parameters())
        optimizer = optim.SGD(self.params, lr=settings.learning_rate)
        if settings.batch_size is None:
            batches = ((x_all, y_all) for _ in range(steps + 1))
        else:
            loader = DataLoader(
                TensorDataset(x_all, y_all),
                batch_size=settings.batch_size,
                shuffle=settings.shuffle,
                generator=torch.Generator().manual_seed(settings.seed),
            )
            batches = (batch for _ in range(steps + 1) for batch in loader)
        for step, (x, y) in enumerate(batches):
            cost = self.cost(x, y, settings)
            if step == steps:
                break
            if settings.zero_grad:
                optimizer.zero_grad()
            cost.backward()
            optimizer.step()
        self.held = [None if p.grad is None else p.grad.clone() for p in self.params]
        if settings.zero_grad:
            optimizer.zero_grad()
        self.before = [None if p.grad is None else p.grad.clone() for p in self.params]
        self.cost_tensor = cost
        self.names, self.edges, self.functions = walk(cost)
        self.order: list[int] = []
        self.sent: dict[int, Any] = {}
        self.arrived: dict[int, Any] = {}
        for index, fn in enumerate(self.functions):
            if fn is not None:
                fn.register_hook(self._hook(index))
        cost.backward(retain_graph=retain_graph)

    def _hook(self, index: int) -> Any:
        def hook(grad_inputs: Any, grad_outputs: Any) -> None:
            self.order.append(index)
            self.sent[index] = grad_inputs
            self.arrived[index] = grad_outputs[0]

        return hook

    def cost(self, x: torch.Tensor, y: torch.Tensor, settings: Settings) -> torch.Tensor:
        if self.model is not None:
            hypothesis = self.model(x)
            if settings.loss == "l1":
                return F.l1_loss(hypothesis, y)
            return F.mse_loss(hypothesis, y)
        W = self.params[0]
        hypothesis = x * W + self.params[1] if settings.bias else x * W
        if settings.loss == "l1":
            return torch.mean(torch.abs(hypothesis - y))
        return torch.mean((hypothesis - y) ** 2)


def walk(cost: torch.Tensor) -> tuple[list[str | None], list[tuple[int, int, int]], list[Any]]:
    """Depth first from cost.grad_fn along next_functions in slot order; None for an input that
    needs no gradient (None in next_functions)."""
    names: list[str | None] = []
    functions: list[Any] = []
    edges: list[tuple[int, int, int]] = []
    seen: dict[Any, int] = {}

    def visit(fn: Any) -> int:
        if fn in seen:
            return seen[fn]
        index = seen[fn] = len(names)
        names.append(type(fn).__name__)
        functions.append(fn)
        for slot, (child, _) in enumerate(fn.next_functions):
            if child is None:
                source = len(names)
                names.append(None)
                functions.append(None)
            else:
                source = visit(child)
            edges.append((source, index, slot))
        return index

    visit(cost.grad_fn)
    return names, edges, functions


def values(tensor: torch.Tensor | None) -> tuple[float, ...] | None:
    return None if tensor is None else tuple(tensor.detach().reshape(-1)[:8].tolist())


def check_against_plain(graph: Graph, plain: PlainStep) -> None:
    assert [None if node.kind == "input" else node.name for node in graph.nodes] == plain.names
    assert [(edge.source, edge.target, edge.slot) for edge in graph.edges] == plain.edges
    assert list(graph.order) == plain.order
    assert graph.cost == plain.cost_tensor.item()
    for edge in graph.edges:
        sent = plain.sent[edge.target][edge.slot]
        assert (None if edge.gradient is None else edge.gradient.values) == values(sent)
        if sent is not None:
            assert edge.gradient is not None and edge.gradient.shape == tuple(sent.shape)
    assert len(graph.accumulations) == len(plain.params)
    for item in graph.accumulations:
        param = plain.functions[item.node].variable
        position = next(i for i, p in enumerate(plain.params) if p is param)
        assert (None if item.held is None else item.held.values) == values(plain.held[position])
        assert (None if item.before is None else item.before.values) == values(plain.before[position])
        assert item.arriving.values == values(plain.arrived[item.node])
        assert item.after.values == values(param.grad)


CASES = [
    pytest.param(Settings(), 0, id="raw-mse-first-step"),
    pytest.param(Settings(), 3, id="raw-mse"),
    pytest.param(Settings(model="linear"), 2, id="linear-mse"),
    pytest.param(Settings(loss="l1"), 2, id="raw-l1"),
    pytest.param(Settings(model="linear", loss="l1"), 2, id="linear-l1"),
    pytest.param(Settings(zero_grad=False), 3, id="raw-zero-grad-off"),
    pytest.param(Settings(model="linear", zero_grad=False), 3, id="linear-zero-grad-off"),
    pytest.param(Settings(bias=False), 1, id="raw-no-bias"),
    pytest.param(Settings(model="linear", bias=False), 1, id="linear-no-bias"),
    pytest.param(Settings(data="noisy", batch_size=10, shuffle=True), 13, id="mini-batch-shuffled"),
    pytest.param(Settings(model="linear", batch_size=2), 3, id="linear-mini-batch-last-smaller"),
]


@pytest.mark.parametrize(("settings", "steps"), CASES)
def test_the_graph_is_torch_s_own(settings: Settings, steps: int) -> None:
    run = Run(settings)
    run.run_to_step(steps)
    check_against_plain(graph_of(run), PlainStep(settings, steps))


def test_names_and_inputs_as_the_lessons_write_them() -> None:
    raw = graph_of(Run(Settings()))
    assert [(node.name, node.tensor) for node in raw.nodes] == [
        ("MeanBackward0", "cost"),
        ("PowBackward0", ""),
        ("SubBackward0", ""),
        ("AddBackward0", ""),
        ("MulBackward0", ""),
        ("x_train", "x_train"),
        ("AccumulateGrad", "W"),
        ("AccumulateGrad", "b"),
        ("y_train", "y_train"),
    ]
    x_train = raw.nodes[5]
    assert x_train.kind == "input" and x_train.value is not None
    assert x_train.value.shape == (3, 1) and x_train.value.values == (1.0, 2.0, 3.0)
    assert raw.nodes[4].value is not None and raw.nodes[4].value.values == (0.0, 0.0, 0.0)
    linear = graph_of(Run(Settings(model="linear")))
    names = {node.name for node in linear.nodes}
    assert {"MseLossBackward0", "AddmmBackward0", "TBackward0", "AccumulateGrad"} <= names
    assert {node.tensor for node in linear.nodes if node.kind == "leaf"} == {"model.weight", "model.bias"}
    transpose = next(node for node in linear.nodes if node.name == "TBackward0")
    assert transpose.value is not None and transpose.value.shape == (1, 1)  # weight.t()
    batch = graph_of(Run(Settings(batch_size=2)))
    assert {node.name for node in batch.nodes if node.kind == "input"} == {"x_batch", "y_batch"}
    assert (batch.batch, batch.batches) == (1, 2)


def test_zero_grad_sets_grad_to_none_and_off_it_adds() -> None:
    on = Run(Settings())
    on.run_to_step(2)
    for item in graph_of(on).accumulations:
        assert item.held is not None and item.before is None  # torch's zero_grad: set_to_none
        assert item.after == item.arriving
    off = Run(Settings(zero_grad=False))
    off.run_to_step(2)
    graph = graph_of(off)
    for item in graph.accumulations:
        assert item.before is not None and item.held == item.before
        assert item.after.values[0] == pytest.approx(
            item.before.values[0] + item.arriving.values[0], rel=1e-6
        )
    record = off.step()  # the run's own step gives what the graph showed
    grads = {item.parameter: item.after.values[0] for item in graph.accumulations}
    assert (record.grad_w, record.grad_b) == (grads["W"], grads["b"])


def test_phase_by_phase_the_graph_is_the_step_in_progress_and_the_run_does_not_move() -> None:
    run = Run(Settings(data="noisy", batch_size=10, shuffle=True))
    run.run_to_step(4)
    ahead = graph_of(run)
    numbers = run.simulation.trainer.numbers()
    run.phase_step()  # forward
    assert graph_of(run) == ahead
    run.phase_step()  # zero_grad
    assert graph_of(run) == ahead
    assert run.simulation.trainer.numbers() == {**numbers, "W.grad": None, "b.grad": None}
    run.phase_step()  # backward
    assert graph_of(run) == ahead
    grads = {item.parameter: item.after.values[0] for item in ahead.accumulations}
    assert (run.simulation.trainer.W.grad.item(), run.simulation.trainer.b.grad.item()) == (
        grads["W"],
        grads["b"],
    )
    run.phase_step()  # step
    assert run.last is not None and (run.last.batch, run.last.cost) == (ahead.batch, ahead.cost)


def test_second_backward_is_torch_s_error_and_retain_graph_adds_the_gradient_again() -> None:
    for settings in (Settings(), Settings(model="linear", zero_grad=False)):
        run = Run(settings)
        run.run_to_step(2)
        numbers = run.simulation.trainer.numbers()
        second = second_backward(run)
        plain = PlainStep(settings, 2)
        with pytest.raises(RuntimeError) as raised:
            plain.cost_tensor.backward()
        assert second.error == str(raised.value)
        assert "Trying to backward through the graph a second time" in str(second.error)
        retained = PlainStep(settings, 2, retain_graph=True)
        firsts = [values(p.grad) for p in retained.params]
        retained.cost_tensor.backward()
        assert [(first.values, twice.values) for _, first, twice in second.retained] == [
            (first, values(p.grad)) for first, p in zip(firsts, retained.params, strict=True)
        ]
        graph = graph_of(run)
        for name, first, twice in second.retained:  # the fresh gradient added once more
            arriving = next(item.arriving for item in graph.accumulations if item.parameter == name)
            assert twice.values[0] == pytest.approx(first.values[0] + arriving.values[0], rel=1e-6)
        assert run.simulation.trainer.numbers() == numbers  # done on copies
        assert graph_of(run) == graph


def test_the_backward_lesson_names_torch_s_nodes_and_is_met_when_accumulate_grad_adds() -> None:
    from lrtui.lessons import find_lesson
    from lrtui.lessons.goals import goal_met

    for language in ("en", "ko"):
        chosen = find_lesson("backward", language)
        names = {node.name for node in graph_of(Run(chosen.settings)).nodes}
        named = set(re.findall(r"[A-Za-z]+Backward\d+", chosen.text["explanation"]))
        assert named and named <= names and "AccumulateGrad" in names
    run = Run(chosen.settings)

    def by_phases() -> None:
        for _ in range(4):
            run.phase_step()

    by_phases()
    assert not goal_met(chosen.goal, run)  # zero_grad on: .grad was None before backward
    run.apply(run.settings.with_changes(zero_grad=False))
    run.step()
    assert not goal_met(chosen.goal, run)  # it added, but not phase by phase
    by_phases()
    assert goal_met(chosen.goal, run)
    fresh = Run(chosen.settings.with_changes(zero_grad=False))
    for _ in range(4):
        fresh.phase_step()
    assert not goal_met(chosen.goal, fresh)  # the first step: nothing held to add to
