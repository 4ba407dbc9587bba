"""What got in a newcomer's way (issue 12), each as the learner meets it: keys and focus, messages
that agree on the epoch, prompts that keep what was typed, a restart that u takes back."""

from __future__ import annotations

import plain_torch as pt
from app_support import files_read, log_text, logged, make_app, shown_text
from textual.widgets import Input
from textual.widgets._footer import FooterKey

from lrtui.app.widgets.prompt import PathPrompt
from lrtui.app.widgets.state import state_table
from lrtui.engine import Settings
from lrtui.engine.race import Race
from lrtui.engine.settings import field_text

SIZE = (120, 40)


def footer_actions(app) -> set[str]:
    return {key.action for key in app.screen.query(FooterKey)}


async def test_the_footer_shows_only_the_keys_that_work_while_a_field_has_focus() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert {"toggle_run", "step(1)", "quit"} <= footer_actions(app)
        app.query_one("#field-learning_rate", Input).focus()
        await pilot.pause()
        shown = footer_actions(app)
        assert "toggle_run" not in shown and "step(1)" not in shown and "quit" not in shown
        assert "focus_app" in shown  # esc: the way out
        await pilot.press("n")  # types into the field
        assert app.leader.epoch == 0
        await pilot.press("escape")
        await pilot.pause()
        assert {"toggle_run", "step(1)"} <= footer_actions(app) and "focus_app" not in footer_actions(app)


async def test_the_footer_is_rebuilt_only_when_its_keys_change() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        app.query_one("#field-learning_rate", Input).focus()
        await pilot.pause()
        typing = list(app.screen.query(FooterKey))
        await pilot.press("tab")  # the next field: the same keys work
        await pilot.pause()
        assert isinstance(app.focused, Input) and app.focused.id != "field-learning_rate"
        assert list(app.screen.query(FooterKey)) == typing
        await pilot.press("escape")
        await pilot.pause()
        assert "toggle_run" in footer_actions(app) and not set(app.screen.query(FooterKey)) & set(typing)


async def test_leaving_a_field_with_a_refused_value_shows_the_value_in_use_and_why() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        field = app.query_one("#field-learning_rate", Input)
        field.focus()
        await pilot.press("ctrl+a", "ctrl+k", *"abc")
        assert field.value == "abc"  # kept while the learner corrects it
        await pilot.press("escape")
        await pilot.pause()
        assert field.value == field_text("learning_rate", 0.01) and app.leader.settings.learning_rate == 0.01
        reason = shown_text(app.query_one("#reason-learning_rate"))
        assert "'abc' refused" in reason and "keeping 0.01" in reason


async def test_a_data_file_the_app_refuses_is_replaced_by_the_data_in_use_on_leaving() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        field = app.query_one("#field-data", Input)
        field.focus()
        await pilot.press("ctrl+a", "ctrl+k", *"linen+", "tab")
        await files_read(pilot)
        assert field.value == "line" and app.leader.settings.data == "line"
        assert "keeping line" in shown_text(app.query_one("#reason-data"))


async def test_u_at_the_start_of_a_new_problem_brings_the_run_before_back_exactly() -> None:
    app = make_app(Settings(log_every=1))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("N", "n", "n")
        before = list(app.leader.history)
        await pilot.press("b")  # bias off: a new problem
        assert app.leader.epoch == 0 and not app.leader.settings.bias
        assert "u brings the run before back" in logged(app)
        await pilot.press("u")
        assert app.leader.settings.bias and app.leader.epoch == 12 and list(app.leader.history) == before
        assert "undo: back to the run before the restart, after epoch 11 (next epoch 12)" in logged(app)
        await pilot.press("n")
        plain = pt.raw_loop(*pt.line_data(), 12)
        assert pt.FIELDS and [getattr(app.leader.last, k) for k in pt.FIELDS] == [
            plain[12][k] for k in pt.FIELDS
        ]
        await pilot.press("u", "u")  # back within the run brought back, not past its start
        assert app.leader.epoch == 11
        # the log's epoch lines are the run's in use, up to epoch 10: the undone ones are gone
        brought_back = logged(app).split("undo: back to the run before the restart")[-1]
        epochs = [
            int(line.split()[1].split("/")[0])
            for line in brought_back.splitlines()
            if line.startswith("Epoch")
        ]
        assert epochs == list(range(11)), epochs
        await pilot.pause()
        assert log_text(app).splitlines()[-1].startswith("Epoch   10/1000")


