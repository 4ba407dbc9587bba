"""The autograd graph view's engine against plain torch: the same cost built in the test, walked
with ``next_functions`` and run backward with hooks, gives the same nodes, order, edges,
gradients and ``.grad``."""

from __future__ import annotations

import re

import pytest
import torch
from graph_support import PlainStep

from lrtui.engine.graph import Graph, graph_of, second_backward
from lrtui.engine.run import Run
from lrtui.engine.settings import Settings


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
