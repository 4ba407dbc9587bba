"""Each lesson's table as the lesson prints it (issue 26): Lab 2 prints W and b after the step,
Lab 3 W before the step with the cost at that W, the nn.Module lesson the loss's full float.
`lrtui run` with a lesson's settings, and the app's log, print its table line for line as the
lesson's own loop, written here in plain torch, prints it."""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.optim as optim
from app_support import log_text, make_app
from cli_support import invoke

from lrtui.engine.race import Race
from lrtui.engine.run_log import RunLog
from lrtui.engine.settings import FIELDS, Settings, default, field_text
from lrtui.lessons import find_lesson


def flags_of(settings: Settings) -> list[str]:
    """The `lrtui run` flags that give these settings."""
    words: list[str] = []
    for field in FIELDS:
        value = getattr(settings, field.name)
        if value != default(field.name):
            words += [field.flag] if field.switch is not None else [field.flag, field_text(field.name, value)]
    return words


def lab_2() -> list[str]:
    """Lab 2: raw W and b, SGD lr 0.01, the print after the step."""
    x_train = torch.FloatTensor([[1], [2], [3]])
    y_train = torch.FloatTensor([[1], [2], [3]])
    W = torch.zeros(1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    optimizer = optim.SGD([W, b], lr=0.01)
    lines = []
    nb_epochs = 1000
    for epoch in range(nb_epochs + 1):
        hypothesis = x_train * W + b
        cost = torch.mean((hypothesis - y_train) ** 2)
        optimizer.zero_grad()
        cost.backward()
        optimizer.step()
        if epoch % 100 == 0:
            lines.append(
                "Epoch {:4d}/{} W: {:.3f}, b: {:.3f} Cost: {:.6f}".format(  # noqa: UP032  # as the lesson
                    epoch, nb_epochs, W.item(), b.item(), cost.item()
                )
            )
    return lines


def lab_3(hand_gradient: bool = False) -> list[str]:
    """Lab 3: H(x) = W x, the print before zero_grad/backward/step; with ``hand_gradient`` the
    lesson's own step, W -= 0.1 * torch.sum((W * x_train - y_train) * x_train)."""
    x_train = torch.FloatTensor([[1], [2], [3]])
    y_train = torch.FloatTensor([[1], [2], [3]])
    W = torch.zeros(1, requires_grad=not hand_gradient)
    optimizer = optim.SGD([W], lr=0.15)
    lines = []
    nb_epochs = 10
    for epoch in range(nb_epochs + 1):
        hypothesis = x_train * W
        cost = torch.mean((hypothesis - y_train) ** 2)
        lines.append("Epoch {:4d}/{} W: {:.3f}, Cost: {:.6f}".format(epoch, nb_epochs, W.item(), cost.item()))  # noqa: UP032
        if hand_gradient:
            gradient = torch.sum((W * x_train - y_train) * x_train)
            W -= 0.1 * gradient
        else:
            optimizer.zero_grad()
            cost.backward()
            optimizer.step()
    return lines


def nn_module_lesson() -> list[str]:
    """The nn.Module lesson: nn.Linear after the seed, nn.MSELoss, the loss printed in an f-string."""
    x_train = torch.FloatTensor([[1], [2], [3]])
    y_train = torch.FloatTensor([[1], [2], [3]])
    torch.manual_seed(1)
    model = nn.Linear(1, 1)
    loss_fn = nn.MSELoss()
    optimizer = optim.SGD(model.parameters(), lr=0.01)
    lines = []
    for epoch in range(1000 + 1):
        y_pred = model(x_train)
        loss = loss_fn(y_pred, y_train)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if epoch % 100 == 0:
            lines.append(f"Epoch: {epoch} | Loss: {loss.item()} ")
    return lines


TABLES = {"raw-tensors": lab_2, "deeper-look": lab_3, "nn-linear": nn_module_lesson}


def test_lrtui_run_with_each_lessons_settings_prints_its_table(capsys) -> None:
    for name, table in TABLES.items():
        code, out, _ = invoke(capsys, *flags_of(find_lesson(name).settings))
        assert code == 0
        assert out.splitlines() == table(), name


def test_lab_3_table_reads_as_the_lesson_prints_it(capsys) -> None:
    argv = ["--no-bias", "--lr", "0.15", "--epochs", "10", "--log-every", "1", "--print", "before-step"]
    code, out, _ = invoke(capsys, *argv)
    assert code == 0
    assert out.splitlines()[:3] == [
        "Epoch    0/10 W: 0.000, Cost: 4.666667",
        "Epoch    1/10 W: 1.400, Cost: 0.746667",
        "Epoch    2/10 W: 0.840, Cost: 0.119467",
    ]
    assert lab_3() == out.splitlines()
    # The lesson's hand gradient on the sum with lr 0.1 walks the same path as lr 0.15 on the
    # mean's gradient, 0.1 * (-14) = 0.15 * (-28/3), up to float32's last bit (a cost may read
    # 0.746666 for 0.746667).
    by_hand = lab_3(hand_gradient=True)
    assert [line.split(",")[0] for line in by_hand] == [line.split(",")[0] for line in lab_3()]
    costs = [
        (float(a.rsplit(" ", 1)[1]), float(b.rsplit(" ", 1)[1]))
        for a, b in zip(by_hand, lab_3(), strict=True)
    ]
    assert all(abs(a - b) <= 1.5e-6 for a, b in costs)


def test_the_log_holds_each_lessons_table() -> None:
    for name, table in TABLES.items():
        settings = find_lesson(name).settings
        race = Race.of(settings, [])
        log = RunLog()
        race.run_to_end(lambda rows, race=race, log=log: log.took(race, rows))
        epoch_lines = [line.text for line in log.lines if not line.event]
        assert epoch_lines == table(), name
        replayed = RunLog()
        replayed.replay(race)  # a loaded session, or undo
        assert [line.text for line in replayed.lines] == table(), name


async def test_the_app_log_pane_prints_lab_3_as_the_lesson_does() -> None:
    lesson = find_lesson("deeper-look")
    app = make_app(lesson.settings)
    app._lesson_to_start = lesson
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("N", "n")
        await pilot.pause()
        shown = [line for line in log_text(app).splitlines() if line.startswith("Epoch")]
        assert shown == lab_3()
