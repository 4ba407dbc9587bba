"""Races: contenders in lockstep on the same data, each one exactly its own plain torch loop."""

from __future__ import annotations

import csv
import io
import json
import math
from typing import Any

import plain_torch as pt
import pytest
from cli_support import invoke

from lrtui.charts import build_chart, scene_of
from lrtui.engine import Settings, SettingsError
from lrtui.engine.fields import FIELDS
from lrtui.engine.race import Race, contender_settings, labels
from lrtui.engine.report import row
from lrtui.engine.run import Run

# (lrtui changes, plain torch optimizer name and options)
CONTENDERS: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = [
    ("optimizer=adam lr=0.1", "Adam", {"lr": 0.1}, {}),
    ("momentum=0.9", "SGD", {"lr": 0.01}, {"momentum": 0.9}),
    ("lr=0.05,momentum=0.5,nesterov=on", "SGD", {"lr": 0.05}, {"momentum": 0.5, "nesterov": True}),
    ("optimizer=rmsprop lr=0.01", "RMSprop", {"lr": 0.01}, {}),
    ("optimizer=adagrad lr=0.5", "Adagrad", {"lr": 0.5}, {}),
    ("zero-grad=off", "SGD", {"lr": 0.01, "zero_grad": False}, {}),
    ("loss-reduction=sum lr=0.004", "SGD", {"lr": 0.004, "reduction": "sum"}, {}),
    ("init-w=2 init-b=-1", "SGD", {"lr": 0.01, "init_w": 2.0, "init_b": -1.0}, {}),
]


def plain(changes: dict[str, Any], name: str, options: dict[str, Any], epochs: int, data: str = "line"):
    return pt.raw_loop(*pt.DATA[data](), epochs, optimizer=name, options=options, **changes)


def records_as_plain(records) -> list[dict[str, Any]]:
    return [{key: getattr(record, key) for key in pt.FIELDS} for record in records]


# --------------------------------------------------------------------- settings
@pytest.mark.parametrize(("text", "name", "changes", "options"), CONTENDERS, ids=[c[0] for c in CONTENDERS])
def test_a_contender_trains_exactly_like_its_plain_loop(
    text: str, name: str, changes: dict[str, Any], options: dict[str, Any]
) -> None:
    base = Settings(epochs=40)
    race = Race.of(base, [contender_settings(base, text)])
    seen: dict[str, list] = {"A": [], "B": []}
    race.run_to_end(lambda rows: [seen[letter].append(record) for letter, record in rows])
    assert records_as_plain(seen["A"]) == pt.raw_loop(*pt.line_data(), 40)
    assert records_as_plain(seen["B"]) == plain(changes, name, options, 40)
    assert [records_as_plain(run.history) for run in race] == [records_as_plain(seen[k]) for k in "AB"]


def test_nn_linear_contender_uses_its_own_seed() -> None:
    base = Settings(data="double", epochs=20)
    settings = contender_settings(base, "model=linear seed=7")
    run = Run(settings)
    records = [run.step() for _ in range(21)]
    assert records_as_plain(records) == pt.linear_loop(*pt.double_data(), 20, seed=7)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("data=noisy", "shared by every contender"),
        ("--no-bias", "shared by every contender"),
        ("epochs=5", "shared by every contender"),
        ("speed=3", "unknown key 'speed'"),
        ("lr", "needs a value"),
        ("lr=-1", "lr: learning rate must be a positive number"),
        ("lr=abc", "lr: learning rate must be a number"),
        ("momentum=2", "momentum must be at least 0 and below 1"),
        ("nesterov=on", "Nesterov momentum needs a momentum above 0"),
        ("", "say what this contender changes"),
    ],
)
def test_contender_changes_are_validated(text: str, why: str) -> None:
    with pytest.raises(SettingsError) as refused:
        contender_settings(Settings(), text)
    assert refused.value.field == "compare"
    assert why in refused.value.message


def test_switching_optimizer_away_from_sgd_drops_nesterov() -> None:
    base = Settings(momentum=0.9, nesterov=True)
    assert contender_settings(base, "optimizer=rmsprop").nesterov is False


def test_labels_name_what_sets_each_contender_apart() -> None:
    base = Settings(data="noisy", init_w=10.0, init_b=-5.0, learning_rate=0.1)
    race = [base, contender_settings(base, "optimizer=adam"), contender_settings(base, "zero-grad=off")]
    assert labels(race) == ["SGD lr 0.1", "Adam lr 0.1", "SGD lr 0.1 zero_grad off"]
    assert labels([base]) == ["SGD lr 0.1 W₀ 10 b₀ -5"]