async def test_a_refused_contender_keeps_the_prompt_open_with_the_reason() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("a")
        prompt = app.screen
        assert isinstance(prompt, PathPrompt)
        field = prompt.query_one(Input)
        assert field.value == "optimizer=adam lr=0.1"
        await pilot.press(*"zero-grad=of", "enter")  # typing replaced the selected example
        await pilot.pause()
        assert app.screen is prompt and field.value == "zero-grad=of"
        assert "zero_grad must be on or off" in str(prompt.query_one("#prompt-error").render())
        await pilot.press("f", "enter")
        await pilot.pause()
        assert not isinstance(app.screen, PathPrompt)
        assert [run.settings.zero_grad for run in app.race] == [True, False]


async def test_capital_s_saves_a_picture_of_the_screen(tmp_path) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n", "S")
        await pilot.pause()
        picture = tmp_path / "lrtui-epoch-0.svg"  # the epoch the state pane shows
        assert picture.read_text().startswith("<svg")
        assert f"saved a picture of the screen to {picture}" in logged(app)


async def test_a_picture_that_cannot_be_saved_is_said_and_the_app_goes_on(tmp_path, monkeypatch) -> None:
    """Issue 27: S crashed the app when the write failed (a folder named like the picture, the
    current folder deleted) and hung on a named pipe."""
    import os

    monkeypatch.chdir(tmp_path)
    (tmp_path / "lrtui-epoch-0.svg").mkdir()
    os.mkfifo(tmp_path / "lrtui-epoch-1.svg")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n", "S", "n", "S")
        await pilot.pause()
        titles = [note.title for note in app._notifications]
        assert titles.count("Picture not saved") == 2
        gone = tmp_path / "gone"
        gone.mkdir()
        monkeypatch.chdir(gone)
        gone.rmdir()
        await pilot.press("n", "S")
        await pilot.pause()
        assert [note.title for note in app._notifications].count("Picture not saved") == 3
        await pilot.press("n")
        assert app.is_running and app.leader.epoch == 4
    assert (tmp_path / "lrtui-epoch-0.svg").is_dir()


async def test_turning_zero_grad_off_outside_a_lesson_points_to_the_lesson() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("z")
        assert "lesson 4 (press l)" in logged(app)


def test_a_six_digit_epoch_keeps_its_distance_from_the_cost() -> None:
    race = Race.of(Settings(epochs=100000, log_every=100000))
    race.leader.simulation.resume_at(14612, None, None)  # as if far into a long run
    race.step(1)
    headline = state_table(race.leader).renderables[0].plain
    assert "epoch 14612/100000  cost" in headline


def screen_text(app) -> str:
    """What the terminal shows, as text (the screenshot's spans joined, its non-breaking spaces plain)."""
    import html
    import re

    svg = app.export_screenshot()
    return html.unescape(re.sub(r"<[^>]+>", "", svg)).replace("\xa0", " ")


async def test_a_small_screen_with_the_panel_open_still_shows_the_gradients() -> None:
    """At 80x24 with the panel open the state pane is half as wide: its two lines wrap, and the
    pane grows to keep .grad (and what it holds with zero_grad off) on screen."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("z", "n", "n", "s")
        await pilot.pause()
        state = app.run_screen.state_view
        assert state.content_size.width < 60
        assert state.content_size.height == state.rows_for(state_lines(app)) > 2
        shown = screen_text(app)
        assert ".grad W" in shown and "(sum of 2" in shown


def state_lines(app):
    from lrtui.app.widgets.state import compact_state, loop_line

    return [*compact_state(app.leader), *loop_line(app.leader, True)]
