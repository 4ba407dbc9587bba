"""Mini-batches and schedules (issue 13): every step equals the plain DataLoader loop in
tests/plain_torch.py, through stepping, phases, undo, sessions and races."""

from __future__ import annotations

from typing import Any

import plain_torch
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from lrtui.engine import Settings, SettingsError
from lrtui.engine.race import Race, contender_settings
from lrtui.engine.record import EpochRecord
from lrtui.engine.run import Run
from lrtui.engine.session import load_session, save_session

TORCH_SCHEDULE = {"step_size": "step_size", "gamma": "gamma", "t_max": "T_max"}


def plain(settings: Settings, schedule: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The plain-torch loop for these settings (a preset's data, SGD with or without momentum,
    or Adam); the scheduler's arguments are the settings' unless given."""
    x, y = plain_torch.DATA[settings.data]()
    if schedule is None:
        schedule = {TORCH_SCHEDULE[name]: getattr(settings, name) for name in TORCH_SCHEDULE}
    return plain_torch.batch_loop(
        x,
        y,
        settings.epochs,
        batch_size=settings.batch_size,
        shuffle=settings.shuffle,
        seed=settings.seed,
        model=settings.model,
        lr=settings.learning_rate,
        optimizer={"sgd": "SGD", "adam": "Adam"}[settings.optimizer],
        options={"momentum": settings.momentum} if settings.momentum else None,
        zero_grad=settings.zero_grad,
        scheduler=None if settings.scheduler == "none" else settings.scheduler,
        schedule={k: v for k, v in schedule.items() if v is not None},
    )


def as_plain(record: EpochRecord) -> dict[str, Any]:
    values = {name: getattr(record, name) for name in plain_torch.FIELDS}
    return {**values, "batch": record.batch, "learning_rate": record.learning_rate}


def run_all(run: Run) -> list[EpochRecord]:
    records = []
    while run.running:
        records.append(run.step())
    return records


def noisy(**changes: Any) -> Settings:
    return Settings(data="noisy", epochs=3, learning_rate=0.05).with_changes(**changes)


@pytest.mark.parametrize("batch_size", [1, 10, 32, 100, 150])
@pytest.mark.parametrize("shuffle", [False, True])
def test_every_batch_equals_the_dataloader_loop(batch_size: int, shuffle: bool) -> None:
    settings = noisy(batch_size=batch_size, shuffle=shuffle, epochs=1 if batch_size == 1 else 3)
    records = run_all(Run(settings))
    assert [as_plain(r) for r in records] == plain(settings)
    count = -(-100 // batch_size)
    assert {r.batches for r in records} == {count} and records[-1].batch == count


@pytest.mark.parametrize("batch_size", [1, 2, 3, 5])
@pytest.mark.parametrize("shuffle", [False, True])
def test_batches_of_the_three_points_equal_the_dataloader_loop(batch_size: int, shuffle: bool) -> None:
    settings = Settings(batch_size=batch_size, shuffle=shuffle, epochs=20)
    records = run_all(Run(settings))
    assert [as_plain(r) for r in records] == plain(settings)
    assert {r.batches for r in records} == {-(-3 // batch_size)}


def test_the_last_batch_is_smaller_and_an_epoch_is_its_batches() -> None:
    run = Run(noisy(batch_size=32))
    assert run.batches_per_epoch == 4 and run.batch == 0
    for expected in (1, 2, 3):
        record = run.step()
        assert (record.epoch, record.batch, run.epoch, run.batch) == (0, expected, 0, expected)
    last = run.step()
    assert (last.batch, run.epoch, run.batch, run.steps, run.position) == (4, 1, 0, 4, 1.0)
    x_batch, _ = run.last_batch()
    assert len(x_batch) == 4


@pytest.mark.parametrize(
    "changes",
    [
        {"scheduler": "step", "step_size": 2, "gamma": 0.5},
        {"scheduler": "exponential", "gamma": 0.8},
        {"scheduler": "cosine", "t_max": 3},
        {"scheduler": "step"},  # the documented defaults: step_size 100, gamma 0.1
    ],
)
@pytest.mark.parametrize("batch_size", [None, 25])
def test_every_schedule_steps_once_per_epoch_as_torch(
    changes: dict[str, Any], batch_size: int | None
) -> None:
    settings = noisy(batch_size=batch_size, epochs=5, **changes)
    records = [as_plain(r) for r in run_all(Run(settings))]
    if changes == {"scheduler": "step"}:
        assert records == plain(settings, {"step_size": 100, "gamma": 0.1})
    else:
        assert records == plain(settings)
        assert len({r["learning_rate"] for r in records}) > 1
    unscheduled = settings.with_changes(scheduler="none", step_size=None, gamma=None, t_max=None)
    assert [as_plain(r) for r in run_all(Run(unscheduled))] == plain(unscheduled)


@pytest.mark.parametrize(
    "changes",
    [
        {"scheduler": "step", "step_size": 4, "gamma": 0.5},
        {"scheduler": "exponential", "gamma": 0.8},
        {"scheduler": "cosine", "t_max": 3},
        {"scheduler": "step", "step_size": 30},  # no change before the run ends
    ],
)
@pytest.mark.parametrize("batch_size", [None, 25])
def test_the_lr_ahead_is_the_next_lr_plain_torch_uses_and_its_epoch(
    changes: dict[str, Any], batch_size: int | None
) -> None:
    """Before every step: the next lr that differs from the one in use, and its first epoch,
    are those of the plain loop's records (StepLR's too, epochs before it changes)."""
    settings = noisy(batch_size=batch_size, epochs=9, **changes)
    records = plain(settings)
    run = Run(settings)
    for done, record in enumerate(records):
        assert run.learning_rate_in_use == record["learning_rate"]
        later = [r for r in records[done:] if r["learning_rate"] != record["learning_rate"]]
        expected = (later[0]["learning_rate"], later[0]["epoch"]) if later else None
        assert run.learning_rate_ahead() == expected, done
        run.step()
    assert Run(noisy(batch_size=batch_size)).learning_rate_ahead() is None


@pytest.mark.parametrize(
    "changes",
    [
        {"zero_grad": False},
        {"model": "linear"},
        {"model": "linear", "zero_grad": False, "shuffle": True},
        {"optimizer": "adam", "shuffle": True, "scheduler": "exponential", "gamma": 0.9},
        {"momentum": 0.9, "shuffle": True},
        {"momentum": 0.5, "zero_grad": False, "scheduler": "step", "step_size": 1, "gamma": 0.5},
    ],
)
def test_zero_grad_off_linear_and_adam_with_batches(changes: dict[str, Any]) -> None:
    settings = noisy(batch_size=10, **changes)
    assert [as_plain(r) for r in run_all(Run(settings))] == plain(settings)


def test_a_batch_phase_by_phase_is_the_same_step() -> None:
    settings = noisy(batch_size=10, shuffle=True)
    stepped, phased = Run(settings), Run(settings)
    for _ in range(13):
        record = None
        while record is None:
            record = phased.phase_step()
        assert record == stepped.step()
        assert phased.steps == stepped.steps


@pytest.mark.parametrize(
    "settings",
    [
        noisy(batch_size=10, shuffle=True, scheduler="step", step_size=1, gamma=0.7, epochs=30),
        noisy(batch_size=32, model="linear", zero_grad=False, shuffle=True, epochs=30),
        noisy(scheduler="cosine", t_max=10, epochs=150),
    ],
)
def test_undo_then_redo_gives_the_same_numbers(settings: Settings) -> None:
    run = Run(settings)
    forward = [run.step() for _ in range(100)]
    for back in (1, 7, 38):
        assert run.undo(back)
        assert run.steps == 100 - back and len(run.history) == 100 - back
        assert list(run.history) == forward[: 100 - back]
        assert [run.step() for _ in range(back)] == forward[100 - back :]
    assert [as_plain(r) for r in forward] == plain(settings)[:100]


@pytest.mark.parametrize("steps", [0, 7, 10, 33])
def test_a_session_saved_mid_epoch_steps_on_bit_for_bit(tmp_path, steps: int) -> None:
    settings = noisy(batch_size=10, shuffle=True, scheduler="exponential", gamma=0.9, epochs=10)
    run = Run(settings)
    run.follow_steps(steps)
    save_session(tmp_path / "s.json", run)
    loaded = load_session(tmp_path / "s.json")
    assert (loaded.epoch, loaded.batch, loaded.steps) == (run.epoch, run.batch, steps)
    assert list(loaded.history) == list(run.history)
    assert loaded.last_batch() is None if steps == 0 else loaded.last_batch()[0].equal(run.last_batch()[0])
    assert [loaded.step() for _ in range(25)] == [run.step() for _ in range(25)]
    assert loaded.undo(25) and loaded.steps == steps and not loaded.undo()


@pytest.mark.parametrize(
    "settings",
    [
        noisy(batch_size=10, shuffle=True, scheduler="step", step_size=2, gamma=0.5, epochs=6),
        noisy(batch_size=32, scheduler="cosine", t_max=4, momentum=0.9, epochs=6),
        noisy(scheduler="step", step_size=3, gamma=0.5, epochs=12),  # a full batch with a schedule
        noisy(scheduler="cosine", t_max=5, epochs=12),
    ],
)
def test_a_session_saved_loaded_and_run_on_equals_the_plain_loop(tmp_path, settings: Settings) -> None:
    """Saved part-way (mid-epoch with batches), loaded, and run to the end: every step is the
    uninterrupted plain loop's, so the generator and the scheduler came back as torch had them."""
    run = Run(settings)
    run.follow_steps(23 if settings.mini_batches else 7)
    save_session(tmp_path / "s.json", run)
    loaded = load_session(tmp_path / "s.json")
    assert [as_plain(r) for r in [*loaded.history, *run_all(loaded)]] == plain(settings)


