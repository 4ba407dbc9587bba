"""The engine against the lessons' plain-torch loops (tests/plain_torch.py), number for number.

lrtui and the reference loops run the same float32 torch ops in the same order, so their
``.item()`` values are compared with ``==``. Tolerances appear only where the two sides
compute different things (the closed-form surface in float64, or two different formulas).
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import plain_torch as pt
import pytest
import torch

from lrtui.engine import (
    CostSurface,
    DataError,
    DivergedError,
    EpochRecord,
    Settings,
    SettingsError,
    Simulation,
    load,
    parse_field,
)
from lrtui.engine.data import from_tensors, preset
from lrtui.engine.race import Race
from lrtui.engine.run import Run

ROOT = Path(__file__).resolve().parents[2]
PRESETS = ("line", "double", "noisy")


def as_dict(record: EpochRecord) -> dict[str, Any]:
    return {field: getattr(record, field) for field in pt.FIELDS}


def run_all(simulation: Simulation) -> list[EpochRecord]:
    records: list[EpochRecord] = []
    simulation.run_to_end(records.append)
    return records


def same(a: Any, b: Any) -> bool:
    """== that also holds for NaN against NaN (a diverged record may hold NaN)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def same_records(records: list[EpochRecord], plain: list[dict[str, Any]]) -> bool:
    assert len(records) == len(plain)
    for record, expected in zip(records, plain, strict=True):
        got = as_dict(record)
        bad = [key for key in pt.FIELDS if not same(got[key], expected[key])]
        assert not bad, f"epoch {expected['epoch']}: {bad} lrtui {got} plain {expected}"
    return True


def plain_for(settings: Settings, **extra: Any) -> list[dict[str, Any]]:
    """The plain loop for the default SGD (no momentum), any data/model/bias/init/loss/zero_grad."""
    assert settings.optimizer == "sgd" and settings.momentum == 0
    x_train, y_train = pt.DATA[settings.data]()
    common = dict(
        lr=settings.learning_rate,
        bias=settings.bias,
        init_w=settings.init_w,
        init_b=settings.init_b,
        reduction=settings.loss_reduction,
        zero_grad=settings.zero_grad,
        **extra,
    )
    if settings.model == "linear":
        return pt.linear_loop(x_train, y_train, settings.epochs, seed=settings.seed, **common)
    return pt.raw_loop(x_train, y_train, settings.epochs, **common)


def first_non_finite(plain: list[dict[str, Any]]) -> int:
    return next(
        r["epoch"]
        for r in plain
        if not all(
            math.isfinite(r[key])
            for key in ("cost", "grad_w", "grad_b", "w_next", "b_next")
            if r[key] is not None
        )
    )


# ------------------------------------------------------------------------- data


def test_line_and_double_presets_are_the_lessons_tensors() -> None:
    for name in ("line", "double"):
        x_train, y_train = pt.DATA[name]()
        dataset = preset(name)
        assert dataset.x_train.dtype == torch.float32 and dataset.x_train.shape == (3, 1)
        assert torch.equal(dataset.x_train, x_train)
        assert torch.equal(dataset.y_train, y_train)


def test_noisy_preset_is_the_lessons_data_and_leaves_global_rng_alone() -> None:
    x_train, y_train = pt.noisy_data()
    torch.manual_seed(12345)
    state = torch.get_rng_state()
    dataset = load("noisy")
    assert torch.equal(torch.get_rng_state(), state)
    assert dataset.size == 100
    assert dataset.x_train.shape == (100, 1)
    assert torch.equal(dataset.x_train, x_train)
    assert torch.equal(dataset.y_train, y_train)
    Simulation(Settings(data="noisy"))
    assert torch.equal(torch.get_rng_state(), state)


# ----------------------------------------------------------- models against plain


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("data", PRESETS)
def test_raw_model_matches_plain_loop(data: str, bias: bool) -> None:
    settings = Settings(data=data, bias=bias, epochs=100)
    records = run_all(Simulation(settings))
    plain = pt.raw_loop(*pt.DATA[data](), 100, bias=bias)
    assert same_records(records, plain)
    if not bias:
        assert all(r.b is None and r.grad_b is None and r.b_next is None for r in records)


@pytest.mark.parametrize("seed", [1, 7, 2024])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("data", PRESETS)
def test_linear_model_matches_plain_loop(data: str, bias: bool, seed: int) -> None:
    settings = Settings(data=data, model="linear", bias=bias, seed=seed, epochs=60)
    records = run_all(Simulation(settings))
    plain = pt.linear_loop(*pt.DATA[data](), 60, seed=seed, bias=bias)
    assert same_records(records, plain)


def test_linear_seed_changes_the_start() -> None:
    starts = {Simulation(Settings(model="linear", seed=seed)).w for seed in (1, 7, 2024)}
    assert len(starts) == 3


