"""One epoch in four phases: the same numbers as a whole epoch, seen between the lines."""

from __future__ import annotations

import pytest

from lrtui.engine import Settings, Simulation

SETTINGS = [
    Settings(),
    Settings(zero_grad=False, optimizer="adam", learning_rate=0.1),
    Settings(model="linear", momentum=0.9, data="noisy"),
    Settings(bias=False, loss_reduction="sum"),
]


@pytest.mark.parametrize("settings", SETTINGS)
def test_phase_by_phase_gives_the_same_epochs(settings: Settings) -> None:
    whole = Simulation(settings).run(6)
    phased = Simulation(settings)
    records = []
    for _ in range(6 * 4):
        record = phased.phase_step()
        if record is not None:
            records.append(record)
    assert records == whole


def test_what_each_phase_changes_in_a_plain_torch_epoch() -> None:
    simulation = Simulation(Settings())
    simulation.run(2)
    last = simulation.last
    seen = []
    for _ in range(4):
        simulation.phase_step()
        before, after = simulation.phase_numbers
        seen.append(simulation.phase)
        if simulation.phase == "forward":
            assert before == after and simulation.trainer.cost_value > 0
        if simulation.phase == "zero_grad":
            assert before["W.grad"] == last.grad_w and after["W.grad"] is None  # set_to_none
        if simulation.phase == "backward":
            assert after["W"] == before["W"] and after["W.grad"] is not None
        if simulation.phase == "step":
            assert after["W"] != before["W"] and after["W"] == simulation.last.w_next
            assert after["W.grad"] == before["W.grad"] == simulation.last.grad_w
    assert seen == ["forward", "zero_grad", "backward", "step"]
    assert not simulation.mid_epoch and simulation.epoch == 3


def test_zero_grad_off_leaves_the_gradient_in_place() -> None:
    simulation = Simulation(Settings(zero_grad=False))
    simulation.run(1)
    simulation.phase_step()
    simulation.phase_step()
    before, after = simulation.phase_numbers
    assert simulation.phase == "zero_grad" and before == after


def test_step_finishes_an_epoch_in_progress() -> None:
    simulation = Simulation(Settings())
    simulation.phase_step()
    record = simulation.step()
    assert record.epoch == 0 and simulation.epoch == 1 and not simulation.mid_epoch
    assert record == Simulation(Settings()).step()


def test_stepping_back_mid_epoch_starts_the_epoch_over() -> None:
    reference = Simulation(Settings(optimizer="adam"))
    reference.run(3)
    simulation = Simulation(Settings(optimizer="adam"))
    simulation.run(3)
    simulation.phase_step()
    simulation.phase_step()
    simulation.phase_step()
    assert simulation.step_back() and simulation.epoch == 3 and not simulation.mid_epoch
    assert simulation.w == reference.w and simulation.run(4) == reference.run(4)


def test_a_settings_change_mid_epoch_starts_the_epoch_over() -> None:
    settings = Settings()
    simulation = Simulation(settings)
    simulation.run(2)
    simulation.phase_step()
    simulation.phase_step()
    simulation.apply(settings.with_changes(learning_rate=0.02))
    assert not simulation.mid_epoch
    reference = Simulation(settings)
    reference.run(2)
    reference.apply(settings.with_changes(learning_rate=0.02))
    assert simulation.run(3) == reference.run(3)


def test_peek_mid_epoch_still_shows_the_whole_next_step() -> None:
    simulation = Simulation(Settings())
    simulation.run(2)
    expected = simulation.peek()
    simulation.phase_step()
    simulation.phase_step()
    assert simulation.peek() == expected