def test_a_full_batch_session_has_no_loop_entry(tmp_path) -> None:
    run = Run(Settings())
    run.run_to(3)
    save_session(tmp_path / "s.json", run)
    assert '"loop"' not in (tmp_path / "s.json").read_text()


def test_a_race_of_batch_sizes_equals_each_plain_loop() -> None:
    base = noisy(batch_size=10, shuffle=True, epochs=4)
    race = Race.of(
        base, [contender_settings(base, "batch-size=100"), contender_settings(base, "batch-size=32")]
    )
    for _ in range(7):
        race.step()
    # the rivals stand as far through the epochs as the leader, rounded up to a step of theirs
    assert [run.steps for run in race] == [7, 1, 3]
    race.undo()
    assert [run.steps for run in race] == [6, 1, 3]
    race.step(44)  # the leader ends its last epoch (5 epochs of 10 batches); the rivals theirs
    for run in race:
        assert not run.running
        assert [as_plain(r) for r in run.history] == plain(run.settings)


def test_settings_refuse_a_loop_option_without_its_loop() -> None:
    with pytest.raises(SettingsError, match="needs a batch size") as shuffle:
        Settings(shuffle=True)
    assert shuffle.value.field == "shuffle"
    for name, value in (("step_size", 3), ("gamma", 0.5), ("t_max", 4)):
        with pytest.raises(SettingsError, match="it needs scheduler") as error:
            Settings(**{name: value})
        assert error.value.field == name
    with pytest.raises(SettingsError, match="at most 1"):
        Settings(scheduler="exponential", gamma=1.5)
    with pytest.raises(SettingsError, match="between 1"):
        Settings(batch_size=0)
    assert Settings(scheduler="cosine").schedule() == {"T_max": 100}


