"""Stepping back: any epoch undone exactly, so stepping forward again repeats it bit for bit."""

from __future__ import annotations

import pytest
import torch

from lrtui.engine import Settings, Simulation
from lrtui.engine.checkpoints import CHEAP_STEP_EVERY, CHEAP_STEP_POINTS, CHECKPOINT_EVERY
from lrtui.engine.data import from_tensors

SETTINGS = [
    Settings(),
    Settings(optimizer="adam", learning_rate=0.1, zero_grad=False),
    Settings(model="linear", momentum=0.9, nesterov=True, data="noisy", learning_rate=0.01),
    Settings(optimizer="rmsprop", momentum=0.5, bias=False),
    Settings(optimizer="adagrad", loss_reduction="sum", learning_rate=0.05),
]


def optimizer_state(simulation: Simulation) -> list:
    state = simulation.trainer.optimizer.state_dict()["state"]
    return [
        {key: value.tolist() if hasattr(value, "tolist") else value for key, value in entries.items()}
        for _, entries in sorted(state.items())
    ]


def grads(simulation: Simulation) -> list:
    return [None if p.grad is None else p.grad.tolist() for p in simulation.trainer.params]


@pytest.mark.parametrize("settings", SETTINGS)
def test_stepping_back_restores_everything_and_forward_repeats_bit_for_bit(settings: Settings) -> None:
    straight = Simulation(settings)
    records = straight.run(100)
    rewound = Simulation(settings)
    rewound.run(100)
    for epoch in range(99, 39, -1):
        assert rewound.step_back()
        assert rewound.epoch == epoch
        assert rewound.last == records[epoch - 1]
    reference = Simulation(settings)
    reference.run(40)
    assert rewound.w == reference.w and rewound.b == reference.b
    assert grads(rewound) == grads(reference)
    assert optimizer_state(rewound) == optimizer_state(reference)
    assert rewound.run(60) == records[40:]


def test_step_back_to_epoch_zero_and_no_further() -> None:
    simulation = Simulation(Settings())
    simulation.run(3)
    assert [simulation.step_back() for _ in range(4)] == [True, True, True, False]
    assert simulation.epoch == 0 and simulation.last is None
    assert simulation.w == 0.0 and grads(simulation) == [None, None]


def test_settings_changed_after_the_target_are_undone() -> None:
    settings = Settings()
    simulation = Simulation(settings)
    simulation.run(20)
    simulation.apply(settings.with_changes(learning_rate=0.05))
    simulation.run(5)
    simulation.apply(settings.with_changes(learning_rate=0.05, optimizer="adam"))
    records = simulation.run(5)
    for _ in range(3):
        simulation.step_back()
    assert simulation.settings.optimizer == "adam"
    assert simulation.run(3) == records[2:]
    for _ in range(10):
        simulation.step_back()
    assert simulation.epoch == 20 and simulation.settings == settings.with_changes(learning_rate=0.05)
    for _ in range(1):
        simulation.step_back()
    assert simulation.settings == settings
    plain = Simulation(settings)
    assert plain.run(19)[-1] == simulation.last


def test_stepping_back_out_of_divergence() -> None:
    simulation = Simulation(Settings(learning_rate=1.0))
    simulation.run(40)
    assert simulation.diverged_at == 19
    simulation.step_back()
    assert not simulation.diverged and simulation.epoch == 19
    assert simulation.step().epoch == 19 and simulation.diverged_at == 19


def test_checkpoints_stay_bounded_in_a_long_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past MAX_CHECKPOINTS copies the older half thins out; a copy every 4 steps and a cap of
    16 run the same code as the real 256 and 256 in a hundredth of the steps."""
    import lrtui.engine.checkpoints

    monkeypatch.setattr(lrtui.engine.checkpoints, "MAX_CHECKPOINTS", 16)
    simulation = Simulation(Settings(epochs=10**9, learning_rate=0.001))
    simulation.checkpoints.every = 4
    simulation.run(4 * (16 + 200))
    assert len(simulation.checkpoints) <= 16 + 1
    reference_epoch = simulation.epoch - 1
    last = simulation.last
    simulation.step()
    simulation.step_back()
    assert simulation.epoch == reference_epoch + 1 and simulation.last == last


def test_copies_are_far_apart_when_steps_are_cheap_and_close_when_they_are_costly() -> None:
    """Stepping back replays at most ``every - 1`` steps from the nearest copy: 255 steps over
    a few points, 31 over a million, and exactly in both (the same numbers as going forward)."""
    cheap = Simulation(Settings(epochs=10**9))
    assert cheap.checkpoints.every == CHEAP_STEP_EVERY
    batches = Simulation(Settings(data="noisy", batch_size=10, epochs=10**9))
    assert batches.checkpoints.every == CHEAP_STEP_EVERY
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(CHEAP_STEP_POINTS + 1, generator=generator)
    costly = Simulation(Settings(epochs=10), dataset=from_tensors("big", x, 2 * x + 1))
    assert costly.checkpoints.every == CHECKPOINT_EVERY
    forward = cheap.run(CHEAP_STEP_EVERY + 3)
    assert cheap.step_back(CHEAP_STEP_EVERY + 1) and cheap.epoch == 2
    assert cheap.run(CHEAP_STEP_EVERY + 1) == forward[2:]
