"""The graph view in the app: g shows it in the chart's place, p's phases and B show backward's
gradients, 2 the second backward; names and numbers as plain torch gives them."""

from __future__ import annotations

import torch
from app_support import FakeClock, log_text, make_app, shown_text
from graph_support import PlainStep

from lrtui.app.widgets.graph import GRAPH_RATE, GraphView
from lrtui.app.widgets.state import number
from lrtui.engine import Settings
from lrtui.engine.graph import graph_of

SIZE = (120, 40)


def drawing(app) -> str:
    return shown_text(app.run_screen.query_one("#graph-drawing"))


def shows(text: str, prefix: str, value: float) -> bool:
    """True if a number right after ``prefix`` in ``text`` agrees with ``value`` to at least 4
    significant digits (a narrow column writes fewer decimals than the state pane)."""
    for piece in text.split(prefix)[1:]:
        word = piece.split()[0].rstrip("…") if piece.split() else ""
        try:
            shown = float(word)
        except ValueError:
            continue
        if abs(shown - value) <= 5e-4 * abs(value):
            return True
    return False


def detail(app) -> str:
    return " ".join(shown_text(app.run_screen.query_one("#graph-detail")).split())


async def test_g_shows_torch_s_graph_and_the_phases_show_the_gradients_plain_torch_gives() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = app.run_screen
        view = screen.query_one(GraphView)
        await pilot.press("n", "n")
        assert view.builds == 0  # hidden: never built
        await pilot.press("g")
        await pilot.pause()
        assert view.display and not screen.chart.display and not screen.code_view.display
        assert view.builds == 1
        shown = drawing(app)
        plain = PlainStep(Settings(), 2)
        for name in plain.names:
            if name is not None:
                assert name in shown
        assert "x_train" in shown and "y_train" in shown and "W = " in shown and "b = " in shown
        assert ".grad None" not in shown  # before zero_grad: .grad as the last step left it
        assert shows(shown, ".grad ", plain.held[0].item())
        await pilot.press("p")  # forward
        assert screen.showing_graph and not screen.showing_code  # p keeps the graph on show
        await pilot.press("p")  # zero_grad
        assert drawing(app).count(".grad None") == 2
        assert "set .grad to None" in detail(app)
        await pilot.press("p")  # backward: every edge and AccumulateGrad
        shown = drawing(app)
        for param in plain.params:
            assert f"= {number(param.grad.item(), 0)}" in shown
            assert f"+ {number(param.grad.item(), 0)}" in shown
        assert shown.count("∂ ") == 4  # MulBackward0, AddBackward0, SubBackward0, PowBackward0
        first_sent = plain.sent[plain.names.index("PowBackward0")][0]
        assert f"∂ {number(first_sent[0].item(), 0)}" in shown
        assert "cost.backward() ran every node" in detail(app)
        assert view.builds == 4  # once for each move of the run
        await pilot.press("p")  # step: the gradients it used stay on show
        assert view.builds == 4 and "optimizer.step() used these gradients" in detail(app)
        assert shown.count("∂ ") == 4
        await pilot.press("n")
        assert view.builds == 5 and "∂ " not in drawing(app)
        await pilot.press("g")
        await pilot.pause()
        assert screen.chart.display and not view.display
        await pilot.press("n", "n")
        assert view.builds == 5  # hidden again: not built
        await pilot.press("c", "g")
        assert view.display and not screen.code_view.display
        await pilot.press("c")
        assert screen.code_view.display and not view.display
        await pilot.press("g", "v")  # v: back to the chart, its next view
        assert screen.chart.display and not view.display and screen.chart.view == "cost"


