"""Robustness: divergence with every optimizer, every bad value in every field and flag, big and odd CSVs."""

from __future__ import annotations

import math
import random
from pathlib import Path

import plain_torch as pt
import pytest
import torch
from app_support import FakeClock, files_read, log_text, make_app, shown_text
from cli_support import invoke
from textual.widgets import Input

from lrtui.app.pacing import FULL_SPEED
from lrtui.engine import Settings, SettingsError, Simulation, parse_field
from lrtui.engine.data import load_csv

# (lrtui settings, plain torch optimizer and options): learning rates at which each diverges
DIVERGING = [
    ({"optimizer": "sgd", "learning_rate": 1.0}, "SGD", {}),
    ({"optimizer": "sgd", "learning_rate": 0.5, "momentum": 0.9}, "SGD", {"momentum": 0.9}),
    ({"optimizer": "sgd", "learning_rate": 0.5, "momentum": 0.9, "nesterov": True}, "SGD", {"momentum": 0.9, "nesterov": True}),
    ({"optimizer": "adagrad", "learning_rate": 1e30}, "Adagrad", {}),
    ({"optimizer": "rmsprop", "learning_rate": 1e30}, "RMSprop", {}),
    ({"optimizer": "adam", "learning_rate": 1e30}, "Adam", {}),
]  # fmt: skip
IDS = ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"]


def plain_until_non_finite(name: str, lr: float, options: dict, epochs: int = 300) -> list[dict]:
    records = pt.raw_loop(*pt.line_data(), epochs, optimizer=name, lr=lr, options=options)
    first = next(
        i
        for i, r in enumerate(records)
        if not all(math.isfinite(r[k]) for k in ("cost", "grad_w", "grad_b", "w_next", "b_next"))
    )
    return records[: first + 1]


def as_plain(records) -> list[dict]:
    return [{k: getattr(r, k) for k in pt.FIELDS} for r in records]


def same(a: list[dict], b: list[dict]) -> bool:
    def eq(x, y) -> bool:
        return x == y or (isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y))

    return len(a) == len(b) and all(eq(ra[k], rb[k]) for ra, rb in zip(a, b, strict=True) for k in pt.FIELDS)


# ------------------------------------------------------------------ divergence
@pytest.mark.parametrize(("changes", "name", "options"), DIVERGING, ids=IDS)
def test_every_optimizer_stops_at_the_first_non_finite_epoch_and_a_new_run_recovers(
    changes: dict, name: str, options: dict
) -> None:
    plain = plain_until_non_finite(name, changes["learning_rate"], options)
    simulation = Simulation(Settings(epochs=300, **changes))
    simulation.run_to_end()
    assert simulation.diverged_at == plain[-1]["epoch"] and simulation.epoch == len(plain)
    simulation.step_back()
    simulation.step()
    assert simulation.diverged_at == plain[-1]["epoch"]  # replayed to the same end
    simulation = Simulation(simulation.settings)  # the app's reset: the same settings, a new run
    assert same(as_plain(simulation.run(3)), plain[:3])