def test_raw_model_lesson_two_golden_numbers() -> None:
    records = run_all(Simulation(Settings(epochs=1000)))
    assert len(records) == 1001
    last = records[-1]
    assert (f"{last.w_next:.3f}", f"{last.b_next:.3f}", f"{last.cost:.6f}") == ("0.985", "0.033", "0.000158")


@pytest.mark.parametrize("model", ["raw", "linear"])
@pytest.mark.parametrize(
    "init",
    [
        {"data": "noisy", "init_w": 10.0, "init_b": -5.0, "learning_rate": 0.1},
        {"data": "line", "init_w": -2.5, "init_b": 3.0},
        {"data": "double", "init_w": 1.5, "bias": False, "learning_rate": 0.05},
        {"data": "line", "init_b": 4.0},
    ],
    ids=["noisy_lesson", "line", "double_no_bias", "only_b"],
)
def test_explicit_init_overrides_both_models(model: str, init: dict[str, Any]) -> None:
    settings = Settings(model=model, epochs=60, **init)
    simulation = Simulation(settings)
    if settings.init_w is not None:
        assert simulation.w == settings.init_w
    if settings.bias and settings.init_b is not None:
        assert simulation.b == settings.init_b
    records = run_all(simulation)
    assert same_records(records, plain_for(settings))


def test_noisy_lesson_converges_to_the_generating_line() -> None:
    settings = Settings(data="noisy", init_w=10.0, init_b=-5.0, learning_rate=0.1, epochs=100)
    last = run_all(Simulation(settings))[-1]
    assert abs(last.w_next - 4) < 0.1 and abs(last.b_next - 2.5) < 0.1


def test_raw_and_linear_give_the_same_gradient() -> None:
    """The noisy lesson's point: the same loss written with raw tensors or nn.Linear."""
    settings = Settings(data="noisy", init_w=10.0, init_b=-5.0, learning_rate=0.1, epochs=0)
    raw = Simulation(settings).step()
    linear = Simulation(settings.with_changes(model="linear")).step()
    assert raw.cost == pytest.approx(linear.cost, rel=1e-6)
    # Different kernels (x * W + b against addmm) may round the last bit differently.
    assert raw.grad_w == pytest.approx(linear.grad_w, rel=1e-6)
    assert raw.grad_b == pytest.approx(linear.grad_b, rel=1e-6)


# -------------------------------------------------------------------- optimizers

OPTIMIZER_CASES = [
    ({"optimizer": "sgd", "learning_rate": 0.01}, "SGD", 0.01, {}),
    ({"optimizer": "sgd", "learning_rate": 0.01, "momentum": 0.9}, "SGD", 0.01, {"momentum": 0.9}),
    (
        {"optimizer": "sgd", "learning_rate": 0.01, "momentum": 0.9, "nesterov": True},
        "SGD",
        0.01,
        {"momentum": 0.9, "nesterov": True},
    ),
    ({"optimizer": "adagrad", "learning_rate": 0.5}, "Adagrad", 0.5, {}),
    ({"optimizer": "rmsprop", "learning_rate": 0.01}, "RMSprop", 0.01, {}),
    ({"optimizer": "rmsprop", "learning_rate": 0.01, "momentum": 0.5}, "RMSprop", 0.01, {"momentum": 0.5}),
    ({"optimizer": "adam", "learning_rate": 0.1}, "Adam", 0.1, {}),
]


@pytest.mark.parametrize("model", ["raw", "linear"])
@pytest.mark.parametrize(
    ("changes", "name", "lr", "options"),
    OPTIMIZER_CASES,
    ids=["sgd", "sgd_momentum", "sgd_nesterov", "adagrad", "rmsprop", "rmsprop_momentum", "adam"],
)
def test_every_optimizer_matches_plain_loop(
    model: str, changes: dict[str, Any], name: str, lr: float, options: dict[str, Any]
) -> None:
    settings = Settings(data="double", model=model, epochs=80, **changes)
    records = run_all(Simulation(settings))
    x_train, y_train = pt.double_data()
    if model == "raw":
        plain = pt.raw_loop(x_train, y_train, 80, lr=lr, optimizer=name, options=options)
    else:
        plain = pt.linear_loop(x_train, y_train, 80, lr=lr, optimizer=name, options=options)
    assert same_records(records, plain)


# ---------------------------------------------------------------- loss reduction


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("model", ["raw", "linear"])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_loss_reduction_matches_plain_loop(reduction: str, model: str, bias: bool) -> None:
    settings = Settings(
        data="noisy", model=model, bias=bias, loss_reduction=reduction, learning_rate=0.001, epochs=50
    )
    assert same_records(run_all(Simulation(settings)), plain_for(settings))


def test_sum_cost_is_n_times_mean_cost() -> None:
    mean = Simulation(Settings(data="noisy")).step()
    total = Simulation(Settings(data="noisy", loss_reduction="sum")).step()
    assert total.cost == pytest.approx(100 * mean.cost, rel=1e-6)
    assert total.grad_w == pytest.approx(100 * mean.grad_w, rel=1e-5)


