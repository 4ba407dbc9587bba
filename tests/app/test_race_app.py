"""Races in the app: a and A add and remove contenders; every key moves them in lockstep."""

from __future__ import annotations

import math

import plain_torch as pt
from app_support import FakeClock, log_text, make_app, settle, shown_text
from textual.widgets import Input

from lrtui.app.pacing import FULL_SPEED
from lrtui.app.widgets.prompt import PathPrompt
from lrtui.engine import Settings

SIZE = (120, 40)
ADAM = pt.raw_loop(*pt.line_data(), 300, optimizer="Adam", lr=0.1)
MOMENTUM = pt.raw_loop(*pt.line_data(), 300, options={"momentum": 0.9})


async def add_contender(pilot, changes: str) -> None:
    await pilot.press("a")
    assert isinstance(pilot.app.screen, PathPrompt)
    field = pilot.app.screen.query_one(Input)
    field.value = ""
    await pilot.press(*changes, "enter")
    await pilot.pause()


def rival_records(app, letter: str) -> list[dict]:
    rival = next(r for r in app.race if r.letter == letter)
    return [{k: getattr(record, k) for k in pt.FIELDS} for record in rival.history]


async def test_a_adds_contenders_that_step_in_lockstep_exactly() -> None:
    app = make_app(Settings(log_every=5))
    async with app.run_test(size=SIZE) as pilot:
        await add_contender(pilot, "optimizer=adam lr=0.1")
        await add_contender(pilot, "momentum=0.9")
        assert [r.letter for r in app.race.rivals] == ["B", "C"]
        await pilot.press("n", "N", "right")
        assert app.leader.epoch == 12
        assert rival_records(app, "B") == ADAM[:12]
        assert rival_records(app, "C") == MOMENTUM[:12]
        log = log_text(app)
        assert "B joins the race: Adam lr 0.1" in log
        assert "Epoch   10/1000 A W:" in log and "Epoch   10/1000 C W:" in log
        row_b = f"Epoch   10/1000 B W: {ADAM[10]['w_next']:.3f}, b: {ADAM[10]['b_next']:.3f} Cost: {ADAM[10]['cost']:.6f}"
        assert row_b in log
        state = shown_text(app.run_screen.state_view)
        assert "B Adam lr 0.1" in state and f"cost {ADAM[11]['cost']:.6f}" in state
        assert "C SGD lr 0.01 momentum 0.9" in state


async def test_a_contender_added_mid_run_catches_up() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("N", "N")
        await add_contender(pilot, "optimizer=adam lr=0.1")
        assert "B joins the race: Adam lr 0.1, caught up: after epoch 19 (next epoch 20)" in log_text(app)
        assert rival_records(app, "B") == ADAM[:20]


async def test_step_back_and_reset_move_every_contender() -> None:
    app = make_app(Settings(log_every=3))
    async with app.run_test(size=SIZE) as pilot:
        await add_contender(pilot, "optimizer=adam lr=0.1")
        await pilot.press("N", "u", "left", "u")
        assert app.leader.epoch == 7 and rival_records(app, "B") == ADAM[:7]
        assert "Epoch    9/1000 B" not in log_text(app) and "Epoch    6/1000 B" in log_text(app)
        await pilot.press("n", "n")
        assert rival_records(app, "B") == ADAM[:9]
        await pilot.press("r")
        rival = app.race.rivals[0]
        assert rival.simulation.epoch == 0 and len(rival.history) == 0
        await pilot.press("n")
        assert rival_records(app, "B") == ADAM[:1]


async def test_running_at_full_speed_keeps_the_race_in_lockstep() -> None:
    clock = FakeClock(tick=0.0005)
    app = make_app(Settings(epochs=300), speed=FULL_SPEED, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await add_contender(pilot, "momentum=0.9")
        await pilot.press("space")
        while app.running:
            app.timers[0].fire()
        await pilot.pause()
        assert app.leader.finished
        assert rival_records(app, "B") == MOMENTUM
        assert "Epoch  300/300 B W:" in log_text(app)


async def test_a_new_problem_restarts_the_race_and_live_changes_stay_with_a() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await add_contender(pilot, "optimizer=adam lr=0.1")
        await pilot.press("N", "plus", "d")  # lr×2 is A's alone; the next dataset is everybody's
        rival = app.race.rivals[0]
        assert app.leader.settings.data == "double" and rival.settings.data == "double"
        assert rival.settings.learning_rate == 0.1 and rival.simulation.epoch == 0
        await pilot.press("n", "n")
        double_adam = pt.raw_loop(*pt.double_data(), 1, optimizer="Adam", lr=0.1)
        assert rival_records(app, "B") == double_adam


async def test_a_diverging_contender_is_logged_and_the_others_go_on() -> None:
    app = make_app(Settings(log_every=100))
    async with app.run_test(size=SIZE) as pilot:
        await add_contender(pilot, "lr=1")
        await pilot.press("N", "N", "N")
        plain = pt.raw_loop(*pt.line_data(), 60, lr=1.0)
        first = next(r["epoch"] for r in plain if not math.isfinite(r["cost"]))
        assert app.leader.epoch == 30 and not app.leader.diverged
        rival = app.race.rivals[0]
        assert rival.simulation.diverged_at == first
        assert f"B diverged at epoch {first}" in log_text(app)
        assert "B SGD lr 1" in shown_text(app.run_screen.state_view)
        assert f"diverged at epoch {first}" in shown_text(app.run_screen.state_view)


async def test_bad_contender_is_refused_and_a_race_holds_four() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await add_contender(pilot, "data=noisy")
        assert isinstance(app.screen, PathPrompt)  # kept open with the reason, to be corrected
        assert "shared by every contender" in str(app.screen.query_one("#prompt-error").render())
        await pilot.press("escape")
        assert len(app.race.rivals) == 0
        await add_contender(pilot, "lr=0.02")
        await add_contender(pilot, "lr=0.03")
        await add_contender(pilot, "lr=0.04")
        assert [r.letter for r in app.race.rivals] == ["B", "C", "D"]
        await pilot.press("a")
        assert not isinstance(app.screen, PathPrompt)
        assert any("at most 4 contenders" in n.message for n in app._notifications)
        await pilot.press("A", "A")
        assert [r.letter for r in app.race.rivals] == ["B"]
        assert "D leaves the race" in log_text(app) and "C leaves the race" in log_text(app)
        await pilot.press("A", "A")
        assert len(app.race.rivals) == 0
        assert any("No contender to take out" in n.message for n in app._notifications)


async def test_escape_in_the_contender_prompt_adds_nothing() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("a")
        assert isinstance(app.screen, PathPrompt)
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, PathPrompt) and len(app.race.rivals) == 0
        await pilot.press("n")
        assert app.leader.epoch == 1


