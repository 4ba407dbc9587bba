"""Snapshots of the optimizers of issue 30. Review an SVG as a picture before committing it."""

from __future__ import annotations

from app_support import make_app, settle

from lrtui.engine import Settings


async def settled(pilot) -> None:
    await settle(pilot)


async def run(pilot, *keys: str) -> None:
    await settle(pilot)
    await pilot.press(*keys)
    await settle(pilot)


class TestOptimizerScreens:
    def test_lbfgs_probes_of_the_next_step(self, snap_compare) -> None:
        """The points L-BFGS's closure evaluates inside the next step, joined in order."""
        settings = Settings(
            data="noisy", optimizer="lbfgs", learning_rate=0.2, max_iter=6, init_w=-3.0, init_b=-2.0
        )
        assert snap_compare(make_app(settings), terminal_size=(120, 40), run_before=settled)

    def test_weight_decay_on_the_surface(self, snap_compare) -> None:
        """Adam with L2 decay: the ridge optimum ◈ beside the plain optimum ◆, the path towards it."""
        settings = Settings(data="noisy", optimizer="adam", learning_rate=0.1, weight_decay=2.0)
        assert snap_compare(
            make_app(settings), terminal_size=(120, 40), run_before=lambda pilot: run(pilot, "N")
        )
