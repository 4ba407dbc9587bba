"""Pilot tests: every key and every panel input of the app, numbers checked against plain torch."""

from __future__ import annotations

import re

import plain_torch as pt
from app_support import FakeClock, files_read, log_text, logged, make_app, settle, shown_text
from textual.widgets import Input, Select, Switch

from lrtui.app.pacing import FULL_SPEED
from lrtui.app.widgets.help import HelpScreen
from lrtui.engine import Settings
from lrtui.engine.settings import OPTIMIZERS, PRESETS, field_text

SIZE = (120, 40)


def panel_row_invalid(app, field: str) -> bool:
    return app.query_one(f"#row-{field}").has_class("-invalid")


def reason(app, field: str) -> str:
    return shown_text(app.query_one(f"#reason-{field}"))


async def type_into(pilot, field: str, text: str, submit: bool = True) -> None:
    app = pilot.app
    widget = app.query_one(f"#field-{field}", Input)
    widget.focus()
    await pilot.pause()
    widget.value = ""
    await pilot.press(*list(text))
    if submit:
        await pilot.press("enter")
    await pilot.pause()
    if field == "data":
        await files_read(pilot)


def same_as_plain(records, plain) -> bool:
    return [(r.epoch, r.w, r.b, r.cost, r.grad_w, r.grad_b, r.w_next, r.b_next) for r in records] == [
        tuple(p[k] for k in pt.FIELDS) for p in plain
    ]


# ------------------------------------------------------------------ start and keys
async def test_nothing_has_focus_at_start_and_step_keys_work() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        assert app.focused is None
        await pilot.press("n")
        assert app.leader.epoch == 1
        await pilot.press("right")
        assert app.leader.epoch == 2
        await pilot.press("N")
        assert app.leader.epoch == 12
        await pilot.press("ctrl+n")
        assert app.leader.epoch == 112
        assert len(app.leader.history) == 112
        plain = pt.raw_loop(*pt.line_data(), 111)
        assert same_as_plain(list(app.leader.history), plain)
        assert "Epoch  100/1000 W: 0.873, b: 0.289 Cost: 0.012043" in log_text(app)


async def test_state_shows_the_last_epoch_as_torch_printed_it() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("N")
        state = shown_text(app.run_screen.state_view)
        last = pt.raw_loop(*pt.line_data(), 9)[-1]
        assert "9/1000" in state
        assert f"{last['cost']:.6f}" in state
        assert f"{last['w_next']:.6f}" in state and f"{last['grad_w']:.6f}" in state


async def test_zero_grad_off_accumulates_exactly_as_plain_torch() -> None:
    app = make_app(Settings(data="noisy", learning_rate=0.002))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("z")
        assert app.leader.settings.zero_grad is False
        for _ in range(6):
            await pilot.press("n")
        plain = pt.raw_loop(*pt.noisy_data(), 5, lr=0.002, zero_grad=False)
        assert same_as_plain(list(app.leader.history), plain)
        last = list(app.leader.history)[-1]
        state = shown_text(app.run_screen.state_view)
        assert "fresh" in state and "zero_grad() off" in state
        assert f"{last.grad_w:.6f}" in state and f"{last.fresh_grad_w:.6f}" in state
        assert abs(last.grad_w) > abs(last.fresh_grad_w)
        await pilot.press("z")
        assert app.leader.settings.zero_grad is True
        assert "zero_grad off → on" in log_text(app)


