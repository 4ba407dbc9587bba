"""Divergence advice that is true: which limit applies to which optimizer, what a run that had
already blown up is told, `u` back to the last stable epoch in one press, and a step torch
refused recorded with the values torch still holds. Every number is checked against plain torch."""

from __future__ import annotations

import math
from typing import Any

import plain_torch as pt
import pytest
import torch
from app_support import log_text, make_app
from cli_support import invoke

from lrtui.engine import Settings
from lrtui.engine.race import Race
from lrtui.engine.report import divergence_of, export_history_csv, stable_below
from lrtui.engine.run import Run
from lrtui.engine.session import SessionError, load_session, save_session, session_dict, session_from_dict

# The Hessian of the mean squared error on x = 1, 2, 3 (line data) is (2/3)[[14, 6], [6, 3]].
LARGEST_CURVATURE = (2 / 3) * ((14 + 3) / 2 + math.hypot((14 - 3) / 2, 6))
PLAIN_LIMIT = 2 / LARGEST_CURVATURE  # 0.1803
KEYS = ("cost", "grad_w", "grad_b", "w_next", "b_next")


def first_non_finite(records: list[dict[str, Any]]) -> int:
    return next(r["epoch"] for r in records if not all(math.isfinite(r[k]) for k in KEYS))


def lowest_cost_epoch(records: list[dict[str, Any]]) -> int:
    """The latest epoch whose cost is the lowest of all (a NaN cost counts as highest)."""
    costs = [math.inf if math.isnan(r["cost"]) else r["cost"] for r in records]
    lowest = min(costs)
    return max(r["epoch"] for r, cost in zip(records, costs, strict=True) if cost == lowest)


def as_plain(records) -> list[dict[str, Any]]:
    return [{k: getattr(r, k) for k in pt.FIELDS} for r in records]


def run_until_diverged(race: Race) -> None:
    while race.leader.running:
        race.step(100)


# ------------------------------------------------------ the scenario
def test_a_run_that_had_already_blown_up_is_told_so_not_that_its_lr_was_too_high() -> None:
    plain = pt.raw_loop(*pt.line_data(), 300, lr=0.2)
    diverged_at = first_non_finite(plain)
    assert diverged_at == 218
    race = Race.of(Settings(learning_rate=0.2))
    run_until_diverged(race)
    race.undo()  # u as it was: one epoch back, W and b still huge
    race.apply(race.leader.settings.with_changes(learning_rate=0.1))
    race.step(10)
    leader = race.leader
    assert leader.diverged_at == diverged_at  # the cost at these W and b overflows whatever the lr
    message = divergence_of(leader, keys=True)
    before = plain[diverged_at]  # W and b before epoch 218, where the cost overflowed
    assert message.startswith(
        f"diverged at epoch {diverged_at} (cost = inf). This run used lr 0.1, below the limit"
    )
    assert f"below the limit {PLAIN_LIMIT:.4g} for plain gradient descent" in message
    assert "converges only for learning rates below" not in message
    assert "W and b had already grown far from the optimum" in message
    assert (
        f"the cost was lowest at epoch 0 ({plain[0]['cost']:.4g}, with lr 0.2) and grew from there" in message
    )
    assert f"up to W = {before['w']:.4g}, b = {before['b']:.4g} before epoch {diverged_at}" in message
    assert "the optimum: W = 1, b = 0" in message
    assert "There the cost overflows float32 whatever the learning rate." in message
    assert f"u goes back {diverged_at + 1} epochs, to before epoch 0, in one press" in message
    assert "then lower the learning rate below 0.1803 with -" in message


def test_a_learning_rate_above_the_limit_says_so_and_where_the_cost_began_to_grow() -> None:
    plain = pt.raw_loop(*pt.line_data(), 1000, lr=0.01, changes={300: {"lr": 0.32}})
    diverged_at = first_non_finite(plain)
    stable = lowest_cost_epoch(plain[: diverged_at + 1])
    assert 300 < stable < diverged_at  # the cost fell for a few epochs after the raise
    race = Race.of(Settings())
    race.step(300)
    race.apply(race.leader.settings.with_changes(learning_rate=0.32))
    run_until_diverged(race)
    leader = race.leader
    assert leader.diverged_at == diverged_at and leader.last_stable_epoch() == stable
    message = divergence_of(leader)
    assert (
        f"Plain gradient descent on this data and loss converges only for learning rates below"
        f" {PLAIN_LIMIT:.4g}; this run used 0.32. The cost was lowest at epoch {stable}"
        f" ({plain[stable]['cost']:.4g}) and grew from there." in message
    )
    assert "u goes back" not in message  # keys are for the app's log
    assert f"u goes back {diverged_at + 1 - stable} epochs, to before epoch {stable}" in divergence_of(
        leader, keys=True
    )


