"""Pilot tests for mini-batches in the app (issue 13): n is one batch, f the rest of the epoch,
u one batch back, the state pane's epoch, batch and lr, and the panel's rows, each checked
against the plain DataLoader loop."""

from __future__ import annotations

import plain_torch as pt
from app_support import log_text, make_app, shown_text
from textual.widgets import Input, Select

from lrtui.engine import Settings

SIZE = (120, 40)
SETTINGS = Settings(data="noisy", batch_size=32, shuffle=True, scheduler="step", step_size=1, gamma=0.5)


def plain(epochs: int) -> list[dict[str, object]]:
    x, y = pt.noisy_data()
    return pt.batch_loop(
        x, y, epochs, batch_size=32, shuffle=True, scheduler="step", schedule={"step_size": 1, "gamma": 0.5}
    )


def as_plain(records) -> list[dict[str, object]]:
    return [
        {**{k: getattr(r, k) for k in pt.FIELDS}, "batch": r.batch, "learning_rate": r.learning_rate}
        for r in records
    ]


async def test_n_is_a_batch_f_finishes_the_epoch_and_u_undoes_a_batch() -> None:
    app = make_app(SETTINGS)
    async with app.run_test(size=SIZE) as pilot:
        assert "4 batches an epoch. n: one batch, f: the rest of the epoch, space: run" in log_text(app)
        await pilot.press("n")
        leader = app.leader
        assert (leader.epoch, leader.batch, leader.steps) == (0, 1, 1)
        await pilot.press("f")
        assert (leader.epoch, leader.batch, leader.steps) == (1, 0, 4)
        await pilot.press("f")  # between epochs: a whole epoch
        assert (leader.epoch, leader.batch, leader.steps) == (2, 0, 8)
        await pilot.press("u")
        assert (leader.epoch, leader.batch, leader.steps) == (1, 3, 7)
        await pilot.press("N")
        assert leader.steps == 17
        assert as_plain(leader.history) == plain(4)[:17]
        state = shown_text(app.run_screen.state_view)
        assert "epoch 4/1000, batch 1/4" in state
        assert "lr 0.000625 → 0.0003125 from epoch 5" in state
        assert "batch 32 points" in state
        assert "Epoch    0/1000 Batch 4/4 Cost:" in log_text(app)


async def test_the_panel_has_rows_for_the_loop_and_a_new_schedule_starts_again() -> None:
    app = make_app(SETTINGS)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("N")
        for field in ("batch_size", "shuffle", "scheduler", "step_size", "gamma", "t_max"):
            assert app.query_one(f"#row-{field}")
        # a scheduler that takes no step size: the step size goes back to unset, the run starts again
        app.query_one("#field-scheduler", Select).value = "cosine"
        await pilot.pause()
        assert app.leader.settings.scheduler == "cosine" and app.leader.settings.step_size is None
        assert app.leader.steps == 0 and "a new problem" in log_text(app)
        field = app.query_one("#field-batch_size", Input)
        field.focus()
        await pilot.pause()
        field.value = ""
        await pilot.press("1", "0", "enter")
        await pilot.pause()
        assert app.leader.settings.batch_size == 10 and app.leader.batches_per_epoch == 10


async def test_a_full_batch_run_shows_no_batch() -> None:
    app = make_app(Settings())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f")
        assert app.leader.epoch == 1
        state = shown_text(app.run_screen.state_view)
        assert "epoch 0/1000 " in state and "batch" not in state and "lr " not in state


async def test_ctrl_s_mid_epoch_and_ctrl_o_go_on_with_the_same_batches_and_lr(tmp_path) -> None:
    from test_app import answer_prompt

    path = tmp_path / "batches.json"
    app = make_app(SETTINGS)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"nnnnnn", "ctrl+s")  # epoch 1, batch 2 of 4
        await answer_prompt(pilot, path)
        await pilot.press("N")
        expected = as_plain(app.leader.history)
        assert expected == plain(4)[:16]
        await pilot.press("r", "ctrl+o")
        await answer_prompt(pilot, path)
        leader = app.leader
        assert (leader.epoch, leader.batch, leader.steps) == (1, 2, 6)
        assert "epoch 1/1000, batch 2/4" in shown_text(app.run_screen.state_view)
        await pilot.press("N")
        assert as_plain(leader.history) == expected
        await pilot.press("u")
        assert leader.steps == 15 and as_plain(leader.history) == expected[:15]
