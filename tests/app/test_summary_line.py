"""The one line a small screen shows in place of the parameter panel."""

from __future__ import annotations

import pytest

from lrtui.app.pacing import FULL_SPEED
from lrtui.app.screen import summary_line
from lrtui.engine import Settings

SETTINGS = [
    Settings(),
    Settings(data="noisy", batch_size=10, shuffle=True),
    Settings(data="noisy", zero_grad=False, optimizer="adam", learning_rate=0.1),
    Settings(data="scaled", standardize=True, loss="huber", batch_size=10, shuffle=True, scheduler="step"),
]


@pytest.mark.parametrize("settings", SETTINGS)
@pytest.mark.parametrize("width", [78, 98, 60])
def test_the_summary_fits_its_line_and_says_how_to_open_the_panel(settings: Settings, width: int) -> None:
    line = summary_line(settings, FULL_SPEED, width)
    assert len(line) <= width and line.endswith(" · s: parameters") and line.startswith(settings.data)
    full = summary_line(settings, FULL_SPEED, 1000)
    if line != full:  # what was left out is the speed, then the model's words, then a cut that says so
        assert "full speed" in full or "…" in line


def test_at_80_columns_the_default_summary_keeps_everything() -> None:
    line = summary_line(Settings(), 10, 78)
    assert "raw W, b" in line and "10 epochs/s" in line and "zero_grad on" in line


def test_a_mini_batch_summary_keeps_the_batch_and_zero_grad_first() -> None:
    line = summary_line(Settings(data="noisy", batch_size=10, shuffle=True), 10, 78)
    assert "batch 10 shuffled" in line and "zero_grad on" in line and "…" not in line
