"""Snapshots of mini-batch runs (issue 13): the next batch's optimum and its step beside the
full data's on the surface, the batch's points in the fit, the cost per step and its epoch
mean, and the state pane's epoch, batch and lr. Review an SVG as a picture before committing it."""

from __future__ import annotations

from app_support import make_app
from test_snapshots import run_keys

from lrtui.engine import Settings

NEAR_THE_OPTIMUM = Settings(
    data="noisy", batch_size=10, shuffle=True, learning_rate=0.3, init_w=3.0, init_b=1.5,
    scheduler="step", step_size=1, gamma=0.8,
)  # fmt: skip


class TestMiniBatchScreens:
    def test_surface_with_the_batch_optimum_and_both_steps(self, snap_compare) -> None:
        app = make_app(NEAR_THE_OPTIMUM)
        assert snap_compare(app, terminal_size=(120, 40), run_before=run_keys(*"nnnn"))

    def test_fit_highlights_the_next_batch(self, snap_compare) -> None:
        app = make_app(NEAR_THE_OPTIMUM)
        assert snap_compare(app, terminal_size=(120, 40), run_before=run_keys("N", "n", "n", "v", "v"))

    def test_cost_per_step_and_epoch_mean(self, snap_compare) -> None:
        app = make_app(NEAR_THE_OPTIMUM)
        assert snap_compare(app, terminal_size=(120, 40), run_before=run_keys("ctrl+n", "v"))

    def test_surface_at_80x24(self, snap_compare) -> None:
        app = make_app(NEAR_THE_OPTIMUM)
        assert snap_compare(app, terminal_size=(80, 24), run_before=run_keys(*"nnnn"))

    def test_cost_per_step_at_80x24(self, snap_compare) -> None:
        app = make_app(NEAR_THE_OPTIMUM)
        assert snap_compare(app, terminal_size=(80, 24), run_before=run_keys("ctrl+n", "v"))