def test_linear_sum_lesson_predicts_eight_at_four() -> None:
    settings = Settings(data="double", model="linear", loss_reduction="sum", epochs=500)
    last = run_all(Simulation(settings))[-1]
    assert 4 * last.w_next + last.b_next == pytest.approx(8, abs=0.01)


# --------------------------------------------------------------------- zero_grad


def test_lesson_z_equals_2w_accumulates() -> None:
    assert pt.grads_without_zeroing(5) == [2.0, 4.0, 6.0, 8.0, 10.0]


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("model", ["raw", "linear"])
def test_zero_grad_off_matches_plain_loop_and_fresh_gradients(model: str, bias: bool) -> None:
    settings = Settings(data="noisy", model=model, bias=bias, zero_grad=False, learning_rate=0.002, epochs=60)
    records = run_all(Simulation(settings))
    assert same_records(records, plain_for(settings))

    x_train, y_train = pt.noisy_data()
    gradient = pt.raw_gradient if model == "raw" else pt.linear_gradient
    accumulated_w = torch.zeros(1)
    accumulated_b = torch.zeros(1)
    for record in records:
        assert (record.fresh_grad_w, record.fresh_grad_b) == gradient(x_train, y_train, record.w, record.b)
        accumulated_w += record.fresh_grad_w
        assert record.grad_w == accumulated_w.item()
        if bias:
            accumulated_b += record.fresh_grad_b
            assert record.grad_b == accumulated_b.item()
        else:
            assert record.fresh_grad_b is None and record.grad_b is None
    assert records[-1].grad_w != records[-1].fresh_grad_w


def test_zero_grad_on_fresh_gradient_is_the_step_gradient() -> None:
    settings = Settings(data="noisy", epochs=20)
    x_train, y_train = pt.noisy_data()
    for record in run_all(Simulation(settings)):
        assert (record.grad_w, record.grad_b) == (record.fresh_grad_w, record.fresh_grad_b)
        assert (record.grad_w, record.grad_b) == pt.raw_gradient(x_train, y_train, record.w, record.b)


def test_zero_grad_off_grad_grows_like_2_4_6() -> None:
    """With a tiny step the fresh gradient barely moves, so .grad reads g, 2g, 3g, ..."""
    records = Simulation(Settings(zero_grad=False, learning_rate=1e-7)).run(10)
    first_w, first_b = records[0].grad_w, records[0].grad_b
    for k, record in enumerate(records, start=1):
        assert record.grad_w == pytest.approx(k * first_w, rel=1e-4)
        assert record.grad_b == pytest.approx(k * first_b, rel=1e-4)


def test_forgetting_zero_grad_leaves_noisy_weights_far_off() -> None:
    base = Settings(data="noisy", init_w=10.0, init_b=-5.0, learning_rate=0.1, epochs=100)
    forgot = base.with_changes(zero_grad=False)
    records = run_all(Simulation(forgot))
    assert same_records(records, plain_for(forgot))
    last = records[-1]
    assert math.hypot(last.w_next - 4, last.b_next - 2.5) > 5


# ---------------------------------------------------------------- epoch numbering


@pytest.mark.parametrize("epochs", [0, 1, 5, 37])
def test_epochs_zero_to_n_inclusive(epochs: int) -> None:
    simulation = Simulation(Settings(epochs=epochs))
    assert simulation.epoch == 0 and not simulation.finished
    records = run_all(simulation)
    assert [r.epoch for r in records] == list(range(epochs + 1))
    assert simulation.finished and simulation.epoch == epochs + 1
    assert simulation.last is records[-1]
    assert (records[0].w, records[0].b) == (0.0, 0.0)
    for before, after in zip(records, records[1:], strict=False):
        assert (after.w, after.b) == (before.w_next, before.b_next)
    assert (simulation.w, simulation.b) == (records[-1].w_next, records[-1].b_next)
    assert same_records(records, pt.raw_loop(*pt.line_data(), epochs))
    simulation.run_to_end()
    assert simulation.epoch == epochs + 1


def test_run_count_and_step() -> None:
    simulation = Simulation(Settings(epochs=10))
    first = simulation.run(4)
    assert [r.epoch for r in first] == [0, 1, 2, 3]
    record = simulation.step()
    assert record.epoch == 4 and simulation.last is record
    assert (simulation.w, simulation.b) == (record.w_next, record.b_next)
    assert Simulation(Settings(bias=False)).b is None


# -------------------------------------------------------------- mid-run changes


@pytest.mark.parametrize(
    ("optimizer", "name", "lr", "new_lr"),
    [("sgd", "SGD", 0.01, 0.05), ("adam", "Adam", 0.1, 0.01), ("rmsprop", "RMSprop", 0.01, 0.001)],
)
def test_learning_rate_change_takes_effect_next_epoch(
    optimizer: str, name: str, lr: float, new_lr: float
) -> None:
    settings = Settings(optimizer=optimizer, learning_rate=lr, epochs=30)
    simulation = Simulation(settings)
    before = simulation.run(10)
    simulation.apply(settings.with_changes(learning_rate=new_lr))
    assert simulation.epoch == 10
    after = run_all(simulation)
    plain = pt.raw_loop(*pt.line_data(), 30, lr=lr, optimizer=name, changes={10: {"lr": new_lr}})
    assert same_records(before + after, plain)
    assert {r.learning_rate for r in before} == {lr}
    assert {r.learning_rate for r in after} == {new_lr}