# -------------------------------------------------- u, then -, in the app
async def test_u_after_a_divergence_goes_back_to_the_last_stable_epoch_and_minus_then_converges() -> None:
    plain = pt.raw_loop(*pt.line_data(), 300, lr=0.2)
    diverged_at = first_non_finite(plain)
    app = make_app(Settings(learning_rate=0.2))
    async with app.run_test(size=(120, 40)) as pilot:
        while not app.leader.diverged:
            await pilot.press("ctrl+n")
        assert app.leader.diverged_at == diverged_at
        assert f"u goes back {diverged_at + 1} epochs, to before epoch 0, in one press" in log_text(app)
        await pilot.press("u")
        assert app.leader.epoch == 0 and not app.leader.diverged and len(app.leader.history) == 0
        said = log_text(app)
        assert (
            f"undo: back {diverged_at + 1} epochs from the divergence at epoch {diverged_at}, to before epoch 0"
            in said
        )
        assert "press - once (lr 0.1) before running on" in said
        assert (
            f"Epoch  100/1000 W: {plain[100]['w_next']:.3f}" not in said
        )  # the undone epochs' lines are gone
        await pilot.press("minus")
        assert app.leader.settings.learning_rate == 0.1
        await pilot.press("ctrl+n", "ctrl+n", "ctrl+n")
        assert app.leader.epoch == 300 and not app.leader.diverged
    records = list(app.leader.history)
    reference = pt.raw_loop(*pt.line_data(), 299, lr=0.2, changes={0: {"lr": 0.1}})
    assert as_plain(records) == reference
    assert records[-1].cost < records[0].cost * 1e-6


async def test_u_after_a_raise_goes_back_past_the_growth_only_and_the_run_matches_plain_torch() -> None:
    raised = pt.raw_loop(*pt.line_data(), 1000, lr=0.01, changes={300: {"lr": 0.32}})
    diverged_at = first_non_finite(raised)
    stable = lowest_cost_epoch(raised[: diverged_at + 1])
    app = make_app(Settings())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+n", "ctrl+n", "ctrl+n", *["plus"] * 5)
        assert app.leader.settings.learning_rate == 0.32
        while not app.leader.diverged:
            await pilot.press("N")
        await pilot.press("u")
        assert app.leader.epoch == stable and app.leader.settings.learning_rate == 0.32
        assert f"undo: back {diverged_at + 1 - stable} epochs" in log_text(app)
        assert "press - once (lr 0.16) before running on" in log_text(app)
        await pilot.press("minus", "ctrl+n", "ctrl+n", "ctrl+n")
        assert app.leader.epoch == stable + 300 and not app.leader.diverged
        await pilot.press("u")  # no longer diverged: one epoch, as ever
        assert app.leader.epoch == stable + 299
    reference = pt.raw_loop(
        *pt.line_data(), stable + 298, lr=0.01, changes={300: {"lr": 0.32}, stable: {"lr": 0.16}}
    )
    records = list(app.leader.history)
    assert as_plain(records) == reference
    assert records[-1].cost < records[stable].cost


def test_rivals_follow_the_leader_back_to_its_last_stable_epoch_exactly() -> None:
    race = Race.of(Settings(learning_rate=0.2), [Settings(optimizer="adam", learning_rate=0.1)])
    run_until_diverged(race)
    leader, rival = race.leader, race.rivals[0]
    assert rival.epoch == leader.epoch == 219
    assert race.undo_to_stable() == 219
    assert leader.epoch == rival.epoch == 0 and not leader.diverged
    assert race.undo_to_stable() == 0  # not diverged any more
    race.step(50)
    assert as_plain(rival.history) == pt.raw_loop(*pt.line_data(), 49, optimizer="Adam", lr=0.1)
    assert as_plain(leader.history) == pt.raw_loop(*pt.line_data(), 49, lr=0.2)


def test_undo_of_many_epochs_from_inside_an_epoch_counts_that_epoch_as_one() -> None:
    run = Run(Settings(learning_rate=0.05))
    for _ in range(40):
        run.step()
    run.phase_step()
    assert run.mid_epoch
    assert run.undo(3) and run.epoch == 38 and not run.mid_epoch
    for _ in range(12):
        run.step()
    assert as_plain(run.history) == pt.raw_loop(*pt.line_data(), 49, lr=0.05)


# ---------------------------------------------- which limit, which optimizer
LIMITED = [
    ({}, {}, PLAIN_LIMIT, "plain gradient descent"),
    ({"momentum": 0.9}, {"momentum": 0.9}, 2 * 1.9 / LARGEST_CURVATURE, "SGD with momentum 0.9"),
    (
        {"momentum": 0.9, "nesterov": True},
        {"momentum": 0.9, "nesterov": True},
        2 * 1.9 / (2.8 * LARGEST_CURVATURE),
        "SGD with Nesterov momentum 0.9",
    ),
]


