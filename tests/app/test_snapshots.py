"""Snapshots of the whole app at fixed sizes. Review an SVG as a picture before committing it."""

from __future__ import annotations

import pytest
from app_support import HeldOpener, make_app, make_opening_app, settle

from lrtui.app.opening import Opening
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
        app = make_app(lesson.settings, lesson=lesson, language="ko")
        assert snap_compare(app, terminal_size=(120, 40), run_before=run_keys("z", "n", "n", "n"))


SIZES = {"80x24": (80, 24), "120x40": (120, 40)}


def noisy_run_keys(*keys: str):
    """A noisy run some epochs in (a path, a falling cost, a fitted line to see), then keys."""
    return run_keys(*"N" * 3, *keys)


NOISY = Settings(data="noisy", learning_rate=0.05, log_every=10)


class TestEveryViewAtBothSizes:
    """Every view at 80x24 (most terminals' default size) and 120x40 (the design size)."""

    @pytest.mark.parametrize("size", SIZES)
    def test_cost_per_epoch(self, snap_compare, size: str) -> None:
        assert snap_compare(make_app(NOISY), terminal_size=SIZES[size], run_before=noisy_run_keys("v"))

    @pytest.mark.parametrize("size", SIZES)
    def test_data_and_fit(self, snap_compare, size: str) -> None:
        assert snap_compare(make_app(NOISY), terminal_size=SIZES[size], run_before=noisy_run_keys("v", "v"))

    @pytest.mark.parametrize("size", SIZES)
    def test_code_view(self, snap_compare, size: str) -> None:
        assert snap_compare(make_app(NOISY), terminal_size=SIZES[size], run_before=noisy_run_keys("c"))

    def test_phases_at_80x24(self, snap_compare) -> None:
        """120x40: test_code_view_mid_epoch_with_zero_grad_off."""
        app = make_app(Settings(zero_grad=False, optimizer="sgd", momentum=0.9))
        assert snap_compare(app, terminal_size=(80, 24), run_before=run_keys("n", "n", "p", "p", "p"))

    def test_race_with_a_contender_at_80x24(self, snap_compare) -> None:
        """120x40: test_race_of_four."""

        async def run_before(pilot) -> None:
            await settle(pilot)
            await pilot.press("a", "ctrl+a", "ctrl+k", *"optimizer=adam lr=0.1", "enter")
            await pilot.press("N", "N", "N")
            await settle(pilot)

        assert snap_compare(make_app(NOISY), terminal_size=(80, 24), run_before=run_before)

    def test_help_screen_at_80x24(self, snap_compare) -> None:
        """120x40: test_help_screen."""
        assert snap_compare(make_app(), terminal_size=(80, 24), run_before=run_keys("question_mark"))

    @pytest.mark.parametrize("size", SIZES)
    def test_loading_torch(self, snap_compare, size: str) -> None:
        """The first frame, before the race is open, with two keys waiting."""
        opener = HeldOpener()
        app = make_opening_app(Opening(Settings(learning_rate=0.05)), opener)
        try:
            assert snap_compare(app, terminal_size=SIZES[size], run_before=run_keys("n", "space"))
        finally:
            opener.released.set()