@pytest.mark.parametrize(
    ("start", "change", "plain_start", "plain_change"),
    [
        (
            {"optimizer": "sgd", "momentum": 0.9},
            {"optimizer": "adam", "learning_rate": 0.1},
            ("SGD", 0.01, {"momentum": 0.9}),
            ("Adam", 0.1, {}),
        ),
        (
            {"optimizer": "adam", "learning_rate": 0.1},
            {"optimizer": "sgd", "learning_rate": 0.01, "momentum": 0.5},
            ("Adam", 0.1, {}),
            ("SGD", 0.01, {"momentum": 0.5}),
        ),
        (
            {"optimizer": "rmsprop", "learning_rate": 0.01},
            {"optimizer": "adagrad", "learning_rate": 0.3},
            ("RMSprop", 0.01, {}),
            ("Adagrad", 0.3, {}),
        ),
    ],
    ids=["sgd_to_adam", "adam_to_sgd", "rmsprop_to_adagrad"],
)
def test_optimizer_change_makes_a_fresh_optimizer(
    start: dict[str, Any], change: dict[str, Any], plain_start: tuple, plain_change: tuple
) -> None:
    settings = Settings(data="double", epochs=30, **start)
    simulation = Simulation(settings)
    before = simulation.run(12)
    old_optimizer = simulation.optimizer
    simulation.apply(settings.changing(**change))
    assert simulation.optimizer is not old_optimizer
    assert type(simulation.optimizer).__name__ == plain_change[0]
    assert simulation.epoch == 12
    after = run_all(simulation)
    name, lr, options = plain_start
    plain = pt.raw_loop(
        *pt.double_data(),
        30,
        lr=lr,
        optimizer=name,
        options=options,
        changes={12: {"optimizer": plain_change}},
    )
    assert same_records(before + after, plain)


def test_sgd_momentum_and_nesterov_change_mid_run() -> None:
    settings = Settings(data="double", epochs=30)
    simulation = Simulation(settings)
    records = simulation.run(8)
    with_momentum = settings.with_changes(momentum=0.9)
    simulation.apply(with_momentum)
    records += simulation.run(8)
    simulation.apply(with_momentum.with_changes(nesterov=True))
    records += run_all(simulation)
    # A new momentum or Nesterov setting means a new optimizer, as in a script.
    plain = pt.raw_loop(
        *pt.double_data(),
        30,
        changes={
            8: {"optimizer": ("SGD", 0.01, {"momentum": 0.9})},
            16: {"optimizer": ("SGD", 0.01, {"momentum": 0.9, "nesterov": True})},
        },
    )
    assert same_records(records, plain)


def test_rmsprop_momentum_change_mid_run_keeps_running() -> None:
    """torch's RMSprop cannot gain momentum mid-run in place; lrtui makes a new optimizer."""
    settings = Settings(optimizer="rmsprop", learning_rate=0.01, epochs=20)
    simulation = Simulation(settings)
    simulation.run(3)
    simulation.apply(settings.with_changes(momentum=0.9))
    record = simulation.step()
    assert record.epoch == 3 and record.finite


@pytest.mark.parametrize("model", ["raw", "linear"])
def test_zero_grad_toggled_mid_run(model: str) -> None:
    settings = Settings(data="noisy", model=model, learning_rate=0.002, epochs=40)
    simulation = Simulation(settings)
    records = simulation.run(10)
    simulation.apply(settings.with_changes(zero_grad=False))
    records += simulation.run(15)
    simulation.apply(settings)
    records += run_all(simulation)
    assert same_records(
        records, plain_for(settings, changes={10: {"zero_grad": False}, 25: {"zero_grad": True}})
    )
    assert records[10].grad_w == pytest.approx(records[9].grad_w + records[10].fresh_grad_w, rel=1e-6)
    assert records[25].grad_w == records[25].fresh_grad_w


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("data", "double"),
        ("model", "raw"),
        ("bias", False),
        ("init_w", 0.5),
        ("init_b", -0.5),
        ("seed", 3),
    ],
)
def test_a_problem_field_is_a_new_run_never_a_change_to_this_one(field: str, value: Any) -> None:
    """A new problem starts again only through ``Race.restart`` with a new Run (the app's one
    restart path); ``apply`` refuses it and the run goes on as it was."""
    settings = Settings(model="linear", learning_rate=0.05, epochs=20)
    race = Race.of(settings)
    race.step(7)
    new = settings.with_changes(**{field: value})
    with pytest.raises(ValueError, match="new problem"):
        race.apply(new)
    assert race.leader.settings == settings and race.leader.epoch == 7 and len(race.leader.history) == 7
    race.restart(Run(new))
    assert race.leader.epoch == 0 and race.leader.last is None and len(race.leader.history) == 0
    race.step(21)
    assert race.leader.settings == new and same_records(list(race.leader.history), plain_for(new))


