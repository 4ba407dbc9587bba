"""Snapshots with three features (Lab 4-1): the slice view and the state pane at both sizes.
Review an SVG as a picture before committing it."""

from __future__ import annotations

from app_support import make_app, settle

from lrtui.engine import Settings

LAB = Settings(data="scores", learning_rate=1e-5, epochs=20, log_every=1)


def run_keys(*keys: str):
    async def run_before(pilot) -> None:
        await settle(pilot)
        if keys:
            await pilot.press(*keys)
        await settle(pilot)

    return run_before


def test_slice_and_state_with_three_features(snap_compare) -> None:
    assert snap_compare(make_app(LAB), terminal_size=(120, 40), run_before=run_keys(*"nnnnn"))


def test_slice_and_state_with_three_features_at_80x24(snap_compare) -> None:
    assert snap_compare(make_app(LAB), terminal_size=(80, 24), run_before=run_keys(*"nnnnn"))


def test_the_next_slice_standardized_with_zero_grad_off(snap_compare) -> None:
    settings = LAB.with_changes(standardize=True, learning_rate=0.1, zero_grad=False)
    assert snap_compare(make_app(settings), terminal_size=(120, 40), run_before=run_keys(*"nnnw"))


def test_predicted_against_actual_y(snap_compare) -> None:
    settings = LAB.with_changes(standardize=True, learning_rate=0.1)
    assert snap_compare(make_app(settings), terminal_size=(120, 40), run_before=run_keys(*"NNvv"))