@pytest.mark.parametrize(("changes", "options", "limit", "who"), LIMITED, ids=["sgd", "momentum", "nesterov"])
def test_each_fixed_limit_is_where_plain_torch_stops_converging(
    changes: dict, options: dict, limit: float, who: str
) -> None:
    settings = Settings(**changes)
    assert stable_below(settings, Run(settings).surface) == (who, pytest.approx(limit, rel=1e-12))
    below = pt.raw_loop(*pt.line_data(), 3000, lr=0.9 * limit, options=options)
    assert all(math.isfinite(r["cost"]) for r in below) and below[-1]["cost"] < 1e-6 * below[0]["cost"]
    above = pt.raw_loop(*pt.line_data(), 3000, lr=1.1 * limit, options=options)
    diverged_at = first_non_finite(above)
    race = Race.of(Settings(learning_rate=1.1 * limit, epochs=3000, **changes))
    run_until_diverged(race)
    assert race.leader.diverged_at == diverged_at
    message = divergence_of(race.leader)
    assert (
        f"{who[0].upper()}{who[1:]} on this data and loss converges only for learning rates below {limit:.4g}"
        in message
    )


ADAPTIVE = [("adam", "Adam", 1), ("adagrad", "Adagrad", 1), ("rmsprop", "RMSprop", 10)]


@pytest.mark.parametrize(("optimizer", "name", "lrs"), ADAPTIVE, ids=[a[0] for a in ADAPTIVE])
def test_adaptive_optimizers_get_advice_about_their_steps_not_the_plain_limit(
    optimizer: str, name: str, lrs: int
) -> None:
    first = pt.raw_loop(*pt.line_data(), 0, optimizer=name, lr=0.001)[0]
    assert abs(first["w_next"] - first["w"]) == pytest.approx(lrs * 0.001, rel=1e-5)
    assert abs(first["b_next"] - first["b"]) == pytest.approx(lrs * 0.001, rel=1e-5)
    settings = Settings(optimizer=optimizer, learning_rate=1e30)
    assert stable_below(settings, Run(settings).surface) is None
    plain = pt.raw_loop(*pt.line_data(), 5, optimizer=name, lr=1e30)
    race = Race.of(settings)
    run_until_diverged(race)
    assert race.leader.diverged_at == first_non_finite(plain)
    message = divergence_of(race.leader)
    step = "lr" if lrs == 1 else f"{lrs} × lr"
    assert f"{name} has no fixed stability limit: its steps scale with the learning rate" in message
    assert f"(its first step moves W and b by {step} each)" in message
    assert f"{PLAIN_LIMIT:.4g}" not in message and "gradient descent" not in message


def test_zero_grad_off_is_named_as_the_reason_not_a_limit() -> None:
    plain = pt.raw_loop(*pt.line_data(), 1000, lr=0.5, zero_grad=False)
    race = Race.of(Settings(learning_rate=0.5, zero_grad=False))
    run_until_diverged(race)
    leader = race.leader
    assert leader.diverged_at == first_non_finite(plain)
    assert stable_below(leader.settings, leader.surface) is None
    message = divergence_of(leader, keys=True)
    assert "zero_grad is off, so each step used the sum of the gradients of every epoch so far" in message
    assert f"{PLAIN_LIMIT:.4g}" not in message and message.endswith("z turns zero_grad on.")