def test_apply_without_a_problem_change_keeps_the_run() -> None:
    settings = Settings(epochs=20)
    simulation = Simulation(settings)
    simulation.run(5)
    simulation.apply(settings)
    simulation.apply(settings.with_changes(epochs=50, log_every=7))
    assert simulation.epoch == 5
    records = run_all(simulation)
    assert records[-1].epoch == 50
    assert same_records(records, pt.raw_loop(*pt.line_data(), 50)[5:])


# -------------------------------------------------------------------- divergence


@pytest.mark.parametrize(
    "changes",
    [
        {"learning_rate": 1.0},
        {"learning_rate": 2.0, "data": "noisy", "model": "linear"},
        {"learning_rate": 0.3, "bias": False},
    ],
    ids=["line_lr1", "noisy_linear", "no_bias"],
)
def test_divergence_stops_at_first_non_finite_record(changes: dict[str, Any]) -> None:
    settings = Settings(epochs=400, **changes)
    plain = plain_for(settings)
    first = first_non_finite(plain)
    simulation = Simulation(settings)
    records = run_all(simulation)
    assert simulation.diverged and simulation.diverged_at == first
    assert len(records) == first + 1
    assert same_records(records, plain[: first + 1])
    assert all(r.finite for r in records[:-1]) and not records[-1].finite
    assert simulation.last is records[-1]

    with pytest.raises(DivergedError):
        simulation.step()
    assert simulation.run(5) == []
    simulation.run_to_end()
    assert simulation.epoch == first + 1

    simulation = Simulation(settings)  # the app's reset: the same settings, a new run
    again = simulation.run(3)
    assert same_records(again, plain[:3])
    assert all(r.finite for r in again)


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"zero_grad": False},
        {"model": "linear", "optimizer": "adam", "learning_rate": 0.1},
        {"optimizer": "sgd", "momentum": 0.9, "nesterov": True, "bias": False},
        {"optimizer": "rmsprop", "momentum": 0.5, "data": "noisy"},
    ],
    ids=["sgd", "no_zero_grad", "linear_adam", "nesterov_no_bias", "rmsprop_noisy"],
)
def test_peek_is_the_next_step_and_does_not_move_the_run(changes: dict[str, Any]) -> None:
    settings = Settings(epochs=25, **changes)
    simulation = Simulation(settings)
    records = []
    for _ in range(26):
        peeked = simulation.peek()
        assert simulation.peek() == peeked
        record = simulation.step()
        assert peeked == record
        records.append(record)
    assert simulation.finished
    if settings.optimizer == "sgd" and settings.momentum == 0:
        assert same_records(records, plain_for(settings))
    reference = Simulation(settings)
    assert same_records(run_all(reference), [as_dict(r) for r in records])


def test_peek_after_divergence_is_none() -> None:
    simulation = Simulation(Settings(learning_rate=1.0))
    simulation.run_to_end()
    assert simulation.diverged and simulation.peek() is None


def test_run_stops_at_divergence() -> None:
    simulation = Simulation(Settings(learning_rate=1.0, epochs=1000))
    records = simulation.run(1000)
    assert records[-1].epoch == simulation.diverged_at
    assert len(records) == simulation.diverged_at + 1 < 1000


# ------------------------------------------------------------------------ surface


def torch_cost(x: torch.Tensor, y: torch.Tensor, w: float, b: float | None, reduction: str) -> torch.Tensor:
    hypothesis = x * w + b if b is not None else x * w
    return torch.sum((hypothesis - y) ** 2) if reduction == "sum" else torch.mean((hypothesis - y) ** 2)


POINTS = [(0.0, 0.0), (-3.0, 2.0), (0.5, -1.0), (10.0, -5.0), (4.0, 2.5), (1e3, -2e2)]


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("data", PRESETS)
def test_surface_cost_and_gradient_match_torch(data: str, bias: bool, reduction: str) -> None:
    surface = CostSurface(preset(data).sums, bias, reduction)
    x, y = pt.DATA[data]()
    x64, y64 = x.double(), y.double()
    for w, b in POINTS:
        b_used = b if bias else None
        cost = surface.cost(w, b)
        assert cost == pytest.approx(torch_cost(x, y, w, b_used, reduction).item(), rel=1e-5)
        assert cost == pytest.approx(torch_cost(x64, y64, w, b_used, reduction).item(), rel=1e-9)

        W = torch.tensor(w, dtype=torch.float64, requires_grad=True)
        B = torch.tensor(b, dtype=torch.float64, requires_grad=True) if bias else None
        grads = torch.autograd.grad(torch_cost(x64, y64, W, B, reduction), [W] if B is None else [W, B])
        d_w, d_b = surface.gradient(w, b)
        assert d_w == pytest.approx(grads[0].item(), rel=1e-9, abs=1e-9)
        if bias:
            assert d_b == pytest.approx(grads[1].item(), rel=1e-9, abs=1e-9)
        else:
            assert d_b is None
    grid = surface.grid(np.array([0.0, 1.0, 2.0]), np.array([-1.0, 0.5]))
    assert grid[-1, 2] == pytest.approx(surface.cost(2.0, 0.5), rel=1e-12)
    if bias:
        assert grid.shape == (2, 3)
        assert grid[0, 1] == pytest.approx(surface.cost(1.0, -1.0), rel=1e-12)


