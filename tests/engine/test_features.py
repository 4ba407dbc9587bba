"""More than one feature (Lab 4-1): the data, read from a preset or a CSV header."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import plain_torch as pt
import plotext
import pytest
import torch
import torch.nn.functional as F
from app_support import log_text, make_app, settle, shown_text
from cli_support import invoke, invoke_main

from lrtui.charts import ViewRange, build_chart, scene_for
from lrtui.charts.slices import default_pair, next_pair, parse_pair
from lrtui.cli.describe import FACTS
from lrtui.engine.contenders import contender_settings
from lrtui.engine.data import MAX_FEATURES, DataError, from_tensors, load
from lrtui.engine.features import FeatureSurface
from lrtui.engine.race import Race
from lrtui.engine.record import EpochRecord
from lrtui.engine.run import Run
from lrtui.engine.session import SessionError, load_session, save_session, session_dict, session_from_dict
from lrtui.engine.settings import Settings, SettingsError, field_text, parse_field
from lrtui.engine.simulation import Simulation


def write(tmp_path: Path, text: str, name: str = "points.csv") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def data_error(path: str, *, quote: bool = True) -> str:
    with pytest.raises(DataError) as error:
        load(path, quote=quote)
    return str(error.value)


def test_scores_is_the_lab_4_1_table() -> None:
    dataset = load("scores")
    x_train = torch.FloatTensor([[73, 80, 75], [93, 88, 93], [89, 91, 90], [96, 98, 100], [73, 66, 70]])
    y_train = torch.FloatTensor([[152], [185], [180], [196], [142]])
    assert torch.equal(dataset.x_train, x_train) and torch.equal(dataset.y_train, y_train)
    assert dataset.features == 3 and len(dataset.names) == 3 and dataset.size == 5


def test_a_header_names_the_target_y_and_the_features_in_file_order(tmp_path: Path) -> None:
    # the slow path too: a blank line makes the reader go again, carefully
    for blank in ("", "\n"):
        dataset = load(write(tmp_path, f"a,y,b\n1,2,3\n{blank}4,5,6\n"))
        assert dataset.names == ("a", "b") and dataset.features == 2
        assert dataset.x_train.tolist() == [[1.0, 3.0], [4.0, 6.0]]
        assert dataset.y_train.tolist() == [[2.0], [5.0]]
    one = load(write(tmp_path, "y,x\n2,1\n4,3\n"))
    assert (
        one.features == 1
        and one.x_train.tolist() == [[1.0], [3.0]]
        and one.y_train.tolist() == [[2.0], [4.0]]
    )


@pytest.mark.parametrize(
    ("header", "words"),
    [
        ("a,b,c", "must name the target column y"),
        ("x,y,X", "column 3: 'X' is the name of an earlier column too"),
        ("x,,y", "column 2: the column has no name"),
        ("y", "names no feature beside y"),
        (
            ",".join([*(f"x{i}" for i in range(MAX_FEATURES + 1)), "y"]),
            f"over lrtui's limit of {MAX_FEATURES}",
        ),
    ],
)
def test_a_bad_header_is_refused_at_line_1(tmp_path: Path, header: str, words: str) -> None:
    message = data_error(write(tmp_path, f"{header}\n1,2,3\n"))
    assert "line 1" in message and words in message


def test_sixteen_features_are_read(tmp_path: Path) -> None:
    names = [f"x{i}" for i in range(MAX_FEATURES)]
    row = ",".join(str(i) for i in range(MAX_FEATURES + 1))
    dataset = load(write(tmp_path, ",".join([*names, "y"]) + f"\n{row}\n"))
    assert dataset.features == MAX_FEATURES and dataset.y_train.item() == MAX_FEATURES


def test_bad_cells_and_rows_name_line_and_column(tmp_path: Path) -> None:
    assert "line 3, column 3: 'oops' is not a number" in data_error(
        write(tmp_path, "a,b,y\n1,2,3\n4,5,oops\n")
    )
    assert "line 2, column 2" in data_error(write(tmp_path, "a,b,y\n1,1e39,3\n"))
    assert "line 2: expected 3 values (a,b,y), got 2" in data_error(write(tmp_path, "a,b,y\n1,2\n"))
    # a served app quotes nothing of the file, not even its header
    unquoted = data_error(write(tmp_path, "a,b,y\n1,2\n"), quote=False)
    assert unquoted.endswith("line 2: expected 3 values, got 2")
    assert "a,b" not in data_error(write(tmp_path, "a,A,y\n1,2,3\n"), quote=False).split(": ", 1)[1]


# ------------------------------------------------------------------ the loop, against plain torch
def same_as_plain(records: list[EpochRecord], plain: list[dict[str, Any]]) -> bool:
    """Every number of every step equal, bit for bit, W's as k-lists."""
    assert len(records) == len(plain)
    for record, expected in zip(records, plain, strict=True):
        got = {
            "epoch": record.epoch,
            "w": list(record.weights("w")),
            "b": record.b,
            "cost": record.cost,
            "grad_w": list(record.weights("grad_w")),
            "grad_b": record.grad_b,
            "w_next": list(record.weights("w_next")),
            "b_next": record.b_next,
            "fresh_grad_w": list(record.weights("fresh_grad_w")),
            "fresh_grad_b": record.fresh_grad_b,
            "batch": record.batch,
            "learning_rate": record.learning_rate,
        }
        want = {key: expected[key] for key in got}
        if got != want:
            raise AssertionError(f"epoch {record.epoch}: {got} != {want}")
    return True