def test_the_chart_scene_shows_the_next_batch_its_optimum_and_the_epoch_means() -> None:
    import numpy as np

    from lrtui.charts.scene import scene_of

    race = Race.of(noisy(batch_size=30, shuffle=True))
    race.step(6)  # epoch 1, batch 2 of 4 done
    scene = scene_of(race)
    (x, y), number, count = race.leader.next_batch()
    assert (number, count) == (3, 4) and scene.batch is not None
    assert scene.batch.xs == x.flatten().tolist() and len(scene.batch.xs) == 30
    # the batch's own least-squares line, in float64 from its points
    xs, ys = np.asarray(scene.batch.xs, dtype=np.float64), np.asarray(scene.batch.ys, dtype=np.float64)
    slope, intercept = np.polyfit(xs, ys, 1)
    assert scene.batch.optimum == pytest.approx((slope, intercept), rel=1e-9)
    # the next step is the one the scene's batch trains on
    stepped = race.leader.step()
    assert (stepped.batch, stepped.w) == (3, scene.next.w) and stepped == scene.next
    means = scene.epoch_means
    costs = [r.cost for r in race.leader.history]
    assert means[1].tolist() == pytest.approx([np.mean(costs[:4]), np.mean(costs[4:6])])
    assert means[0].tolist() == [0.375, 1.375]  # the middle of each epoch's four steps
    assert scene.track.epochs.tolist() == [0, 0.25, 0.5, 0.75, 1.0, 1.25]