def test_surface_matches_simulation_cost() -> None:
    simulation = Simulation(Settings(data="noisy", init_w=10.0, init_b=-5.0, loss_reduction="sum"))
    record = simulation.step()
    assert simulation.surface.cost(record.w, record.b) == pytest.approx(record.cost, rel=1e-5)
    assert simulation.surface.gradient(record.w, record.b) == pytest.approx(
        (record.grad_w, record.grad_b), rel=1e-5
    )


def lstsq(x: torch.Tensor, y: torch.Tensor, bias: bool) -> list[float]:
    x64 = x.double().reshape(-1, 1)
    design = torch.cat([x64, torch.ones_like(x64)], dim=1) if bias else x64
    return torch.linalg.lstsq(design, y.double().reshape(-1, 1)).solution.flatten().tolist()


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("data", PRESETS)
def test_optimum_is_least_squares(data: str, bias: bool, reduction: str) -> None:
    surface = CostSurface(preset(data).sums, bias, reduction)
    optimum = surface.optimum
    assert optimum.unique and optimum.reason == ""
    x, y = pt.DATA[data]()
    expected = lstsq(x, y, bias)
    assert optimum.w == pytest.approx(expected[0], rel=1e-9, abs=1e-12)
    if bias:
        assert optimum.b == pytest.approx(expected[1], rel=1e-9, abs=1e-12)
    else:
        assert optimum.b is None
    b = expected[1] if bias else None
    assert optimum.cost == pytest.approx(
        torch_cost(x.double(), y.double(), expected[0], b, reduction).item(), abs=1e-9
    )


def test_optimum_does_not_depend_on_the_number_of_points() -> None:
    optima = []
    for n in (3, 1000):
        x = torch.arange(n, dtype=torch.float32)
        optimum = CostSurface(from_tensors("line", x, 2 * x + 1).sums).optimum
        assert optimum.unique
        optima.append(optimum)
        assert (optimum.w, optimum.b) == pytest.approx((2.0, 1.0), abs=1e-9)
        assert optimum.cost == pytest.approx(0.0, abs=1e-9)
    assert optima[0].w == pytest.approx(optima[1].w, abs=1e-9)


@pytest.mark.parametrize(("value", "n"), [(3.0, 3), (0.1, 1000), (-7.25, 2)])
def test_constant_x_has_no_unique_optimum(value: float, n: int) -> None:
    dataset = from_tensors("flat", torch.full((n,), value), torch.arange(n, dtype=torch.float32))
    optimum = CostSurface(dataset.sums).optimum
    assert not optimum.unique
    assert (optimum.w, optimum.b, optimum.cost) == (None, None, None)
    assert "not unique" in optimum.reason
    assert CostSurface(dataset.sums, bias=False).optimum.unique


def test_all_zero_x_without_bias_has_no_unique_optimum() -> None:
    optimum = CostSurface(from_tensors("zeros", torch.zeros(4), torch.ones(4)).sums, bias=False).optimum
    assert not optimum.unique and "not unique" in optimum.reason
    assert (
        CostSurface(from_tensors("zeros", torch.zeros(4), torch.ones(4)).sums, bias=False).stability_limit
        == math.inf
    )


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("data", ["line", "noisy"])
def test_stability_limit_is_two_over_largest_hessian_eigenvalue(
    data: str, bias: bool, reduction: str
) -> None:
    surface = CostSurface(preset(data).sums, bias, reduction)
    x, y = pt.DATA[data]()
    x64, y64 = x.double(), y.double()

    def cost(p: torch.Tensor) -> torch.Tensor:
        return torch_cost(x64, y64, p[0], p[1] if bias else None, reduction)

    hessian = torch.autograd.functional.hessian(cost, torch.zeros(2 if bias else 1, dtype=torch.float64))
    largest = torch.linalg.eigvalsh(hessian).max().item()
    assert surface.largest_curvature == pytest.approx(largest, rel=1e-10)
    assert surface.stability_limit == pytest.approx(2 / largest, rel=1e-10)

    optimum = surface.optimum
    target = (optimum.w, optimum.b or 0.0)

    def distance_ratio(lr: float) -> float:
        records = pt.raw_loop(x, y, 400, lr=lr, bias=bias, reduction=reduction)
        start, end = records[0], records[-1]
        d0 = math.hypot(start["w"] - target[0], (start["b"] or 0.0) - target[1])
        d1 = math.hypot(end["w_next"] - target[0], (end["b_next"] or 0.0) - target[1])
        return d1 / d0 if math.isfinite(d1) else math.inf

    assert distance_ratio(0.99 * surface.stability_limit) < 1e-2
    assert distance_ratio(1.01 * surface.stability_limit) > 1e2