# Two contenders that differ only in one race field, for every field a contender may change.
DIFFERING_IN: dict[str, tuple[str, str]] = {
    "model": ("lr=0.02", "lr=0.02 model=linear"),
    "optimizer": ("lr=0.02", "optimizer=adam lr=0.02"),
    "learning_rate": ("lr=0.02", "lr=0.03"),
    "momentum": ("momentum=0.5", "momentum=0.9"),
    "nesterov": ("momentum=0.9", "momentum=0.9 nesterov=on"),
    "init_w": ("init-w=1", "init-w=2"),
    "init_b": ("init-b=1", "init-b=2"),
    "loss_reduction": ("lr=0.02", "lr=0.02 loss-reduction=sum"),
    "zero_grad": ("lr=0.02", "lr=0.02 zero-grad=off"),
    "seed": ("model=linear seed=3", "model=linear seed=7"),
    "batch_size": ("batch-size=10", "batch-size=20"),
    "shuffle": ("batch-size=10", "batch-size=10 shuffle=on"),
    "scheduler": ("scheduler=exponential gamma=0.9", "scheduler=step gamma=0.9"),
    "step_size": ("scheduler=step step-size=2", "scheduler=step step-size=3"),
    "gamma": ("scheduler=exponential gamma=0.9", "scheduler=exponential gamma=0.8"),
    "t_max": ("scheduler=cosine t-max=2", "scheduler=cosine t-max=3"),
    "loss": ("lr=0.02", "lr=0.02 loss=l1"),
    "huber_delta": ("loss=huber huber-delta=1", "loss=huber huber-delta=2"),
    # issue 30: the optimizers' options
    "dampening": ("momentum=0.9 dampening=0.1", "momentum=0.9 dampening=0.2"),
    "weight_decay": ("weight-decay=0.1", "weight-decay=0.2"),
    "betas": ("optimizer=adam betas=0.8,0.9", "optimizer=adam betas=0.7,0.9"),
    "eps": ("optimizer=adam eps=1e-6", "optimizer=adam eps=1e-5"),
    "amsgrad": ("optimizer=adam", "optimizer=adam amsgrad=on"),
    "alpha": ("optimizer=rmsprop alpha=0.9", "optimizer=rmsprop alpha=0.8"),
    "centered": ("optimizer=rmsprop", "optimizer=rmsprop centered=on"),
    "rho": ("optimizer=adadelta rho=0.8", "optimizer=adadelta rho=0.7"),
    "lr_decay": ("optimizer=adagrad lr-decay=0.1", "optimizer=adagrad lr-decay=0.2"),
    "momentum_decay": ("optimizer=nadam momentum-decay=0.1", "optimizer=nadam momentum-decay=0.2"),
    "decoupled_weight_decay": ("optimizer=radam", "optimizer=radam decoupled-weight-decay=on"),
    "etas": ("optimizer=rprop etas=0.4,1.3", "optimizer=rprop etas=0.4,1.4"),
    "step_sizes": ("optimizer=rprop step-sizes=0.1,1", "optimizer=rprop step-sizes=0.1,2"),
    "lambd": ("optimizer=asgd lambd=0.1", "optimizer=asgd lambd=0.2"),
    "t0": ("optimizer=asgd t0=10", "optimizer=asgd t0=20"),
    "max_iter": ("optimizer=lbfgs max-iter=3", "optimizer=lbfgs max-iter=4"),
    "history_size": ("optimizer=lbfgs history-size=3", "optimizer=lbfgs history-size=4"),
    "line_search": ("optimizer=lbfgs", "optimizer=lbfgs line-search=strong_wolfe"),
    "decay_bias": ("weight-decay=0.1", "weight-decay=0.1 decay-bias=off"),
}


def test_every_race_field_tells_two_contenders_apart_in_their_labels() -> None:
    """A setting a contender may change has its words in ``describe``: a new one without them
    would give two contenders of a race the same label."""
    assert set(DIFFERING_IN) == {field.name for field in FIELDS if field.race_keys}
    base = Settings(data="noisy")
    for name, (first, second) in DIFFERING_IN.items():
        one, other = contender_settings(base, first), contender_settings(base, second)
        assert [field for field in FIELDS if getattr(one, field.name) != getattr(other, field.name)] == [
            field for field in FIELDS if field.name == name
        ], name
        race = labels([base, one, other])
        assert race[1] != race[2], (name, race)


# ------------------------------------------------------------------------ rivals
def test_rivals_follow_the_leader_forward_and_back_exactly() -> None:
    base = Settings(epochs=100)
    race = Race.of(
        base, [contender_settings(base, "optimizer=adam lr=0.1"), contender_settings(base, "momentum=0.9")]
    )
    leader = race.leader
    expected = [plain({"lr": 0.1}, "Adam", {}, 100), plain({"lr": 0.01}, "SGD", {"momentum": 0.9}, 100)]
    for move, count in [("step", 12), ("back", 5), ("step", 9), ("back", 16), ("step", 3)]:
        if move == "step":
            race.step(count)
        else:
            for _ in range(count):
                assert race.undo()
        for rival, plain_records in zip(race.rivals, expected, strict=True):
            assert rival.epoch == leader.epoch
            assert records_as_plain(rival.history) == plain_records[: leader.epoch]
    assert race.labels() == ["SGD lr 0.01", "Adam lr 0.1", "SGD lr 0.01 momentum 0.9"]