async def test_b_steps_backward_in_autograd_s_order_and_2_shows_torch_s_error() -> None:
    app = make_app(Settings(zero_grad=False))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n", "n", "n", "B")  # B opens the view
        await pilot.pause()
        view = app.run_screen.graph_view
        assert view.display
        plain = PlainStep(Settings(zero_grad=False), 3)
        order = [plain.names[index] for index in plain.order]
        assert order[0] == "MeanBackward0"
        assert "backward 1/7 on a copy; MeanBackward0 sent" in detail(app)
        sent = plain.sent[plain.order[0]][0]
        assert number(sent[0].item(), 0) in detail(app)
        for step, name in enumerate(order[1:], start=2):
            await pilot.press("B")
            assert f"backward {step}/7" in detail(app)
            assert (f"{name} sent" if name != "AccumulateGrad" else "AccumulateGrad adds into") in detail(app)
        # zero_grad off: the last node, W's AccumulateGrad, adds to last step's .grad
        W = plain.params[0]
        before, after = plain.before[0].item(), W.grad.item()
        assert before != 0 and after != before
        assert f"W.grad: {number(before, 0)} + " in detail(app) and f"= {number(after, 0)}" in detail(app)
        assert f"AccumulateGrad adds into W.grad: {number(before, 0)} + " in log_text(app)
        await pilot.press("B")  # from the first node again
        assert "backward 1/7" in detail(app)
        trainer_numbers = app.leader.simulation.trainer.numbers()
        await pilot.press("2")
        with_error = detail(app)
        try:
            plain.cost_tensor.backward()
        except RuntimeError as error:
            message = " ".join(str(error).split())
        assert f"RuntimeError: {message}" in with_error
        assert f"RuntimeError: {message}" in log_text(app)
        again = PlainStep(Settings(zero_grad=False), 3, retain_graph=True)
        once = W.grad.item()
        again.cost_tensor.backward()
        assert f"W.grad {number(once, 0)} → {number(again.params[0].grad.item(), 0)}" in with_error
        assert shows(drawing(app), "= ", again.params[0].grad.item())
        assert app.leader.simulation.trainer.numbers() == trainer_numbers  # the run untouched
        assert app.leader.epoch == 3


async def test_a_race_shows_the_leader_and_a_mini_batch_its_batch_compact_at_80x24() -> None:
    app = make_app(Settings(model="linear", batch_size=2))
    async with app.run_test(size=(80, 24)) as pilot:
        app.race.add(Settings(model="linear", batch_size=2, learning_rate=0.1))
        await pilot.press("n", "g")
        await pilot.pause()
        shown = drawing(app)
        assert "x_batch" in shown and "model.weight AccumulateGrad" in shown
        assert "MseLossBackward0" in shown and "AddmmBackward0" in shown and "TBackward0" in shown
        assert "epoch 0, batch 2/2" in detail(app)
        graph = graph_of(app.leader)
        assert f"{graph.cost!r}" in app.run_screen.graph_view.border_title
        lines = shown.splitlines()
        assert all(len(line.rstrip()) <= 80 for line in lines)
        assert [line.split()[0] for line in lines[:2]] == ["model.bias", "x_batch"]  # inputs first


async def test_while_running_the_graph_is_built_a_few_times_a_second_at_most() -> None:
    clock = FakeClock()
    app = make_app(clock=clock, speed=0)
    async with app.run_test(size=SIZE) as pilot:
        view = app.run_screen.graph_view
        view.clock = clock
        await pilot.press("g", "space")
        built = view.builds
        timer = app.timers[0]
        for _ in range(20):
            clock.now += 0.01  # 20 frames in 0.2 s
            timer.fire()
        assert app.leader.epoch > 20
        assert view.builds - built <= 0.2 * GRAPH_RATE + 1
        await pilot.press("space")
        assert view._key == (app.leader, app.leader.revision)  # paused: the last step's graph
        assert torch.is_grad_enabled()


async def test_the_graph_keys_are_in_the_help() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        explained = {binding.key: text for binding, text in app.key_help()}
        assert "autograd graph" in explained["g"]
        assert "one node at a time" in explained["B"]
        assert "second time" in explained["2"] and "retain_graph=True" in explained["2"]
        await pilot.press("g")
        await pilot.pause()
        assert "B: backward one node" in shown_text(app.run_screen.query_one("#graph-hint"))
        assert "2: backward again" in shown_text(app.run_screen.query_one("#graph-hint"))