def _all(settings: Settings) -> list[EpochRecord]:
    simulation = Simulation(settings)
    records: list[EpochRecord] = []
    simulation.run_to_end(records.append)
    return records


CASES: list[tuple[dict[str, Any], dict[str, Any]]] = [
    ({}, {}),
    ({"model": "linear"}, {"model": "linear"}),
    ({"bias": False}, {"bias": False}),
    ({"model": "linear", "bias": False}, {"model": "linear", "bias": False}),
    ({"loss_reduction": "sum", "learning_rate": 1e-6}, {"reduction": "sum", "lr": 1e-6}),
    ({"loss": "l1", "learning_rate": 1e-3}, {"loss": "l1", "lr": 1e-3}),
    ({"loss": "l1", "model": "linear", "learning_rate": 1e-3}, {"loss": "l1", "model": "linear", "lr": 1e-3}),
    (
        {"loss": "huber", "huber_delta": 2.0, "learning_rate": 1e-3},
        {"loss": "huber", "delta": 2.0, "lr": 1e-3},
    ),
    (
        {"optimizer": "sgd", "momentum": 0.9, "nesterov": True},
        {"options": {"momentum": 0.9, "nesterov": True}},
    ),
    ({"optimizer": "adam", "learning_rate": 0.1}, {"optimizer": "Adam", "lr": 0.1}),
    ({"optimizer": "adagrad", "learning_rate": 0.5}, {"optimizer": "Adagrad", "lr": 0.5}),
    (
        {"optimizer": "rmsprop", "learning_rate": 0.01, "momentum": 0.5},
        {"optimizer": "RMSprop", "lr": 0.01, "options": {"momentum": 0.5}},
    ),
    ({"zero_grad": False, "learning_rate": 1e-6}, {"zero_grad": False, "lr": 1e-6}),
    ({"init_w": (0.5, -0.25, 1.0), "init_b": 2.0}, {"init_w": [0.5, -0.25, 1.0], "init_b": 2.0}),
    ({"init_w": 0.5, "model": "linear"}, {"init_w": 0.5, "model": "linear"}),
    ({"standardize": True, "learning_rate": 0.1}, {"standardize": True, "lr": 0.1}),
    (
        {"standardize": True, "learning_rate": 0.1, "model": "linear", "bias": False},
        {"standardize": True, "lr": 0.1, "model": "linear", "bias": False},
    ),
    ({"batch_size": 2, "shuffle": True, "seed": 7}, {"batch_size": 2, "shuffle": True, "seed": 7}),
    (
        {"batch_size": 3, "model": "linear", "scheduler": "step", "step_size": 2, "gamma": 0.5},
        {"batch_size": 3, "model": "linear", "scheduler": "step", "schedule": {"step_size": 2, "gamma": 0.5}},
    ),
    ({"scheduler": "cosine", "t_max": 5}, {"scheduler": "cosine", "schedule": {"T_max": 5}}),
]


@pytest.mark.parametrize(("changes", "plain"), CASES)
def test_every_combination_with_three_features_is_plain_torch(
    changes: dict[str, Any], plain: dict[str, Any]
) -> None:
    settings = Settings(**{"data": "scores", "learning_rate": 1e-5, "epochs": 12, **changes})
    expected = pt.features_loop(*pt.scores_data(), 12, **plain)
    assert same_as_plain(_all(settings), expected)