# ----------------------------------------------------------------------- settings

BAD_TEXT = [
    ("learning_rate", ""),
    ("learning_rate", "   "),
    ("learning_rate", "abc"),
    ("learning_rate", "0.1.2"),
    ("learning_rate", "-1"),
    ("learning_rate", "0"),
    ("learning_rate", "-0.0"),
    ("learning_rate", "nan"),
    ("learning_rate", "inf"),
    ("learning_rate", "-inf"),
    ("learning_rate", "1e309"),
    ("learning_rate", "0." + "0" * 38 + "1"),
    ("momentum", "1"),
    ("momentum", "1.5"),
    ("momentum", "-0.1"),
    ("momentum", "nan"),
    ("epochs", "-1"),
    ("epochs", "1.5"),
    ("epochs", "ten"),
    ("epochs", ""),
    ("epochs", "1" * 41),
    ("seed", "-3"),
    ("log_every", "0"),
    ("init_w", "nan"),
    ("init_b", "1e309"),
    ("init_w", "abc"),
    ("model", "foo"),
    ("optimizer", "foo"),
    ("loss_reduction", "foo"),
    ("zero_grad", "maybe"),
    ("data", ""),
]


@pytest.mark.parametrize(("field", "text"), BAD_TEXT)
def test_parse_field_rejects(field: str, text: str) -> None:
    with pytest.raises(SettingsError) as caught:
        parse_field(field, text)
    assert caught.value.field == field
    assert str(caught.value)


