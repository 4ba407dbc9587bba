"""Snapshots of the whole app at fixed sizes. Review an SVG as a picture before committing it."""

from __future__ import annotations

from app_support import make_app, settle

from lrtui.engine import Settings


def run_keys(*keys: str):
    async def run_before(pilot) -> None:
        await settle(pilot)
        if keys:
            await pilot.press(*keys)
        await settle(pilot)

    return run_before


class TestAppScreens:
    def test_start_screen(self, snap_compare) -> None:
        assert snap_compare(make_app(), terminal_size=(120, 40), run_before=run_keys())

    def test_after_ten_steps(self, snap_compare) -> None:
        assert snap_compare(make_app(), terminal_size=(120, 40), run_before=run_keys("N"))

    def test_zero_grad_off_after_five_steps(self, snap_compare) -> None:
        app = make_app(Settings(zero_grad=False))
        assert snap_compare(app, terminal_size=(120, 40), run_before=run_keys(*"nnnnn"))

    def test_zero_grad_off_on_noisy_data_keys_both_arrows_above_the_plot(self, snap_compare) -> None:
        """Epoch 9 of issue 12: the point and its next step inside the plot, the key in the title."""
        app = make_app(Settings(data="noisy", init_w=10.0, init_b=-5.0, learning_rate=0.1, zero_grad=False))
        assert snap_compare(app, terminal_size=(120, 40), run_before=run_keys(*"n" * 9))

    def test_zero_grad_off_on_noisy_data_at_80x24(self, snap_compare) -> None:
        app = make_app(Settings(data="noisy", init_w=10.0, init_b=-5.0, learning_rate=0.1, zero_grad=False))
        assert snap_compare(app, terminal_size=(80, 24), run_before=run_keys(*"n" * 9))

    def test_bias_off(self, snap_compare) -> None:
        app = make_app(Settings(bias=False, learning_rate=0.15, epochs=10, log_every=1))
        assert snap_compare(app, terminal_size=(120, 40), run_before=run_keys(*"nnnn"))

    def test_small_terminal(self, snap_compare) -> None:
        assert snap_compare(make_app(), terminal_size=(80, 24), run_before=run_keys("N"))

    def test_tiny_terminal_says_to_enlarge_it(self, snap_compare) -> None:
        assert snap_compare(make_app(), terminal_size=(40, 12), run_before=run_keys("N"))

    def test_help_screen(self, snap_compare) -> None:
        assert snap_compare(make_app(), terminal_size=(120, 40), run_before=run_keys("question_mark"))

    def test_invalid_learning_rate(self, snap_compare) -> None:
        async def run_before(pilot) -> None:
            pilot.app.query_one("#field-learning_rate").focus()
            await settle(pilot)
            await pilot.press("ctrl+a", "ctrl+k", "minus", "1", "enter")
            await settle(pilot)

        assert snap_compare(make_app(), terminal_size=(120, 40), run_before=run_before)

    def test_diverged(self, snap_compare) -> None:
        app = make_app(Settings(learning_rate=1.0))
        assert snap_compare(app, terminal_size=(120, 40), run_before=run_keys("ctrl+n"))

    def test_code_view_mid_epoch_with_zero_grad_off(self, snap_compare) -> None:
        app = make_app(Settings(zero_grad=False, optimizer="sgd", momentum=0.9))
        assert snap_compare(app, terminal_size=(120, 40), run_before=run_keys("n", "n", "p", "p", "p"))

    def test_race_of_four(self, snap_compare) -> None:
        async def run_before(pilot) -> None:
            await settle(pilot)
            for changes in ("optimizer=adam", "momentum=0.9", "zero-grad=off"):
                await pilot.press("a", "ctrl+a", "ctrl+k", *changes, "enter")
            await pilot.press("N", "N", "N")
            await settle(pilot)

        app = make_app(Settings(data="noisy", init_w=10.0, init_b=-5.0, learning_rate=0.1, log_every=10))
        assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)

    def test_race_cost_per_epoch(self, snap_compare) -> None:
        async def run_before(pilot) -> None:
            await settle(pilot)
            for changes in ("optimizer=adam lr=0.1", "lr=1"):
                await pilot.press("a", "ctrl+a", "ctrl+k", *changes, "enter")
            await pilot.press("ctrl+n", "v")
            await settle(pilot)

        assert snap_compare(make_app(), terminal_size=(120, 40), run_before=run_before)

    def test_lesson_picker(self, snap_compare) -> None:
        assert snap_compare(make_app(), terminal_size=(120, 40), run_before=run_keys("l", "down", "down"))

    def test_lesson_in_korean_with_its_goal_met(self, snap_compare) -> None:
        from lrtui.lessons import find_lesson

        lesson = find_lesson("zero-grad", "ko")
        app = make_app(lesson.settings)
        app.language, app._lesson_to_start = "ko", lesson
        assert snap_compare(app, terminal_size=(120, 40), run_before=run_keys("z", "n", "n", "n"))