def test_init_w_takes_k_values_or_one(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="initial W has 2 values but the data has 3 features"):
        Simulation(Settings(data="scores", init_w=(1.0, 2.0)))
    with pytest.raises(SettingsError, match="initial W has 3 values but the data has 1 feature"):
        Simulation(Settings(data="line", init_w=(1.0, 2.0, 3.0)))
    assert parse_field("init_w", "0.5, -1,2") == (0.5, -1.0, 2.0)
    assert parse_field("init_w", "0.5") == 0.5
    with pytest.raises(SettingsError, match="initial W"):
        parse_field("init_w", "1,abc")
    assert Settings.from_dict({"init_w": [1.0, 2.0, 3.0]}).init_w == (1.0, 2.0, 3.0)
    assert field_text("init_w", (1.0, 0.25)) == "1,0.25"


def test_one_feature_records_stay_scalars() -> None:
    record = Simulation(Settings()).step()
    assert record.ws is None and record.features == 1 and record.weights() == (record.w,)


def test_undo_race_and_session_with_three_features(tmp_path: Path) -> None:
    settings = Settings(
        data="scores", optimizer="adam", learning_rate=0.1, batch_size=2, shuffle=True, epochs=30
    )
    expected = pt.features_loop(*pt.scores_data(), 30, optimizer="Adam", lr=0.1, batch_size=2, shuffle=True)
    run = Run(settings)
    run.run_to(8)
    assert run.undo(5) and run.steps == 8 * 3 - 5  # back 5 batches, replayed exactly
    run.run_to(12)
    save_session(tmp_path / "run.json", run)
    loaded = load_session(tmp_path / "run.json")
    assert list(loaded.history) == list(run.history) and loaded.weights == run.weights
    loaded.run_to(31)
    assert same_as_plain(list(loaded.history), expected)
    # a race: every contender on the same three features, each its own plain loop
    lab = Settings(data="scores", epochs=5, learning_rate=1e-5)
    race = Race.of(lab, [lab.with_changes(model="linear")])
    race.run_to_end()
    assert same_as_plain(list(race.leader.history), pt.features_loop(*pt.scores_data(), 5))
    assert same_as_plain(list(race.rivals[0].history), pt.features_loop(*pt.scores_data(), 5, model="linear"))


def test_a_session_whose_weights_do_not_fit_the_data_is_refused(tmp_path: Path) -> None:
    run = Run(Settings(data="scores"))
    run.run_to(3)
    document = session_dict(run)
    document["parameters"][0].update(shape=[2, 1], values=[0.0, 0.0])  # two weights for three features
    with pytest.raises(SessionError, match="parameter 0"):
        session_from_dict(json.loads(json.dumps(document)))
    document = session_dict(run)
    document["history"]["ws_next"] = document["history"]["ws_next"][:-1]
    with pytest.raises(SessionError, match="'ws_next'"):
        session_from_dict(document)


# ------------------------------------------------------------------ lrtui run's output
def lab_lines(records: list[dict[str, Any]], nb_epochs: int) -> list[str]:
    """Lab 4-1's print, every epoch."""
    return [
        "Epoch {:4d}/{} hypothesis: {} Cost: {:.6f}".format(
            record["epoch"], nb_epochs, record["hypothesis"], record["cost"]
        )
        for record in records
    ]


@pytest.mark.parametrize("model", ["raw", "linear"])
def test_lrtui_run_prints_the_lab_4_1_table(capsys: pytest.CaptureFixture[str], model: str) -> None:
    code, out, err = invoke(
        capsys,
        "--data",
        "scores",
        "--lr",
        "1e-5",
        "--epochs",
        "20",
        "--log-every",
        "1",
        "--model",
        model,
    )
    assert code == 0, err
    assert out.splitlines() == lab_lines(pt.features_loop(*pt.scores_data(), 20, model=model), 20)
    assert out.splitlines()[1] == (
        "Epoch    1/20 hypothesis: tensor([67.2578, 80.8397, 79.6523, 86.7394, 61.6605]) Cost: 9298.520508"
        if model == "raw"
        else out.splitlines()[1]
    )


