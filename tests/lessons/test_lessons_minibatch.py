"""The mini-batch and schedule lessons (issue 13): their goals, checked on the engine's run as
the app checks them, and the claims of their words, checked with the plain DataLoader loop."""

from __future__ import annotations

import math

import plain_torch as pt
import torch

from lrtui.engine.run import Run
from lrtui.lessons import find_lesson, goal_met


def met_at(name: str, **changes: object) -> int | None:
    """The epoch of the first step after which the goal holds, stepping as the learner does."""
    chosen = find_lesson(name)
    run = Run(chosen.settings.with_changes(**changes))
    while run.running:
        record = run.step()
        if goal_met(chosen.goal, run):
            return record.epoch
    return None


def full_cost(w: float, b: float) -> float:
    """The whole noisy data's mean squared error at (w, b), in float64."""
    x, y = pt.noisy_data()
    return torch.mean((x.double() * w + b - y.double()) ** 2).item()


def first_epoch_below(records: list[dict[str, object]], cost: float) -> int | None:
    """The first epoch whose last step leaves the full-data cost below ``cost``."""
    ends: dict[int, dict[str, object]] = {}
    for record in records:
        ends[record["epoch"]] = record  # type: ignore[index]
    for epoch, record in sorted(ends.items()):
        if full_cost(record["w_next"], record["b_next"]) < cost:  # type: ignore[arg-type]
            return epoch
    return None


def noisy_lesson_loop(epochs: int, **options: object) -> list[dict[str, object]]:
    x, y = pt.noisy_data()
    records = pt.batch_loop(x, y, epochs, lr=options.pop("lr", 0.1), **options)  # type: ignore[arg-type]
    return records


def test_mini_batches_goal_needs_small_shuffled_batches() -> None:
    assert met_at("mini-batches") is None  # batch size 100: one step an epoch
    assert met_at("mini-batches", batch_size=10) is None  # not shuffled
    assert met_at("mini-batches", batch_size=20, shuffle=True) is None  # too big a batch
    epoch = met_at("mini-batches", batch_size=10, shuffle=True)
    assert epoch is not None and epoch <= 2


def test_mini_batches_words_match_the_plain_loop() -> None:
    """Ten shuffled batches of 10 get below 0.3 within the goal; one batch of 100 needs 18 epochs."""
    # the lesson starts at W = 10, b = -5: the plain loop starts at 0, so shift through init
    small = _from_lesson_start(batch_size=10, shuffle=True, epochs=2)
    assert first_epoch_below(small, 0.3) == met_at("mini-batches", batch_size=10, shuffle=True)
    whole = _from_lesson_start(batch_size=100, shuffle=False, epochs=20)
    assert first_epoch_below(whole, 0.3) == 18


def _from_lesson_start(batch_size: int, shuffle: bool, epochs: int) -> list[dict[str, object]]:
    """The plain DataLoader loop from the lesson's W = 10, b = -5, lr 0.1."""
    x, y = pt.noisy_data()
    W = torch.tensor([10.0], requires_grad=True)
    b = torch.tensor([-5.0], requires_grad=True)
    optimizer = torch.optim.SGD([W, b], lr=0.1)
    dataloader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(x, y),
        batch_size=batch_size,
        shuffle=shuffle,
        generator=torch.Generator().manual_seed(1),
    )
    records = []
    for epoch in range(epochs + 1):
        for x_batch, y_batch in dataloader:
            cost = torch.mean((x_batch * W + b - y_batch) ** 2)
            optimizer.zero_grad()
            cost.backward()
            optimizer.step()
            records.append({"epoch": epoch, "w_next": W.item(), "b_next": b.item()})
    engine = Run(find_lesson("mini-batches").settings.with_changes(batch_size=batch_size, shuffle=shuffle))
    engine.run_to(epochs + 1)
    assert [(r.w_next, r.b_next) for r in engine.history] == [(r["w_next"], r["b_next"]) for r in records]
    return records


def test_lr_schedule_goal_needs_a_schedule_that_comes_in_time() -> None:
    assert met_at("lr-schedule") is None  # lr 1.0 with no schedule diverges
    assert Run(find_lesson("lr-schedule").settings).surface.stability_limit < 1.0
    assert met_at("lr-schedule", scheduler="step", step_size=10, gamma=0.5) is not None
    assert met_at("lr-schedule", scheduler="step", step_size=1, gamma=0.5) is None  # stops short
    assert met_at("lr-schedule", scheduler="exponential", gamma=0.9) is not None
    assert met_at("lr-schedule", learning_rate=0.5, scheduler="step", step_size=10, gamma=0.5) is None


def test_lr_schedule_words_match_the_plain_loop() -> None:
    x, y = pt.noisy_data()

    def final(scheduler: str | None, **schedule: object) -> tuple[float, float]:
        W = torch.tensor([10.0], requires_grad=True)
        b = torch.tensor([-5.0], requires_grad=True)
        optimizer = torch.optim.SGD([W, b], lr=1.0)
        sched = torch.optim.lr_scheduler.StepLR(optimizer, **schedule) if scheduler else None  # type: ignore[arg-type]
        for _ in range(101):
            cost = torch.mean((x * W + b - y) ** 2)
            optimizer.zero_grad()
            cost.backward()
            optimizer.step()
            if sched is not None:
                sched.step()
        return W.item(), b.item()

    unscheduled = final(None)  # overshoots further every epoch without a schedule
    assert not all(math.isfinite(v) for v in unscheduled) or full_cost(*unscheduled) > 1e6
    best = Run(find_lesson("lr-schedule").settings).surface.optimum.cost
    assert full_cost(*final("step", step_size=10, gamma=0.5)) <= best * 1.01
    assert full_cost(*final("step", step_size=1, gamma=0.5)) > best * 1.01