def test_adam_step_past_float32_is_divergence_where_plain_torch_raises(
    capsys: pytest.CaptureFixture[str],
) -> None:
    W = torch.zeros(1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.Adam([W, b], lr=3e38)
    x_train, y_train = pt.line_data()
    cost = torch.mean((x_train * W + b - y_train) ** 2)
    optimizer.zero_grad()
    cost.backward()
    with pytest.raises(RuntimeError, match="overflow"):
        optimizer.step()

    simulation = Simulation(Settings(optimizer="adam", learning_rate=3e38))
    simulation.run_to_end()
    assert simulation.diverged_at == 0 and simulation.last.cost == cost.item()
    code, out, err = invoke(capsys, "--optimizer", "adam", "--lr", "3e38")
    assert code == 3 and err.count("\n") == 1 and "Traceback" not in err
    assert "diverged at epoch 0" in err and "overflowed float32" in err


@pytest.mark.parametrize(("changes", "name", "options"), DIVERGING, ids=IDS)
async def test_the_app_shows_divergence_with_every_optimizer_and_r_recovers(
    changes: dict, name: str, options: dict
) -> None:
    plain = plain_until_non_finite(name, changes["learning_rate"], options)
    epoch = plain[-1]["epoch"]
    costs = [r["cost"] if math.isfinite(r["cost"]) else math.inf for r in plain]
    lowest = max(i for i, cost in enumerate(costs) if cost == min(costs))  # the latest lowest cost
    app = make_app(Settings(**changes), speed=FULL_SPEED, clock=FakeClock(tick=0.0005))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("space")
        while app.running:
            app.timers[0].fire()
        await pilot.pause()
        assert f"DIVERGED at epoch {epoch}" in app.run_screen.state_view.border_subtitle
        said = log_text(app)
        assert f"diverged at epoch {epoch}" in said
        curvature, momentum = app.leader.surface.largest_curvature, changes.get("momentum", 0.0)
        if name != "SGD":  # no fixed limit: the plain-GD one is not quoted
            assert "has no fixed stability limit" in said
            assert f"{app.leader.surface.stability_limit:.4g}" not in said
        elif changes.get("nesterov"):
            assert f"{2 * (1 + momentum) / ((1 + 2 * momentum) * curvature):.4g}" in said
        else:
            assert f"{2 * (1 + momentum) / curvature:.4g}" in said
        await pilot.press("n", "N", "space", "u")
        # back to before the epoch of the lowest cost, whence it only grew
        assert app.leader.epoch == lowest and not app.leader.diverged
        assert f"undo: back {epoch + 1 - lowest} epoch" in log_text(app)
        await pilot.press("r")
        field = app.query_one("#field-learning_rate", Input)
        field.focus()
        field.value = "0.001"
        await pilot.press("enter", "escape", "N")
        assert app.leader.epoch == 10 and all(r.finite for r in list(app.leader.history))
        assert "DIVERGED" not in app.run_screen.state_view.border_subtitle


# --------------------------------------------------------- bad values everywhere
VALUES = ["", "abc", "-1", "0", "nan", "inf", "-inf", "1e308", "1" * 400, "1e-400"]
# Which of VALUES each field takes, stated here rather than asked of lrtui's parser.
ACCEPTED = {
    "learning_rate": set(),
    "momentum": {"0", "1e-400"},
    "init_w": {"", "-1", "0", "1e-400"},
    "init_b": {"", "-1", "0", "1e-400"},
    "seed": {"0"},
    "epochs": {"0"},
    "log_every": set(),
}
MEANS = {"": None, "-1": -1, "0": 0, "1e-400": 0}
FLAGS = {
    "learning_rate": "--lr",
    "momentum": "--momentum",
    "init_w": "--init-w",
    "init_b": "--init-b",
    "seed": "--seed",
    "epochs": "--epochs",
    "log_every": "--log-every",
}


@pytest.mark.parametrize("field", list(ACCEPTED))
def test_every_value_typed_into_a_field_is_taken_or_refused_as_stated(field: str) -> None:
    """The panel reads a field with parse_field, as the CLI reads its flag (below): every value."""
    for text in VALUES:
        if text in ACCEPTED[field]:
            assert parse_field(field, text) == MEANS[text], text
        else:
            with pytest.raises(SettingsError):
                parse_field(field, text)


def app_cases() -> list[tuple[str, str]]:
    """For each field an accepted value (where it takes one) and two refused ones, dealt so that
    every refused kind of VALUES goes through the app at least once."""
    refused = [text for text in VALUES if text not in {"0", "-1", "", "1e-400"}]
    cases: list[tuple[str, str]] = []
    for index, field in enumerate(ACCEPTED):
        cases += [(field, text) for text in sorted(ACCEPTED[field])[:1]]
        cases += [(field, refused[(2 * index + k) % len(refused)]) for k in range(2)]
    assert {text for _, text in cases} >= set(refused)
    return cases


async def test_a_bad_value_in_any_field_is_marked_and_the_last_good_one_kept() -> None:
    app = make_app(Settings(init_w=0.5, init_b=0.25, momentum=0.5, seed=3, epochs=50, log_every=5))
    async with app.run_test(size=(120, 40)) as pilot:
        for field, text in app_cases():
            widget = app.query_one(f"#field-{field}", Input)
            good = app.leader.settings
            widget.focus()
            widget.value = text
            await pilot.press("enter")
            await pilot.pause()
            row_invalid = app.query_one(f"#row-{field}").has_class("-invalid")
            if text in ACCEPTED[field]:
                assert not row_invalid, (field, text)
                assert getattr(app.leader.settings, field) == MEANS[text], (field, text)
            else:
                assert row_invalid, (field, text)
                reason = shown_text(app.query_one(f"#reason-{field}"))
                assert "keeping" in reason, (field, text, reason)
                assert app.leader.settings == good, (field, text)
            await pilot.press("escape")
        before = app.leader.settings
        await pilot.press("n")
        assert list(app.leader.history)[-1].learning_rate == before.learning_rate


@pytest.mark.parametrize("field", list(ACCEPTED))
def test_every_bad_value_of_a_flag_exits_2_naming_it(capsys: pytest.CaptureFixture[str], field: str) -> None:
    flag = FLAGS[field]
    for text in VALUES:
        code, out, err = invoke(capsys, "--epochs", "0", f"{flag}={text}")
        if text in ACCEPTED[field]:
            assert code == 0, (flag, text, err)
        else:
            assert code == 2 and out == "", (flag, text)
            assert err.count("\n") == 1 and flag in err and "Traceback" not in err, (flag, text, err)


# --------------------------------------------------------------------------- CSV
def test_a_million_row_csv_loads_exactly(tmp_path: Path) -> None:
    rng = random.Random(7)
    xs = [round(rng.uniform(-5, 5), 4) for _ in range(1_000_000)]
    ys = [round(2.5 + 4 * x + rng.gauss(0, 0.5), 4) for x in xs]
    path = tmp_path / "big.csv"
    path.write_text("x,y\n" + "".join(f"{x},{y}\n" for x, y in zip(xs, ys, strict=True)))
    dataset = load_csv(str(path))
    assert dataset.size == 1_000_000
    assert torch.equal(dataset.x_train.flatten(), torch.tensor(xs))
    assert torch.equal(dataset.y_train.flatten(), torch.tensor(ys))


def constant_x_csv(tmp_path: Path) -> Path:
    path = tmp_path / "constant.csv"
    path.write_text("x,y\n2,1\n2,3\n2,5\n")
    return path


def test_constant_x_runs_gradient_descent_like_plain_torch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = constant_x_csv(tmp_path)
    simulation = Simulation(Settings(data=str(path), epochs=30))
    assert not simulation.surface.optimum.unique and "not unique" in simulation.surface.optimum.reason
    x_train = torch.FloatTensor([[2], [2], [2]])
    y_train = torch.FloatTensor([[1], [3], [5]])
    assert as_plain(simulation.run(31)) == pt.raw_loop(x_train, y_train, 30)

    code, out, err = invoke(capsys, "--data", str(path), "--epochs", "30", "--log-every", "10")
    assert code == 0
    assert out.splitlines() == pt.log_lines(pt.raw_loop(x_train, y_train, 30), 30, 10)
    assert err.startswith("lrtui run: note: all x are equal") and "not unique" in err and err.count("\n") == 1


async def test_constant_x_typed_into_the_app_is_explained_in_the_log(tmp_path: Path) -> None:
    path = constant_x_csv(tmp_path)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        widget = app.query_one("#field-data", Input)
        widget.focus()
        widget.value = str(path)
        await pilot.press("enter", "escape")
        await files_read(pilot)
        await pilot.press("N")
        assert "note: all x are equal" in log_text(app) and "not unique" in log_text(app)
        assert app.leader.epoch == 10 and not app.leader.diverged


@pytest.mark.parametrize("cell", ["nan", "inf", "-inf", "1e39"])
async def test_non_finite_cells_are_refused_naming_line_and_column(
    tmp_path: Path, cell: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(f"x,y\n1,1\n2,{cell}\n")
    code, _, err = invoke(capsys, "--data", str(path))
    assert code == 2 and "--data" in err and "line 3, column 2" in err
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        widget = app.query_one("#field-data", Input)
        widget.focus()
        widget.value = str(path)
        await pilot.press("enter")
        await files_read(pilot)
        assert "line 3, column 2" in shown_text(app.query_one("#reason-data"))
        assert app.leader.settings.data == "line"


# ------------------------------------------------------------------------ prompts
async def test_two_quick_enters_in_a_prompt_answer_it_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    app = make_app()
    exports: list[str] = []
    async with app.run_test(size=(120, 40)) as pilot:
        import lrtui.app.files

        real = lrtui.app.files.export_history_csv
        monkeypatch.setattr(
            lrtui.app.files,
            "export_history_csv",
            lambda path, history: (exports.append(path), real(path, history)),
        )
        await pilot.press("N", "e")
        field = app.screen.query_one(Input)
        for _ in range(2):  # both queued before the first is handled, as with a quick double enter
            field.post_message(Input.Submitted(field, field.value))
        await pilot.pause()
        await pilot.pause()
        assert len(exports) == 1 and app.screen is app.screen_stack[0]