def test_a_rival_added_mid_run_catches_up_and_a_race_holds_four() -> None:
    race = Race.of(Settings(epochs=50))
    race.step(20)
    settings = race.leader.settings
    rival = race.add(contender_settings(settings, "lr=0.02"))
    assert rival.letter == "B" and rival.epoch == 20 and len(rival.history) == 20
    race.add(contender_settings(settings, "lr=0.03"))
    race.add(contender_settings(settings, "lr=0.04"))
    assert race.full and [r.letter for r in race] == ["A", "B", "C", "D"]
    with pytest.raises(SettingsError, match="at most 4 contenders"):
        race.add(contender_settings(settings, "lr=0.05"))
    assert race.remove_last().letter == "D" and len(race) == 3
    race.remove_last(), race.remove_last()
    assert race.remove_last() is None and len(race) == 1  # the leader stays


def test_a_diverging_rival_stops_while_the_leader_goes_on() -> None:
    race = Race.of(Settings(epochs=60), [Settings(epochs=60, learning_rate=1.0)])
    leader, rival = race.runs
    first = next(
        r["epoch"] for r in plain({"lr": 1.0}, "SGD", {}, 60) if not math.isfinite(r["cost"] * r["w_next"])
    )
    race.step(40)
    assert rival.diverged_at == first < 40 and rival.epoch == first + 1 and leader.epoch == 40
    race.undo()
    assert rival.diverged_at == first
    while leader.epoch > first:
        race.undo()
    assert not rival.diverged and rival.epoch == first


def test_the_cli_race_goes_on_when_the_leader_stops() -> None:
    race = Race.of(Settings(epochs=60, learning_rate=1.0), [Settings(epochs=60)])
    race.run_to_end()
    leader, rival = race.runs
    assert leader.diverged and rival.finished and rival.epoch == 61
    assert records_as_plain(rival.history) == pt.raw_loop(*pt.line_data(), 60)


def test_a_restart_starts_every_rival_again_on_the_new_leaders_data() -> None:
    race = Race.of(Settings(epochs=30), [contender_settings(Settings(epochs=30), "optimizer=adam lr=0.1")])
    race.step(10)
    race.restart(Run(race.leader.settings.with_changes(data="double", epochs=20)))
    leader, rival = race.runs
    assert rival.dataset is leader.dataset and rival.epoch == 0 and leader.letter == "A"
    assert rival.settings.epochs == 20 and rival.settings.optimizer == "adam"
    race.step(21)
    assert records_as_plain(rival.history) == pt.raw_loop(*pt.double_data(), 20, optimizer="Adam", lr=0.1)


def test_live_changes_share_epochs_and_log_interval_with_every_rival() -> None:
    race = Race.of(Settings(epochs=30), [contender_settings(Settings(epochs=30), "lr=0.02")])
    race.step(5)
    race.apply(race.leader.settings.with_changes(epochs=8, log_every=2, learning_rate=0.05))
    rival = race.rivals[0]
    assert (rival.settings.epochs, rival.settings.log_every, rival.settings.learning_rate) == (8, 2, 0.02)
    assert race.step(100) and race.leader.finished and rival.finished and rival.epoch == 9


# ----------------------------------------------------------------------- charts
def race_scene(epochs: int = 30, bias: bool = True):
    settings = Settings(epochs=epochs, bias=bias)
    race = Race.of(
        settings,
        [contender_settings(settings, "optimizer=adam lr=0.1"), contender_settings(settings, "lr=1")],
    )
    race.step(epochs + 1)  # C diverges
    return scene_of(race)


@pytest.mark.parametrize("view", ["surface", "cost", "fit"])
@pytest.mark.parametrize("bias", [True, False])
def test_every_view_draws_a_race_with_its_legend(view: str, bias: bool) -> None:
    from lrtui.charts import ViewRange

    text = build_chart(view, race_scene(bias=bias), ViewRange(), 160, 30, color=False)
    if view == "fit":
        assert "B Adam lr 0.1" in text and "C SGD lr 1 ✖" in text
    else:
        assert "● A SGD lr 0.01" in text and "B Adam lr 0.1" in text and "C SGD lr 1 ✖" in text
    if view == "surface" and bias:
        assert "B" in text.split("\n", 1)[1]  # the rival's letter marks where it stands


