"""Run-mode pacing: epochs per frame from a speed and an injected clock."""

from __future__ import annotations

import pytest
from app_support import FakeClock

from lrtui.app.pacing import FULL_SPEED, MAX_OWED_SECONDS, SPEEDS, Pacer, speed_label


def test_paced_speed_pays_out_whole_epochs_for_elapsed_time() -> None:
    clock = FakeClock()
    pacer = Pacer(10, clock)
    clock.now += 0.25
    assert pacer.epochs_due() == 2
    clock.now += 0.05  # the half epoch left over plus this one
    assert pacer.epochs_due() == 1
    clock.now += 0.3
    assert pacer.epochs_due() == 3


def test_a_stall_does_not_cause_a_burst() -> None:
    clock = FakeClock()
    pacer = Pacer(100, clock)
    clock.now += 60
    assert pacer.epochs_due() == int(100 * MAX_OWED_SECONDS)


def test_restart_forgets_time_spent_paused() -> None:
    clock = FakeClock()
    pacer = Pacer(1, clock)
    clock.now += 0.4
    pacer.restart()
    clock.now += 0.45
    assert pacer.epochs_due() == 0
    clock.now += 0.45
    assert pacer.epochs_due() == 0
    clock.now += 0.1
    assert pacer.epochs_due() == 1


def test_full_speed_runs_until_the_budget_is_spent() -> None:
    clock = FakeClock(tick=0.001)
    pacer = Pacer(FULL_SPEED, clock, frame_budget=0.02)
    steps = []
    done = pacer.run_frame(lambda: steps.append(1) or True)
    assert done == len(steps) and 15 <= done <= 21


def test_run_frame_stops_when_step_says_so() -> None:
    clock = FakeClock(tick=0.001)
    pacer = Pacer(FULL_SPEED, clock)
    left = [3]

    def step() -> bool:
        if left[0] == 0:
            return False
        left[0] -= 1
        return True

    assert pacer.run_frame(step) == 3


def test_unknown_speed_is_refused() -> None:
    with pytest.raises(ValueError):
        Pacer(7, FakeClock())
    pacer = Pacer(1, FakeClock())
    with pytest.raises(ValueError):
        pacer.set_speed(-1)


def test_speed_labels() -> None:
    assert [speed_label(s) for s in SPEEDS][:2] == ["1 epoch/s", "2 epochs/s"]
    assert speed_label(FULL_SPEED) == "full speed"