def test_the_history_export_numbers_each_batch(tmp_path) -> None:
    from lrtui.engine.report import export_history_csv

    run = Run(noisy(batch_size=40))
    run.run_to(2)
    export_history_csv(tmp_path / "h.csv", run.history)
    lines = (tmp_path / "h.csv").read_text().splitlines()
    assert lines[0].startswith("epoch,batch,w,b,cost")
    assert [line.split(",")[:2] for line in lines[1:]] == [
        ["0", "1"],
        ["0", "2"],
        ["0", "3"],
        ["1", "1"],
        ["1", "2"],
        ["1", "3"],
    ]
    full = Run(noisy())
    full.run_to(2)
    export_history_csv(tmp_path / "f.csv", full.history)
    assert (tmp_path / "f.csv").read_text().startswith("epoch,w,b,cost")


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda loop: loop.update(generator="00ff"), "not the state of a torch.Generator"),
        (lambda loop: loop.update(batch=9), "out of range"),
        (lambda loop: loop["history_batch"].__setitem__(0, 5), "out of range"),
        (lambda loop: loop["history_batch"].pop(), "wrong length"),
        (lambda loop: loop["scheduler"].pop("gamma"), "loop scheduler: expected"),
        (lambda loop: loop["scheduler"].update(gamma=0.25), "not the settings' exponential schedule"),
        (lambda loop: loop.pop("scheduler"), "does not match its batch size and scheduler"),
        (lambda loop: loop.update(lr="fast"), "loop lr: expected a number"),
    ],
)
def test_a_bad_loop_entry_is_refused_with_a_reason(tmp_path, change, why: str) -> None:
    import json

    from lrtui.engine.session import SessionError, session_dict

    run = Run(noisy(batch_size=40, shuffle=True, scheduler="exponential", gamma=0.9))
    run.follow_steps(4)
    document = session_dict(run)
    change(document["loop"])
    (tmp_path / "bad.json").write_text(json.dumps(document))
    with pytest.raises(SessionError, match=why):
        load_session(tmp_path / "bad.json")


def test_a_learning_rate_changed_mid_epoch_takes_effect_from_the_next_batch_and_undoes() -> None:
    settings = noisy(batch_size=10, shuffle=True, scheduler="exponential", gamma=0.9)
    run = Run(settings)
    before = [run.step() for _ in range(13)]
    run.apply(settings.with_changes(learning_rate=0.2))  # as a script sets param_groups' lr
    after = [run.step() for _ in range(10)]
    assert {r.learning_rate for r in after[:7]} == {0.2} and after[7].learning_rate == pytest.approx(0.18)
    # the same in plain torch: the lr set in the optimizer before batch 4 of epoch 1
    x, y = plain_torch.noisy_data()
    W, b = torch.zeros(1, requires_grad=True), torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([W, b], lr=0.05)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.9)
    loader = DataLoader(
        TensorDataset(x, y), batch_size=10, shuffle=True, generator=torch.Generator().manual_seed(1)
    )
    steps = []
    for _epoch in range(3):
        for x_batch, y_batch in loader:
            if len(steps) == 13:
                optimizer.param_groups[0]["lr"] = 0.2
            cost = torch.mean((x_batch * W + b - y_batch) ** 2)
            optimizer.zero_grad()
            cost.backward()
            optimizer.step()
            steps.append((cost.item(), W.item(), b.item()))
        scheduler.step()
    assert [(r.cost, r.w_next, r.b_next) for r in before + after] == steps[:23]
    assert run.undo(12) and run.settings.learning_rate == 0.05 and run.steps == 11
    assert [run.step() for _ in range(2)] == before[11:]


def test_a_standardized_mini_batch_run_peeked_at_as_the_chart_does_equals_plain_torch() -> None:
    """The chart looks at the next batch before each step; the batches must still be of x'."""
    from lrtui.charts.scene import scene_of

    settings = Settings(data="noisy", batch_size=32, standardize=True, learning_rate=0.1, epochs=3)
    race = Race.of(settings)
    run = race.leader
    while run.running:
        scene = scene_of(race)
        assert scene.batch is not None
        x, _ = run.next_batch()[0]
        mean, std = plain_torch.noisy_data()[0].mean(), plain_torch.noisy_data()[0].std()
        assert scene.batch.xs == pytest.approx((x.flatten() * std + mean).tolist(), rel=1e-5)
        run.step()
    x_train, y_train = plain_torch.noisy_data()
    standardized = (x_train - x_train.mean()) / x_train.std()
    plain = plain_torch.batch_loop(standardized, y_train, 3, batch_size=32, lr=0.1)
    assert [(r.w, r.b, r.cost) for r in run.history] == [(p["w"], p["b"], p["cost"]) for p in plain]