# -------------------------------------------------------------------------- CLI
def test_compare_prints_one_table_with_a_row_per_contender(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = invoke(
        capsys,
        "--epochs",
        "100",
        "--log-every",
        "25",
        "--compare",
        "optimizer=adam lr=0.1",
        "--compare",
        "momentum=0.9",
    )
    assert (code, err) == (0, "")
    runs = {
        "A": pt.raw_loop(*pt.line_data(), 100),
        "B": plain({"lr": 0.1}, "Adam", {}, 100),
        "C": plain({"lr": 0.01}, "SGD", {"momentum": 0.9}, 100),
    }
    expected = ["A = SGD lr 0.01", "B = Adam lr 0.1", "C = SGD lr 0.01 momentum 0.9"]
    tables = {letter: pt.log_lines(records, 100, 25) for letter, records in runs.items()}
    for i in range(5):
        for letter, lines in tables.items():
            expected.append(lines[i].replace("/100 W:", f"/100 {letter} W:"))
    assert out.splitlines() == expected


def test_compare_csv_and_jsonl_carry_the_contender(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--no-bias", "--lr", "0.15", "--epochs", "10", "--log-every", "5", "--compare", "lr=0.05"]
    code, out, _ = invoke(capsys, *argv, "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["contender"], r["epoch"]) for r in rows] == [
        ("A", "0"), ("B", "0"), ("A", "5"), ("B", "5"), ("A", "10"), ("B", "10")
    ]  # fmt: skip
    plain_b = pt.raw_loop(*pt.line_data(), 10, lr=0.05, bias=False)
    assert float(rows[3]["w_next"]) == plain_b[5]["w_next"] and rows[3]["b"] == ""
    code, out, _ = invoke(capsys, *argv, "--format", "jsonl")
    objects = [json.loads(line) for line in out.splitlines()]
    assert objects[1] == {
        "contender": "B",
        "description": "SGD lr 0.05",
        **{k: plain_b[0][k] for k in pt.FIELDS},
    }
    assert rows[0]["description"] == "SGD lr 0.15" and rows[1]["description"] == "SGD lr 0.05"


def test_compare_with_a_diverging_contender_exits_3_naming_it(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = invoke(capsys, "--epochs", "60", "--log-every", "20", "--compare", "lr=1")
    first = next(r["epoch"] for r in plain({"lr": 1.0}, "SGD", {}, 60) if not math.isfinite(r["cost"]))
    assert code == 3
    assert err.startswith(f"lrtui run: B diverged at epoch {first} ") and err.count("\n") == 1
    assert f"Epoch   {first}/60 B W:" in out and "Epoch   60/60 A W:" in out and "Epoch   60/60 B" not in out


@pytest.mark.parametrize(
    ("argv", "why"),
    [
        (["--compare", "lr=0.1"] * 4, "at most 4 contenders"),
        (["--compare", "lr=0.1", "--save", "x.json"], "--save keeps a single run"),
        (["--compare", "data=noisy"], "shared by every contender"),
        (["--compare", "lr=nan"], "finite"),
        (["--compare", "colour=red"], "unknown key"),
    ],
)
def test_bad_compare_exits_2_naming_the_flag(
    capsys: pytest.CaptureFixture[str], argv: list[str], why: str
) -> None:
    code, out, err = invoke(capsys, "--epochs", "3", *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "argument --compare" in err and why in err


def test_compare_plot_draws_every_contender(capsys: pytest.CaptureFixture[str], monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "140")
    monkeypatch.setenv("LINES", "50")
    code, out, _ = invoke(
        capsys, "--epochs", "30", "--log-every", "30", "--compare", "optimizer=adam lr=0.1", "--plot"
    )
    assert code == 0
    assert "B = Adam lr 0.1" in out.splitlines()
    assert out.count("B Adam lr 0.1") == 2  # in both chart titles
    assert "cost per epoch" in out and "cost J(W, b)" in out


def test_row_has_the_columns_a_contender_row_extends() -> None:
    record = Run(Settings()).step()
    assert list(row(record)) == list(pt.FIELDS)


def test_run_to_end_from_runs_at_different_epochs_hands_no_empty_round() -> None:
    """Each contender runs from where it stands to its end; a round where the runs still going
    are all ahead is not handed on (``lrtui run`` reads the round's first row)."""
    base = Settings(epochs=6)
    race = Race.of(base, [contender_settings(base, "lr=0.02")])
    race.rivals[0].run_to(4)
    rounds: list[list] = []
    race.run_to_end(rounds.append)
    assert all(rounds) and [run.epoch for run in race] == [7, 7]
    assert [[(letter, record.epoch) for letter, record in rows] for rows in rounds][:2] == [
        [("A", 0)],
        [("A", 1)],
    ]
    assert records_as_plain(race.rivals[0].history) == plain({"lr": 0.02}, "SGD", {}, 6)