@pytest.mark.parametrize(
    ("field", "text", "value"),
    [
        ("learning_rate", " 0.01 ", 0.01),
        ("learning_rate", "1e-3", 1e-3),
        ("momentum", "0", 0.0),
        ("momentum", "0.999", 0.999),
        ("epochs", "0", 0),
        ("epochs", "1000", 1000),
        ("seed", "43052", 43052),
        ("init_w", "-5", -5.0),
        ("init_b", "", None),
        ("init_b", "default", None),
        ("optimizer", "Adam", "adam"),
        ("zero_grad", "off", False),
        ("bias", "on", True),
        ("loss_reduction", "SUM", "sum"),
    ],
)
def test_parse_field_accepts(field: str, text: str, value: Any) -> None:
    assert parse_field(field, text) == value


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"learning_rate": 0.0}, "learning_rate"),
        ({"learning_rate": -0.1}, "learning_rate"),
        ({"learning_rate": math.nan}, "learning_rate"),
        ({"learning_rate": math.inf}, "learning_rate"),
        ({"learning_rate": True}, "learning_rate"),
        ({"learning_rate": "0.1"}, "learning_rate"),
        ({"momentum": 1.0}, "momentum"),
        ({"momentum": -0.5}, "momentum"),
        ({"epochs": -1}, "epochs"),
        ({"epochs": 1.0}, "epochs"),
        ({"seed": -3}, "seed"),
        ({"log_every": 0}, "log_every"),
        ({"init_w": math.nan}, "init_w"),
        ({"init_b": -math.inf}, "init_b"),
        ({"model": "foo"}, "model"),
        ({"optimizer": "SGD"}, "optimizer"),
        ({"loss_reduction": "max"}, "loss_reduction"),
        ({"bias": 1}, "bias"),
        ({"data": " "}, "data"),
        ({"nesterov": True}, "nesterov"),
        ({"nesterov": True, "momentum": 0.9, "optimizer": "adam"}, "nesterov"),
        ({"nesterov": True, "momentum": 0.9, "optimizer": "rmsprop"}, "nesterov"),
    ],
)
def test_settings_reject(values: dict[str, Any], field: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings(**values)
    assert caught.value.field == field
    with pytest.raises(SettingsError) as caught:
        Settings().with_changes(**values)
    assert caught.value.field == field


@pytest.mark.parametrize(("field", "text"), [("init_w", "1e39"), ("init_b", "-1e39")])
def test_initial_values_beyond_float32_are_rejected(field: str, text: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Simulation(Settings(**{field: parse_field(field, text)}))
    assert caught.value.field == field


def test_settings_round_trip_and_text() -> None:
    settings = Settings(optimizer="sgd", momentum=0.9, nesterov=True, init_w=10.0)
    assert Settings.from_dict(settings.to_dict()) == settings
    assert settings.with_changes(learning_rate=parse_field("learning_rate", "0.5")).learning_rate == 0.5
    with pytest.raises(SettingsError) as caught:
        settings.with_changes(momentum=parse_field("momentum", "0"))
    assert caught.value.field == "nesterov"
    with pytest.raises(SettingsError) as caught:
        Settings.from_dict({"lr": 0.1})
    assert caught.value.field == "lr"
    assert Settings().changed_fields(Settings(learning_rate=0.5, bias=False)) == ["bias", "learning_rate"]


# --------------------------------------------------------------------------- CSV


def write(tmp_path: Path, text: str, name: str = "data.csv") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def data_error(path: str) -> str:
    with pytest.raises(DataError) as caught:
        load(path)
    return str(caught.value)


def test_csv_loads_and_trains_like_plain_torch(tmp_path: Path) -> None:
    path = write(tmp_path, "x,y\n1,2.5\n2, 4\n3,7.5\n\n4,9\n")
    dataset = load(path)
    x_train = torch.FloatTensor([[1], [2], [3], [4]])
    y_train = torch.FloatTensor([[2.5], [4], [7.5], [9]])
    assert dataset.size == 4
    assert torch.equal(dataset.x_train, x_train) and torch.equal(dataset.y_train, y_train)
    records = run_all(Simulation(Settings(data=path, epochs=50)))
    assert same_records(records, pt.raw_loop(x_train, y_train, 50))


def test_csv_windows_line_endings(tmp_path: Path) -> None:
    assert load(write(tmp_path, "x,y\r\n1,1\r\n2,2\r\n")).size == 2


def test_csv_with_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbfx,y\r\n1,1\r\n2,2\r\n")
    assert load(str(path)).size == 2


def test_csv_header_case_and_spaces(tmp_path: Path) -> None:
    assert load(write(tmp_path, " X , Y \n1,1\n2,2\n")).size == 2


def test_csv_single_row(tmp_path: Path) -> None:
    dataset = load(write(tmp_path, "x,y\n2,3\n"))
    assert dataset.size == 1
    records = Simulation(Settings(data=write(tmp_path, "x,y\n2,3\n")), dataset).run(5)
    assert same_records(records, pt.raw_loop(torch.FloatTensor([[2]]), torch.FloatTensor([[3]]), 4))


def test_csv_missing_file(tmp_path: Path) -> None:
    path = str(tmp_path / "missing.csv")
    message = data_error(path)
    assert path in message and "no such file" in message


def test_unknown_preset_name() -> None:
    message = data_error("nope")
    assert "nope" in message and "line" in message and "CSV" in message


def test_csv_directory(tmp_path: Path) -> None:
    assert "directory" in data_error(str(tmp_path))


def test_csv_empty_file(tmp_path: Path) -> None:
    assert "empty" in data_error(write(tmp_path, ""))


def test_csv_header_only(tmp_path: Path) -> None:
    assert "no data rows" in data_error(write(tmp_path, "x,y\n"))


@pytest.mark.parametrize("header", ["a,b", "x", "x,z", "1,2"])
def test_csv_wrong_header(tmp_path: Path, header: str) -> None:
    message = data_error(write(tmp_path, f"{header}\n1,2\n"))
    assert "line 1" in message and "header must name the target column y" in message


def test_csv_non_numeric_cell_names_line_and_column(tmp_path: Path) -> None:
    message = data_error(write(tmp_path, "x,y\n1,2\n3,abc\n"))
    assert "line 3, column 2" in message and "'abc'" in message and "not a number" in message


@pytest.mark.parametrize("cell", ["nan", "inf", "-Infinity", "1e39"])
def test_csv_non_finite_cell(tmp_path: Path, cell: str) -> None:
    message = data_error(write(tmp_path, f"x,y\n1,2\n{cell},3\n"))
    assert "line 3, column 1" in message and "finite" in message


def test_csv_wrong_number_of_values(tmp_path: Path) -> None:
    message = data_error(write(tmp_path, "x,y\n1,2,3\n"))
    assert "line 2" in message and "expected 2 values" in message


def test_csv_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "binary.csv"
    path.write_bytes(b"x,y\n\xff\xfe,1\n")
    assert "UTF-8" in data_error(str(path))


# ---------------------------------------------------------------------- packaging


def test_engine_charts_lessons_and_cli_do_not_import_textual() -> None:
    """Every module of the engine, the charts and the lessons, and the CLI, imported in a fresh
    interpreter: neither Textual nor Rich comes with them (the packages load their modules
    lazily, so each module is imported by name)."""
    below = [
        f"lrtui.{package}.{module.stem}"
        for package in ("engine", "charts", "lessons")
        for module in sorted((ROOT / "lrtui" / package).glob("*.py"))
        if module.stem != "__init__"
    ]
    assert len(below) > 30
    code = (
        "import importlib, sys\n"
        f"for name in {[*below, 'lrtui.cli.commands', 'lrtui.cli.parsers', 'lrtui.cli.output']!r}:\n"
        "    importlib.import_module(name)\n"
        "ui = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))\n"
        "assert not ui, ui"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr


def test_reference_loops_do_not_use_lrtui() -> None:
    source = (Path(__file__).parents[1] / "plain_torch.py").read_text(encoding="utf-8")
    assert not any(line.strip().startswith(("import lrtui", "from lrtui")) for line in source.splitlines())