def test_jsonl_and_csv_hold_w_as_k_numbers(capsys: pytest.CaptureFixture[str]) -> None:
    plain = pt.features_loop(*pt.scores_data(), 3, standardize=True, lr=0.1)
    argv = ("--data", "scores", "--lr", "0.1", "--epochs", "3", "--log-every", "1", "--standardize")
    code, out, _ = invoke(capsys, *argv, "--format", "jsonl")
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [row["w"] for row in rows] == [record["w"] for record in plain]
    assert [row["grad_w"] for row in rows] == [record["grad_w"] for record in plain]
    assert [row["w_next"] for row in rows] == [record["w_next"] for record in plain]
    x = pt.scores_data()[0]
    mean, std = x.mean(dim=0).tolist(), x.std(dim=0).tolist()
    for row, record in zip(rows, plain, strict=True):
        w_orig = [w / s for w, s in zip(record["w"], std, strict=True)]
        assert row["w_orig"] == w_orig
        assert row["b_orig"] == record["b"] - sum(w * m for w, m in zip(w_orig, mean, strict=True))
    code, out, _ = invoke(capsys, *argv, "--format", "csv")
    table = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and list(table[0])[:4] == ["epoch", "w1", "w2", "w3"]
    assert "grad_w3" in table[0] and "w_next2" in table[0] and "w_orig1" in table[0]
    assert [float(row["w_next2"]) for row in table] == [record["w_next"][1] for record in plain]