# --------------------------------------------------------- a refused step
def plain_adam_refused(lr: float, epochs: int) -> list[tuple[float, float, float, float, float, bool]]:
    """Adam in plain torch, catching the error its step raises: (W, b, cost, W.grad, b.grad,
    refused) per epoch, W and b read after the step."""
    x_train, y_train = pt.line_data()
    W = torch.zeros(1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.Adam([W, b], lr=lr)
    seen = []
    for _ in range(epochs + 1):
        cost = torch.mean((x_train * W + b - y_train) ** 2)
        optimizer.zero_grad()
        cost.backward()
        try:
            optimizer.step()
            refused = False
        except RuntimeError:
            refused = True
        seen.append((W.item(), b.item(), cost.item(), W.grad.item(), b.grad.item(), refused))
    return seen


def test_a_refused_step_keeps_the_values_torch_holds_and_still_ends_the_run(
    capsys: pytest.CaptureFixture[str],
) -> None:
    w, b, cost, grad_w, grad_b, refused = plain_adam_refused(1e38, 0)[0]
    assert refused and (w, b) == (0.0, 0.0)
    code, out, err = invoke(
        capsys, "--optimizer", "adam", "--lr", "1e38", "--epochs", "3", "--log-every", "1"
    )
    assert code == 3 and out == f"Epoch    0/3 W: {w:.3f}, b: {b:.3f} Cost: {cost:.6f}\n"
    assert err.count("\n") == 1 and "nan" not in err
    assert "diverged at epoch 0 (the optimizer's step overflowed float32, so torch refused to take it:" in err
    assert "W and b stay at W = 0, b = 0)" in err
    assert "Adam has no fixed stability limit" in err and f"{PLAIN_LIMIT:.4g}" not in err
    assert "so lr 1e+38 would throw them far past the optimum (the optimum: W = 1, b = 0)" in err
    code, out, _ = invoke(capsys, "--optimizer", "adam", "--lr", "1e38", "--format", "csv")
    assert code == 3 and out.splitlines()[1] == f"0,0.0,0.0,{cost!r},{grad_w!r},{grad_b!r},{w!r},{b!r}"


def test_a_refused_step_is_kept_through_history_session_and_csv(tmp_path) -> None:
    run = Run(Settings(optimizer="adam", learning_rate=1e38))
    record = run.step()
    assert record.step_refused and not record.finite and run.diverged_at == 0
    assert (record.w_next, record.b_next) == (run.w, run.b) == (0.0, 0.0)
    assert run.history.last == record
    path = tmp_path / "refused.json"
    save_session(path, run)
    loaded = load_session(path)
    assert loaded.diverged_at == 0 and loaded.history.last == record
    assert divergence_of(loaded) == divergence_of(run)
    csv_path = tmp_path / "history.csv"
    export_history_csv(csv_path, run.history)
    header, row = csv_path.read_text().splitlines()
    assert header.endswith(",learning_rate,step_refused") and row.endswith(",1e+38,True")
    assert run.undo() and not run.diverged and run.history.refused_at is None


def test_a_session_naming_a_refused_step_elsewhere_than_the_divergence_is_refused() -> None:
    run = Run(Settings(optimizer="adam", learning_rate=1e38))
    run.step()
    document = session_dict(run)
    document["history"]["step_refused_at"] = 3
    with pytest.raises(SessionError, match="step_refused_at: a refused step ends the run, so epoch 3"):
        session_from_dict(document)
    del document["history"]["step_refused_at"]  # as written before refused steps were kept
    with pytest.raises(SessionError, match="diverged_at: the session says epoch 0 diverged"):
        session_from_dict(document)


def test_an_adam_session_with_a_learning_rate_whose_first_step_overflows_loads(tmp_path) -> None:
    path = tmp_path / "fresh.json"
    save_session(path, Run(Settings(optimizer="adam", learning_rate=1e38)))
    loaded = load_session(path)
    assert loaded.epoch == 0 and loaded.settings.learning_rate == 1e38
    assert loaded.step().step_refused and (loaded.w, loaded.b) == (0.0, 0.0)


def test_a_cost_that_overflows_at_the_start_blames_the_data_not_the_learning_rate(tmp_path) -> None:
    path = tmp_path / "huge.csv"
    path.write_text("x,y\n1,1e20\n2,2e20\n")
    x_train = torch.FloatTensor([[1], [2]])
    y_train = torch.FloatTensor([[1e20], [2e20]])
    plain = pt.raw_loop(x_train, y_train, 0, lr=1e-45)
    assert plain[0]["cost"] == math.inf and math.isfinite(plain[0]["grad_w"])
    race = Race.of(Settings(data=str(path), learning_rate=1e-45))
    race.step(5)
    assert race.leader.diverged_at == 0
    message = divergence_of(race.leader, keys=True)
    assert message == (
        "diverged at epoch 0 (cost = inf). The cost at the starting point"
        " (W = 0, b = 0) already overflows float32: the data (or the initial W and b) are too large for"
        " their squares to fit; scale them down."
    )


async def test_undoing_a_divergence_fits_the_surface_to_what_is_left() -> None:
    """Issue 26: after ctrl+n diverged, u, -, N converged but the surface stayed zoomed out to
    -1e19 … 0 (the view was re-fitted only on a restart)."""
    from app_support import settle

    app = make_app(Settings(data="noisy", init_w=10, init_b=-5, learning_rate=1.6))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+n")
        await settle(pilot)
        view = app.run_screen.chart.view_range
        assert app.leader.diverged and view.w is not None and view.w[1] - view.w[0] > 1e6
        await pilot.press("u", "minus", "N")
        await settle(pilot)
        assert not app.leader.diverged and app.leader.epoch == 10
        assert view.w is not None and view.b is not None
        assert view.w[1] - view.w[0] < 100 and view.b[1] - view.b[0] < 100
        assert view.contains(app.leader.w, app.leader.b)