async def test_space_runs_at_the_chosen_speed_and_pauses() -> None:
    clock = FakeClock()
    app = make_app(speed=10, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        (timer,) = app.timers
        assert not timer.active
        await pilot.press("space")
        assert app.running and timer.active
        clock.now += 0.3
        timer.fire()
        assert app.leader.epoch == 3
        clock.now += 0.2
        timer.fire()
        assert app.leader.epoch == 5
        await pilot.press("n")  # keys work while running
        assert app.leader.epoch == 6
        await pilot.press("space")
        assert not app.running and not timer.active
        clock.now += 5
        timer.fire()
        assert app.leader.epoch == 6
        assert "paused" in app.run_screen.state_view.border_subtitle


async def test_full_speed_runs_until_the_frame_budget_is_spent() -> None:
    clock = FakeClock(tick=0.001)
    app = make_app(speed=FULL_SPEED, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space")
        app.timers[0].fire()
        budget_epochs = app.leader.epoch
        assert 5 <= budget_epochs <= 40
        assert same_as_plain(list(app.leader.history), pt.raw_loop(*pt.line_data(), budget_epochs - 1))


async def test_run_stops_when_all_epochs_are_done() -> None:
    clock = FakeClock(tick=0.001)
    app = make_app(Settings(epochs=7), speed=FULL_SPEED, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space")
        for _ in range(5):
            app.timers[0].fire()
        assert app.leader.epoch == 8 and not app.running
        assert "run finished: epochs 0..7 done" in log_text(app)
        await pilot.press("n")
        assert app.leader.epoch == 8
        assert "finished" in app.run_screen.state_view.border_subtitle


async def test_reset_goes_back_to_epoch_zero() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("N", "r")
        assert app.leader.epoch == 0 and len(app.leader.history) == 0
        assert "reset: back to epoch 0" in log_text(app)
        await pilot.press("n")
        assert same_as_plain(list(app.leader.history), pt.raw_loop(*pt.line_data(), 0))


async def test_plus_and_minus_double_and_halve_the_learning_rate_from_the_next_epoch() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n", "n", "plus")
        assert app.leader.settings.learning_rate == 0.02
        assert app.query_one("#field-learning_rate", Input).value == "0.02"
        assert "from epoch 2: learning rate 0.01 → 0.02" in log_text(app)
        await pilot.press("n", "minus", "minus", "n")
        assert app.leader.settings.learning_rate == 0.005
        plain = pt.raw_loop(*pt.line_data(), 3, changes={2: {"lr": 0.02}, 3: {"lr": 0.005}})
        assert same_as_plain(list(app.leader.history), plain)


async def test_o_cycles_the_optimizers_with_a_fresh_one_each_time() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        seen = []
        for _ in OPTIMIZERS:
            await pilot.press("o")
            seen.append(app.leader.settings.optimizer)
            assert app.query_one("#field-optimizer", Select).value == seen[-1]
        assert seen == ["adagrad", "rmsprop", "adam", "adamw", "adadelta", "adamax", "nadam", "radam"] + [
            "asgd",
            "rprop",
            "adafactor",
            "lbfgs",
            "sgd",
        ]
        await pilot.press("o", "o", "o", "n", "n")  # Adam
        plain = pt.raw_loop(*pt.line_data(), 1, optimizer="Adam")
        assert same_as_plain(list(app.leader.history), plain)


async def test_b_toggles_bias_and_resets_the_run() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n", "n", "b")
        assert app.leader.settings.bias is False and app.leader.epoch == 0
        assert "a new problem, so the run starts again at epoch 0" in log_text(app)
        await pilot.press("n")
        assert same_as_plain(list(app.leader.history), pt.raw_loop(*pt.line_data(), 0, bias=False))
        assert "Epoch    0/1000 W: 0.093, Cost: 4.666667" in log_text(app)
        assert app.query_one("#field-bias", Switch).value is False


async def test_d_cycles_the_datasets() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        names = []
        for _ in range(len(PRESETS)):
            await pilot.press("d")
            names.append(app.leader.dataset.name)
        assert names == [*PRESETS[1:], "line"]
        assert app.query_one("#field-data", Input).value == "line"


async def test_v_switches_the_chart_view() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        views = [app.run_screen.chart.view]
        for _ in range(3):
            await pilot.press("v")
            views.append(app.run_screen.chart.view)
        assert views == ["surface", "cost", "fit", "surface"]


async def test_question_mark_opens_help_listing_every_key_and_escape_closes_it() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = " ".join(shown_text(w) for w in app.screen.query("Static"))
        for _binding, explanation in app.key_help():
            assert explanation in text
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_the_help_scrolls_with_the_arrows_at_80x24() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        box = app.screen.query_one("#help")
        assert box.max_scroll_y > 0 and box.scroll_y == 0 and "scroll" in box.border_subtitle
        await pilot.press("down", "pagedown")
        await pilot.pause()
        assert box.scroll_y > 0
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_q_quits() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running


async def test_escape_hands_focus_back_from_an_input() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        app.query_one("#field-seed", Input).focus()
        await pilot.pause()
        await pilot.press("n")  # typed into the field, not a step
        assert app.leader.epoch == 0
        await pilot.press("escape")
        assert app.focused is None
        await pilot.press("n")
        assert app.leader.epoch == 1


async def test_command_palette_offers_every_action() -> None:
    app = make_app()
    async with app.run_test(size=SIZE):
        titles = [command.title for command in app.get_system_commands(app.screen)]
        for binding, _ in app.key_help():
            if binding.id not in ("focus-app", "quit", "help"):
                assert any(title.startswith(binding.description) for title in titles), binding.id
        assert "Keys (?)" in titles


# ---------------------------------------------------------------- panel inputs
async def clear_mark(pilot, field: str) -> None:
    """Type the value in use back into ``field``: its row is no longer marked, so the next
    bad value's mark and reason are that value's own (the cases of one test share an app)."""
    app = pilot.app
    await type_into(pilot, field, field_text(field, getattr(app.leader.settings, field)))
    await pilot.press("escape")
    assert not panel_row_invalid(app, field) and "keeping" not in reason(app, field)


BAD_LEARNING_RATES = [
    ("-1", "positive"),
    ("0", "positive"),
    ("abc", "must be a number"),
    ("nan", "finite"),
    ("inf", "finite"),
    ("1e309", "finite"),
    ("", "empty"),
    ("0." + "0" * 60 + "1", "too many digits"),
]


async def test_invalid_learning_rate_is_marked_and_the_last_good_value_kept() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        for epochs, (text, why) in enumerate(BAD_LEARNING_RATES, 1):
            await clear_mark(pilot, "learning_rate")
            await type_into(pilot, "learning_rate", text)
            assert panel_row_invalid(app, "learning_rate"), text
            assert why in reason(app, "learning_rate"), text
            assert "keeping 0.01" in reason(app, "learning_rate"), text
            assert app.leader.settings.learning_rate == 0.01
            await pilot.press("escape", "n")
            assert len(app.leader.history) == epochs
            assert list(app.leader.history)[-1].learning_rate == 0.01


async def test_invalid_value_is_marked_while_typing_before_enter() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await type_into(pilot, "epochs", "-5", submit=False)
        assert panel_row_invalid(app, "epochs")
        await pilot.press("backspace", "backspace", "7")
        assert not panel_row_invalid(app, "epochs")
        assert app.leader.settings.epochs == 1000  # applied only on enter
        await pilot.press("enter")
        assert app.leader.settings.epochs == 7


async def test_learning_rate_typed_mid_run_takes_effect_at_the_next_epoch() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("N")
        await type_into(pilot, "learning_rate", "0.05")
        assert app.leader.settings.learning_rate == 0.05
        assert "from epoch 10: learning rate 0.01 → 0.05" in log_text(app)
        await pilot.press("escape", "n", "n")
        plain = pt.raw_loop(*pt.line_data(), 11, changes={10: {"lr": 0.05}})
        assert same_as_plain(list(app.leader.history), plain)


async def test_live_inputs_apply_without_reset() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("N")
        for field, text, expected in [("momentum", "0.9", 0.9), ("epochs", "50", 50), ("log_every", "5", 5)]:
            assert getattr(app.leader.settings, field) != expected
            await type_into(pilot, field, text)
            assert getattr(app.leader.settings, field) == expected
            assert app.leader.epoch == 10 and len(app.leader.history) == 10


async def test_problem_inputs_reset_the_run() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        cases = [("init_w", "10", 10.0), ("init_b", "-5", -5.0), ("seed", "7", 7), ("data", "noisy", "noisy")]
        for restarts, (field, text, expected) in enumerate(cases, 1):
            await pilot.press("escape", "N")
            assert app.leader.epoch == 10 and getattr(app.leader.settings, field) != expected
            await type_into(pilot, field, text)
            assert getattr(app.leader.settings, field) == expected
            assert app.leader.epoch == 0 and len(app.leader.history) == 0
            assert logged(app).count("starts again at epoch 0") == restarts, field


async def test_noisy_lesson_start_from_the_panel_matches_plain_torch() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await type_into(pilot, "data", "noisy")
        await type_into(pilot, "init_w", "10")
        await type_into(pilot, "init_b", "-5")
        await type_into(pilot, "learning_rate", "0.1")
        await pilot.press("escape", "N")
        plain = pt.raw_loop(*pt.noisy_data(), 9, lr=0.1, init_w=10.0, init_b=-5.0)
        assert same_as_plain(list(app.leader.history), plain)


BAD_INPUTS = [
    ("momentum", "1.5", "below 1"),
    ("momentum", "-0.1", "at least 0"),
    ("epochs", "-1", "between 0"),
    ("epochs", "2.5", "whole number"),
    ("log_every", "0", "between 1"),
    ("seed", "-3", "between 0"),
    ("init_w", "1e39", "float32"),
    ("init_b", "x", "must be a number"),
    ("data", "missing.csv", "no such file"),
    ("data", "nope", "unknown dataset"),
]


async def test_invalid_inputs_are_refused_with_a_reason() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        for field, text, why in BAD_INPUTS:
            await clear_mark(pilot, field)
            before = app.leader.settings
            await type_into(pilot, field, text)
            assert panel_row_invalid(app, field), (field, text)
            assert why in reason(app, field), (field, text)
            assert app.leader.settings == before


async def test_malformed_csv_is_refused_naming_the_line(tmp_path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("x,y\n1,2\n3,oops\n")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await type_into(pilot, "data", str(path))
        assert "line 3, column 2" in reason(app, "data")
        assert app.leader.settings.data == "line"


async def test_csv_typed_into_data_loads(tmp_path) -> None:
    path = tmp_path / "points.csv"
    path.write_text("x,y\n1,1\n2,2\n3,3\n")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await type_into(pilot, "data", str(path))
        assert app.leader.dataset.name == "points.csv"
        await pilot.press("escape", "n")
        assert same_as_plain(list(app.leader.history), pt.raw_loop(*pt.line_data(), 0))


async def test_selects_apply() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        for field, value in [("model", "linear"), ("optimizer", "adam"), ("loss_reduction", "sum")]:
            assert getattr(app.leader.settings, field) != value
            app.query_one(f"#field-{field}", Select).value = value
            await pilot.pause()
            assert getattr(app.leader.settings, field) == value


async def test_select_by_keyboard() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        app.query_one("#field-loss_reduction", Select).focus()
        await pilot.press("enter", "down", "enter")
        await pilot.pause()
        assert app.leader.settings.loss_reduction == "sum"
        await pilot.press("escape", "n")
        plain = pt.raw_loop(*pt.line_data(), 0, reduction="sum")
        assert same_as_plain(list(app.leader.history), plain)


async def test_speed_select_sets_the_run_speed() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        app.query_one("#field-speed", Select).value = 100
        await pilot.pause()
        assert app.pacer.speed == 100
        assert "100 epochs/s" in app.run_screen.state_view.border_subtitle


async def test_switches_apply() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        for field in ["bias", "zero_grad"]:
            assert getattr(app.leader.settings, field) is True
            switch = app.query_one(f"#field-{field}", Switch)
            switch.focus()
            await pilot.press("enter")
            await pilot.pause()
            assert getattr(app.leader.settings, field) is False
            assert shown_text(app.query_one(f"#state-{field}")) == "off"


async def test_nesterov_without_momentum_is_refused_and_the_switch_goes_back() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        app.query_one("#field-nesterov", Switch).value = True
        await pilot.pause()
        assert app.leader.settings.nesterov is False
        assert app.query_one("#field-nesterov", Switch).value is False
        assert "momentum above 0" in reason(app, "nesterov")
        await type_into(pilot, "momentum", "0.9")
        app.query_one("#field-nesterov", Switch).value = True
        await pilot.pause()
        assert app.leader.settings.nesterov is True


# ------------------------------------------------------------------ divergence
async def test_divergence_is_a_state_the_learner_sees_and_reset_recovers() -> None:
    app = make_app(Settings(learning_rate=1.0))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+n")
        assert app.leader.diverged_at == 19
        assert "DIVERGED at epoch 19" in app.run_screen.state_view.border_subtitle
        assert "diverged at epoch 19" in log_text(app) and "0.1803" in log_text(app)
        await pilot.press("n", "space")
        assert app.leader.epoch == 20 and not app.running
        await pilot.press("r", "minus", "minus", "minus", "N")
        assert app.leader.settings.learning_rate == 0.125
        assert not app.leader.diverged and app.leader.epoch == 10


async def test_stability_limit_is_shown_next_to_the_learning_rate() -> None:
    app = make_app()
    async with app.run_test(size=SIZE):
        assert "stable below 0.1803" in reason(app, "learning_rate")


# ----------------------------------------------------------- sessions and export
async def answer_prompt(pilot, path) -> None:
    prompt = pilot.app.screen.query_one("#prompt-path", Input)
    prompt.value = str(path)
    await pilot.press("enter")
    await pilot.pause()
    await files_read(pilot)


async def test_ctrl_s_saves_and_ctrl_o_loads_a_session_that_steps_on_exactly(tmp_path) -> None:
    path = tmp_path / "run.json"
    app = make_app(Settings(optimizer="adam", learning_rate=0.1, zero_grad=False))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("N", "ctrl+s")
        await answer_prompt(pilot, path)
        assert path.exists() and f"saved the session after epoch 9 (next epoch 10) to {path}" in logged(app)
        await pilot.press("N", "N")
        expected = list(app.leader.history)
        await pilot.press("r", "ctrl+o")
        await answer_prompt(pilot, path)
        assert app.leader.epoch == 10 and len(app.leader.history) == 10
        assert f"loaded {path}" in logged(app)
        await pilot.press("N", "N")
        assert list(app.leader.history) == expected


async def test_a_bad_session_is_refused_and_nothing_changes(tmp_path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"format": "lrtui-session", "version": 1, "sett')
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("N", "ctrl+o")
        await answer_prompt(pilot, path)
        assert app.leader.epoch == 10 and len(app.leader.history) == 10


async def test_escape_cancels_a_prompt() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+s", "escape")
        assert app.focused is None or app.screen is app.screen_stack[0]
        await pilot.press("n")
        assert app.leader.epoch == 1


async def test_e_exports_the_history_as_csv(tmp_path) -> None:
    path = tmp_path / "history.csv"
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("N", "e")
        await answer_prompt(pilot, path)
        lines = path.read_text().splitlines()
        assert lines[0].startswith("epoch,w,b,cost,grad_w,grad_b,w_next,b_next")
        assert len(lines) == 11
        plain = pt.raw_loop(*pt.line_data(), 9)
        assert float(lines[10].split(",")[3]) == plain[9]["cost"]


# ------------------------------------------------------------------ stepping back
async def test_u_and_left_step_back_exactly_and_restore_the_log() -> None:
    app = make_app(Settings(optimizer="adam", learning_rate=0.1, log_every=5, zero_grad=False))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("N", "N")
        forward = list(app.leader.history)
        before = log_text(app)
        await pilot.press("n", "plus")
        assert "from epoch 21: learning rate 0.1 → 0.2" in log_text(app)
        await pilot.press("u")
        assert app.leader.epoch == 20 and len(app.leader.history) == 20
        assert app.leader.settings.learning_rate == 0.1
        assert app.query_one("#field-learning_rate", Input).value == "0.1"
        assert log_text(app) == before
        for _ in range(5):
            await pilot.press("left")
        assert app.leader.epoch == 15
        assert "Epoch   15/1000" not in log_text(app) and "Epoch   10/1000" in log_text(app)
        assert list(app.leader.history) == forward[:15]
        await pilot.press("N")
        assert list(app.leader.history)[:20] == forward
        plain = pt.raw_loop(*pt.line_data(), 24, optimizer="Adam", lr=0.1, zero_grad=False)
        assert same_as_plain(list(app.leader.history), plain)


async def test_stepping_back_at_epoch_zero_says_so() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("u")
        assert app.leader.epoch == 0
        assert any("Nothing to undo: no epoch has run yet." in str(n.message) for n in app._notifications)


async def test_a_key_pressed_again_and_again_shows_one_toast() -> None:
    app = make_app(Settings(learning_rate=1.0))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+n")
        assert app.leader.diverged
        await pilot.press(*"NNNNNN")
        messages = [n.message for n in app._notifications]
        assert messages.count(f"The run diverged at epoch {app.leader.diverged_at}: press r to reset.") == 1


async def test_x_writes_the_pytorch_script_for_the_current_settings(tmp_path) -> None:
    path = tmp_path / "train.py"
    app = make_app(Settings(zero_grad=False, epochs=3, log_every=1))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("x")
        await answer_prompt(pilot, path)
        script = path.read_text()
        assert "# optimizer.zero_grad()" in script and "optim.SGD([W, b], lr=0.01)" in script
        assert f"wrote the PyTorch script for these settings to {path}" in logged(app)


# ------------------------------------------------------------------ code view and phases
async def test_c_shows_the_code_being_run_and_back() -> None:
    app = make_app(Settings(zero_grad=False))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("c")
        assert app.run_screen.code_view.display and not app.run_screen.chart.display
        script = shown_text(app.query_one("#code-script"))
        assert "# optimizer.zero_grad()  # turned off" in script
        assert "optimizer = optim.SGD([W, b], lr=0.01)" in script
        await pilot.press("c")
        assert app.run_screen.chart.display and not app.run_screen.code_view.display


async def test_p_steps_through_the_four_phases_of_an_epoch() -> None:
    app = make_app(Settings(optimizer="adam"))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        phases = []
        for _ in range(4):
            await pilot.press("p")
            phases.append(app.leader.phase)
            panel = shown_text(app.query_one("#code-state"))
            if app.leader.mid_epoch:
                assert f"phase {len(phases)}/4" in panel
        assert phases == ["forward", "zero_grad", "backward", "step"]
        assert app.leader.epoch == 2 and len(app.leader.history) == 2
        assert "Adam.state" in shown_text(app.query_one("#code-state"))
        plain = pt.raw_loop(*pt.line_data(), 1, optimizer="Adam")
        assert same_as_plain(list(app.leader.history), plain)


async def test_p_then_n_finishes_the_epoch_and_u_starts_it_over() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("p", "p", "u")
        assert app.leader.epoch == 0 and not app.leader.mid_epoch
        await pilot.press("p", "p", "n", "n")
        assert app.leader.epoch == 2
        assert same_as_plain(list(app.leader.history), pt.raw_loop(*pt.line_data(), 1))


async def test_escape_leaves_every_kind_of_field_and_the_footer_says_so() -> None:
    """Issue 26: esc left the text fields but not the dropdowns or the switches, and with one
    focused the footer offered no esc (space opened the dropdown or flipped the switch)."""
    from lrtui.app.widgets.footer import shown_keys

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        for field in (
            "#field-optimizer",
            "#field-loss_reduction",
            "#field-bias",
            "#field-zero_grad",
            "#field-seed",
        ):
            app.query_one(field).focus()
            await pilot.pause()
            shown = {
                (key, action)
                for key, action, _, show, enabled, _ in shown_keys(app.screen)
                if show and enabled
            }
            assert ("escape", "focus_app") in shown, field
            await pilot.press("escape")
            assert app.focused is None, field
        await pilot.press("n")
        assert app.leader.epoch == 1 and app.leader.settings.bias


async def test_the_log_wraps_again_when_the_panel_narrows_it() -> None:
    """Issue 26: at 80x24, s opened the panel and the log kept its lines as wrapped before,
    cut at the new edge ('…a learning rate so smal')."""
    from rich.cells import cell_len

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("z")  # a long line about .grad
        await pilot.pause()
        before = log_text(app)
        await pilot.press("s")
        for _ in range(3):  # the layout, then the log's Resize
            await settle(pilot)
        pane = app.run_screen.log_pane
        width = pane.scrollable_content_region.width
        assert width < 70 and all(cell_len(line.text.rstrip()) <= width for line in pane.lines)
        assert " ".join(line.text for line in pane.lines).split() == before.split()  # every word kept


async def test_the_code_view_opens_at_the_loop_on_a_small_screen() -> None:
    """Issue 26: at 80x24 the code view opened at the script's docstring."""
    from textual.containers import VerticalScroll

    from lrtui.app.widgets.code import wrapped_row

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("c")
        for _ in range(3):
            await settle(pilot)
        view = app.run_screen.code_view
        scroll = view.query_one("#code-scroll", VerticalScroll)
        script = view.query_one("#code-script")
        syntax = script.content
        forward = view._lines["forward"]
        row = wrapped_row(syntax, forward, script.content_size.width)
        assert scroll.scroll_y <= row < scroll.scroll_y + scroll.scrollable_content_region.height


async def test_toasts_leave_the_logs_newest_lines_in_view() -> None:
    """Issue 26: toasts covered the last log lines ('» run finished: epochs 0▌')."""
    from textual.widgets._toast import Toast

    for size in ((120, 40), (80, 24)):
        app = make_app(Settings(epochs=3))
        async with app.run_test(size=size, notifications=True) as pilot:
            await pilot.press("ctrl+n", "n")  # finished, then a warning toast
            for _ in range(3):
                await settle(pilot)
            toasts = list(app.query(Toast))
            assert toasts, size
            log = app.run_screen.log_pane.region
            assert all(not toast.region.overlaps(log) for toast in toasts), size


async def test_the_state_pane_follows_the_phases_of_a_step() -> None:
    """Issue 26: with c and p the state pane kept the last whole step's numbers, so the new
    .grad after backward was shown nowhere at 80x24."""
    plain = pt.raw_loop(*pt.line_data(), 0)[0]
    for size in ((120, 40), (80, 24)):
        app = make_app()
        async with app.run_test(size=size) as pilot:
            seen = []
            for _ in range(3):
                await pilot.press("p")
                await settle(pilot)
                seen.append(shown_text(app.run_screen.state_view))
            forward, zero_grad, backward = seen
            assert "phase 1/4 (forward)" in forward and f"{plain['cost']:.6f}" in forward, size
            assert "phase 3/4 (backward)" in backward and f"{plain['grad_w']:.6f}" in backward, size
            assert f"{plain['grad_w']:.6f}" not in zero_grad, size  # zero_grad: .grad None
            await pilot.press("p")
            await settle(pilot)
            done = shown_text(app.run_screen.state_view)
            assert "phase" not in done and f"{plain['w_next']:.6f}" in done, size


async def test_the_zero_grad_off_line_is_whole_at_120_columns() -> None:
    """Issue 26: at 120 columns the zero_grad-off line was cut ('… = -1.21 × this epoch's')."""
    from rich.cells import cell_len

    from lrtui.app.widgets.state import accumulation_line

    app = make_app(Settings(zero_grad=False, data="noisy"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+n", *"NNNNNNNNN")
        await settle(pilot)
        line = accumulation_line(app.leader).plain
        assert re.search(r"the sum of \d+ fresh grads = \S+ × this step.s$", line), line
        assert cell_len(line) <= app.run_screen.state_view.content_size.width