async def test_a_small_screen_shows_the_race_on_one_line_under_the_numbers() -> None:
    app = make_app(Settings(zero_grad=False))
    async with app.run_test(size=(80, 24)) as pilot:
        chart_height = app.run_screen.chart.size.height
        await add_contender(pilot, "optimizer=adam lr=0.1")
        await add_contender(pilot, "lr=1")
        await pilot.press("N", "N", "N")
        await pilot.pause()
        state = shown_text(app.run_screen.state_view)
        adam = pt.raw_loop(*pt.line_data(), 29, optimizer="Adam", lr=0.1, zero_grad=False)  # as A: off
        diverged = app.race.rivals[1].simulation.diverged_at
        assert f"cost B {adam[29]['cost']:.6f}" in state and f"C ✖{diverged}" in state and diverged
        # the state's two lines, and one line for every rival: the chart gives up that one row only
        assert (
            app.run_screen.state_view.size.height == 3
            and app.run_screen.chart.size.height == chart_height - 1
        )
        await pilot.resize_terminal(120, 40)
        await pilot.press("n")
        await pilot.pause()  # the new height is laid out on the next frame
        assert (
            "B Adam lr 0.1" in shown_text(app.run_screen.state_view)
            and app.run_screen.state_view.size.height == 7
        )


def test_lrtui_compare_opens_the_app_with_the_race_set_up(monkeypatch) -> None:
    import lrtui.app.app
    import lrtui.cli.commands

    opened = []
    monkeypatch.setattr(lrtui.app.app.LrtuiApp, "run", lambda app: opened.append(app))
    assert (
        lrtui.cli.main(["--lr", "0.05", "--compare", "optimizer=adam lr=0.1", "--compare", "momentum=0.9"])
        == 0
    )
    (app,) = opened
    from lrtui.app.opening import open_race

    race = open_race(app.opening).race
    assert [rival.letter for rival in race.rivals] == ["B", "C"]
    assert race.labels() == [
        "SGD lr 0.05",
        "Adam lr 0.1",
        "SGD lr 0.05 momentum 0.9",
    ]


async def test_saving_during_a_race_says_only_a_is_kept(tmp_path) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await add_contender(pilot, "optimizer=adam lr=0.1")
        await pilot.press("N", "ctrl+s")
        field = app.screen.query_one(Input)
        field.value = str(tmp_path / "race.json")
        await pilot.press("enter")
        await pilot.pause()
        assert (tmp_path / "race.json").exists()
        assert "a session does not keep the race's other contenders" in log_text(app)


async def test_nesterov_momentum_leaves_with_sgd_from_the_panel_o_and_a_alike() -> None:
    """Issue 25: with --momentum 0.9 --nesterov, `o` and the panel's Adagrad were refused
    ("Nesterov momentum is an option of SGD only") while `a` with optimizer=adagrad raced."""
    from textual.widgets import Select

    nesterov = Settings(data="double", momentum=0.9, nesterov=True)
    app = make_app(nesterov)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("n", "o")
        await settle(pilot)
        by_key = app.leader.settings
        assert (by_key.optimizer, by_key.momentum, by_key.nesterov) == ("adagrad", 0.0, False)
        assert "from epoch 1: optimizer sgd → adagrad, momentum 0.9 → 0, nesterov on → off" in log_text(app)
        await pilot.press("r", "u", "u")  # back to the SGD run, before the `o`
        await settle(pilot)
        assert app.leader.settings == nesterov
        app.query_one("#field-optimizer", Select).value = "adagrad"
        await settle(pilot)
        assert app.leader.settings == by_key
        await pilot.press("a", "ctrl+a", "ctrl+k", *"optimizer=rmsprop", "enter")
        await settle(pilot)
        rival = app.race.rivals[0].settings
        assert (rival.optimizer, rival.momentum, rival.nesterov) == ("rmsprop", 0.0, False)


async def test_the_race_prompt_shows_its_whole_question() -> None:
    """Issue 26: at 120 columns the race prompt's question was cut ('e.g. optimizer=adam l')."""
    from textual.widgets import Label

    for size in ((120, 40), (80, 24)):
        app = make_app()
        async with app.run_test(size=size) as pilot:
            await pilot.press("a")
            await settle(pilot)
            assert isinstance(app.screen, PathPrompt)
            label = app.screen.query(Label).first()
            box = label.parent.content_region
            assert label.region.right <= box.right, size  # inside its box, not cut at its edge
            shown = " ".join(strip.text.strip() for strip in label.render_lines(label.region.reset_offset))
            assert shown.split() == app.screen.question.split(), size