def test_one_feature_output_is_what_it_was(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = invoke(capsys, "--epochs", "2", "--log-every", "1", "--format", "csv")
    assert code == 0 and out.splitlines()[0] == "epoch,w,b,cost,grad_w,grad_b,w_next,b_next"
    code, out, _ = invoke(capsys, "--epochs", "0", "--format", "jsonl")
    assert isinstance(json.loads(out)["w"], float)


def test_bad_init_w_exits_2_naming_the_flag(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = invoke(capsys, "--data", "scores", "--init-w", "1,2")
    assert code == 2 and "--init-w" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    code, out, err = invoke(capsys, "--data", "scores", "--init-w", "1,x,3")
    assert code == 2 and "--init-w" in err and len(err.strip().splitlines()) == 1


# ------------------------------------------------------------------ the shape of the cost
def design(standardize: bool = False, bias: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    x, y = pt.scores_data()
    if standardize:
        x = (x - x.mean(dim=0)) / x.std(dim=0)
    x = x.double()
    return (torch.cat([x, torch.ones(len(x), 1, dtype=torch.float64)], 1) if bias else x), y.double()


def float64_epochs(x: torch.Tensor, y: torch.Tensor, lr: float, momentum: float, min_cost: float) -> int:
    """The first epoch whose cost is within 1e-6 of the minimum, in float64 (no rounding noise)."""
    theta = torch.zeros((x.shape[1], 1), dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.SGD([theta], lr=lr, momentum=momentum)
    for epoch in range(100_000):
        cost = torch.mean((x.matmul(theta) - y) ** 2)
        if cost.item() - min_cost <= 1e-6:
            return epoch
        optimizer.zero_grad()
        cost.backward()
        optimizer.step()
    raise AssertionError("never reached")


def test_describe_solves_the_normal_equations_and_reads_the_hessian(
    capsys: pytest.CaptureFixture[str],
) -> None:
    a, y = design()
    optimum = torch.linalg.solve(a.T @ a, a.T @ y).flatten().tolist()
    eigenvalues = torch.linalg.eigvalsh(2 / 5 * a.T @ a).tolist()
    code, out, _ = invoke_main(capsys, "describe", "--data", "scores", "--lr", "1e-5", "--format", "json")
    values = json.loads(out)
    assert code == 0 and list(values) == list(FACTS)
    assert values["optimum_w"] == pytest.approx(optimum[:3], rel=1e-9)
    assert values["optimum_b"] == pytest.approx(optimum[3], rel=1e-9)
    assert values["lambda_max"] == pytest.approx(eigenvalues[-1], rel=1e-12)
    assert values["lambda_min"] == pytest.approx(eigenvalues[0], rel=1e-6)
    assert values["stable_lr_below"] == pytest.approx(2 / eigenvalues[-1], rel=1e-12)
    assert values["x_mean"] == pytest.approx(pt.scores_data()[0].double().mean(dim=0).tolist())
    # the lesson's lr 1e-5 is below the limit, and the text says why it must be that small
    assert 1e-5 < values["stable_lr_below"] < 1e-4
    code, out, _ = invoke_main(capsys, "describe", "--data", "scores", "--lr", "1e-5")
    assert "stable_lr_below" in out and "lr must stay below 4.54e-05" in out


def test_predicted_epochs_with_k_features_are_the_float64_runs(capsys: pytest.CaptureFixture[str]) -> None:
    a, y = design(standardize=True)
    for lr, momentum in ((0.1, 0.0), (0.8, 0.9)):
        argv = ["--data", "scores", "--standardize", "--lr", str(lr), "--momentum", str(momentum)]
        code, out, _ = invoke_main(capsys, "describe", *argv, "--format", "json")
        values = json.loads(out)
        assert code == 0 and values["predicted_epochs"] == float64_epochs(
            a, y, lr, momentum, values["min_cost"]
        )


@pytest.mark.parametrize(
    ("loss", "reduction"), [("mse", "mean"), ("mse", "sum"), ("l1", "mean"), ("huber", "sum")]
)
def test_every_slice_value_is_the_cost_at_that_point(loss: str, reduction: str) -> None:
    run = Run(
        Settings(data="scores", loss=loss, loss_reduction=reduction, huber_delta=2.0, learning_rate=1e-5)
    )
    run.run_to(3)
    surface = run.surface
    assert isinstance(surface, FeatureSurface)
    theta = surface.theta(run.weights, run.b)
    a, y = design()
    for pair in [(0, 3), (1, 2), (0, 1)]:
        piece = surface.slice(pair, theta)
        us = np.linspace(-1.0, 2.0, 7)
        vs = np.linspace(-3.0, 3.0, 5)
        grid = piece.grid(us, vs)
        for row, v in enumerate(vs):
            for column, u in enumerate(us):
                point = torch.tensor(theta).clone()
                point[pair[0]], point[pair[1]] = u, v
                r = a.matmul(point[:, None]) - y
                losses = {
                    "mse": r**2,
                    "l1": r.abs(),
                    "huber": F.huber_loss(r, torch.zeros_like(r), reduction="none", delta=2.0),
                }
                expected = getattr(torch, reduction)(losses[loss]).item()
                assert grid[row, column] == pytest.approx(expected, rel=1e-9, abs=1e-9)
        if loss == "mse":  # the slice's own minimum: no lower cost along either free parameter
            best = piece.optimum
            assert best.w is not None and best.b is not None and best.cost is not None
            assert np.all(
                piece.grid(best.w + np.array([-1e-3, 1e-3]), best.b + np.array([-1e-3, 1e-3])) >= best.cost
            )


def test_the_default_pair_is_the_two_largest_gradients_at_the_start() -> None:
    run = Run(Settings(data="scores", learning_rate=1e-5))
    surface = run.surface
    assert isinstance(surface, FeatureSurface)
    a, y = design()
    gradient = (2 / 5 * a.T @ (a @ torch.zeros(4, 1, dtype=torch.float64) - y)).abs().flatten()
    expected = tuple(sorted(torch.argsort(gradient, descending=True)[:2].tolist()))
    assert default_pair(surface, surface.theta(run.weights, run.b)) == expected == (0, 2)
    assert parse_pair(surface, "w3, w1") == (0, 2) and next_pair(surface, (0, 2)) == (0, 3)
    with pytest.raises(ValueError, match="w1, w2, w3, b"):
        parse_pair(surface, "w1,w9")
    # after the six pairs, each parameter alone: the curve J(θ_i), as J(W) is without bias
    assert parse_pair(surface, "w2") == (1, -1) and next_pair(surface, (2, 3)) == (0, -1)
    theta = np.array([0.5, -0.25, 1.0, 2.0])
    curve = surface.slice((1, -1), theta)
    a, y = design()
    for u in (-1.0, 0.0, 0.7):
        point = torch.tensor(theta)
        point[1] = u
        assert curve.cost(u) == pytest.approx(
            torch.mean((a.matmul(point[:, None]) - y) ** 2).item(), rel=1e-12
        )
    race = Race.of(Settings(data="scores", learning_rate=1e-5))
    race.step(2)
    text = plotext.uncolorize(build_chart("surface", scene_for(race, pair=(2, -1)), ViewRange(), 120, 30))
    assert "slice J(w3)  at w1 = " in text and "tangent" in text


def test_the_slice_chart_names_its_axes_and_what_is_pinned() -> None:
    race = Race.of(Settings(data="scores", learning_rate=1e-5, epochs=20))
    race.step(5)
    scene = scene_for(race, pair=(1, 3))
    assert scene.slice is not None and scene.slice.names == ("w2", "b")
    w = race.leader.weights
    assert scene.slice.pinned == (("w1", w[0]), ("w3", w[2]))
    assert scene.w == w[1] and scene.b == race.leader.b
    history = race.leader.history
    assert scene.track.w.tolist() == [record.ws[1] for record in history]  # type: ignore[index]
    text = plotext.uncolorize(build_chart("surface", scene, ViewRange(), 120, 30))
    assert f"slice J(w2, b)  at w1 = {w[0]:.3g}, w3 = {w[2]:.3g}" in text
    fit = plotext.uncolorize(build_chart("fit", scene, ViewRange(), 120, 30))
    assert "H(x) now against y" in fit
    # at 16 features a frame of the slice view at 120x40
    names = [f"x{i}" for i in range(16)]
    generator = torch.Generator().manual_seed(3)
    x = torch.randn(200, 16, generator=generator)
    many = Race.of(Settings(learning_rate=0.01), dataset=from_tensors("many", x, x.sum(dim=1), tuple(names)))
    many.step(3)
    wide = plotext.uncolorize(build_chart("surface", scene_for(many), ViewRange(), 120, 40))
    assert "14 pinned" in wide or "others pinned" in wide or "at w" in wide


# ------------------------------------------------------------------ the app
async def test_the_app_with_three_features_steps_slices_and_refuses_a_wrong_init_w() -> None:
    from textual.widgets import Input

    app = make_app(Settings(data="scores", learning_rate=1e-5, epochs=20, log_every=1))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press(*"nnn")
        assert same_as_plain(list(app.leader.history), pt.features_loop(*pt.scores_data(), 2))
        assert "Epoch    1/20 hypothesis: tensor([67.2578, 80.8397, 79.6523, 86.7394, 61.6605])" in log_text(
            app
        )
        # the state pane: every weight, .grad whole (a small screen wraps, never cuts)
        state = shown_text(app.run_screen.state_view).replace("\n", " ")
        record = app.leader.last
        assert record is not None
        for j, (value, grad) in enumerate(
            zip(app.leader.weights, record.grad_ws or (), strict=True), start=1
        ):
            assert f"w{j} {value:.6f}" in state and f"w{j} {grad:.6f}" in state
        chart = app.run_screen.chart
        first = chart.scene().pair
        await pilot.press("w")
        assert chart.scene().pair != first and chart.scene().slice is not None
        # an initial W with the wrong count is refused by name, the last good value kept
        field = app.query_one("#field-init_w", Input)
        field.focus()
        await settle(pilot)
        await pilot.press("ctrl+a", "ctrl+k", *"1,2", "enter")
        await settle(pilot)
        assert app.leader.settings.init_w is None and app.leader.epoch == 3
        await pilot.press("ctrl+a", "ctrl+k", *"0.5,0.25,1", "enter")
        await settle(pilot)
        assert app.leader.settings.init_w == (0.5, 0.25, 1.0) and app.leader.weights == (0.5, 0.25, 1.0)


def test_a_contender_takes_k_initial_weights() -> None:
    base = Settings(data="scores", learning_rate=1e-5)
    assert contender_settings(base, "init-w=1,2,3 lr=2e-5").init_w == (1.0, 2.0, 3.0)
    both = contender_settings(base, "optimizer=adam,lr=0.1")  # commas still part two changes
    assert both.optimizer == "adam" and both.learning_rate == 0.1
    race = Race.of(base, [contender_settings(base, "init-w=0.5,0.25,1")])
    race.step(2)
    assert same_as_plain(
        list(race.rivals[0].history), pt.features_loop(*pt.scores_data(), 1, init_w=[0.5, 0.25, 1.0])
    )
    assert "W₀ 0.5,0.25,1" in race.labels()[1]


def test_the_lr_limit_with_k_features_is_the_whole_hessians_with_and_without_weight_decay() -> None:
    """The panel's "stable below" on scores is 2/λmax of the (k+1)x(k+1) Hessian (4.544e-05),
    not the first feature's alone; weight decay adds to every curvature."""
    import numpy as np

    from lrtui.engine.run import Run

    x, y = pt.scores_data()
    design = np.hstack([x.double().numpy(), np.ones((len(y), 1))])
    hessian = 2.0 / len(y) * design.T @ design
    for decay in (0.0, 1.0):
        run = Run(Settings(data="scores", learning_rate=1e-5, weight_decay=decay or None))
        expected = 2.0 / np.linalg.eigvalsh(hessian + decay * np.eye(4))[-1]
        assert run.surface.limit_for(run.settings).limit == pytest.approx(expected, rel=1e-9)
