"""--standardize: the run trains on x' = (x - x.mean()) / x.std() as plain torch would, and every
output also gives the line in x's own units (W = W'/σ, b = b' - W'μ/σ). On the badly scaled
preset, plain GD on raw x needs thousands of epochs and the standardized run tens."""

from __future__ import annotations

import csv
import io
import json

import pytest
import torch
from cli_support import invoke
from plain_torch import FIELDS, linear_loop, noisy_data, raw_loop
from torch import optim

from lrtui.engine import Settings
from lrtui.engine.curvature import COST_TOLERANCE, curvature_of, predicted_epochs
from lrtui.engine.data import DataError, from_tensors, preset
from lrtui.engine.run import Run
from lrtui.engine.scaling import standardized


def scaled_data() -> tuple[torch.Tensor, torch.Tensor]:
    """The scaled preset as documented, with torch's global generator."""
    torch.manual_seed(11)
    x = 10 + 3 * torch.randn(40)
    y = 3 * x - 5 + torch.randn(40)
    return x.reshape(-1, 1), y.reshape(-1, 1)


def standardize(x_train: torch.Tensor) -> tuple[torch.Tensor, float, float]:
    x_mean, x_std = x_train.mean(), x_train.std()
    return (x_train - x_mean) / x_std, x_mean.item(), x_std.item()


def records_of(run: Run) -> list[dict]:
    return [{name: getattr(record, name) for name in FIELDS} for record in run.history]


def run_to_end(settings: Settings) -> Run:
    run = Run(settings)
    while run.running:
        run.step()
    return run


def test_the_scaled_preset_is_what_its_documentation_says() -> None:
    x_train, y_train = scaled_data()
    dataset = preset("scaled")
    assert torch.equal(dataset.x_train, x_train) and torch.equal(dataset.y_train, y_train)


@pytest.mark.parametrize("bias", [True, False])
def test_a_standardized_raw_run_equals_plain_torch_on_standardized_x(bias: bool) -> None:
    run = run_to_end(Settings(data="scaled", standardize=True, bias=bias, learning_rate=0.3, epochs=40))
    x_train, y_train = scaled_data()
    expected = raw_loop(standardize(x_train)[0], y_train, 40, lr=0.3, bias=bias)
    assert records_of(run) == expected


def test_a_standardized_nn_linear_run_equals_plain_torch() -> None:
    run = run_to_end(Settings(data="noisy", model="linear", standardize=True, seed=4, epochs=30))
    x_train, y_train = noisy_data()
    assert records_of(run) == linear_loop(standardize(x_train)[0], y_train, 30, seed=4)


def original_units(w: float, b: float | None, mean: float, std: float) -> tuple[float, float]:
    return w / std, (b if b is not None else 0.0) - w * mean / std


def test_the_log_line_gives_the_line_in_x_units(capsys) -> None:
    code, out, _ = invoke(
        capsys, "--data", "scaled", "--standardize", "--lr", "0.3", "--epochs", "20", "--log-every", "10"
    )
    assert code == 0
    x_train, y_train = scaled_data()
    x_scaled, mean, std = standardize(x_train)
    records = raw_loop(x_scaled, y_train, 20, lr=0.3)
    for line, record in zip(out.splitlines(), records[::10], strict=True):
        w, b = original_units(record["w_next"], record["b_next"], mean, std)
        assert line.endswith(f" | original x: W: {w:.3f}, b: {b:.3f}")
    # 20 epochs at lr 0.3 reach the least-squares line of the raw x
    optimum = Run(Settings(data="scaled")).surface.optimum
    assert f"W: {optimum.w:.3f}, b: {optimum.b:.3f}" in out.splitlines()[-1]


@pytest.mark.parametrize("output_format", ["csv", "jsonl"])
def test_csv_and_jsonl_have_w_orig_and_b_orig_beside_w_and_b(capsys, output_format: str) -> None:
    code, out, _ = invoke(
        capsys,
        "--data",
        "scaled",
        "--standardize",
        "--lr",
        "0.3",
        "--epochs",
        "10",
        "--log-every",
        "5",
        "--format",
        output_format,
    )
    assert code == 0
    if output_format == "csv":
        rows = list(csv.DictReader(io.StringIO(out)))
        assert list(rows[0])[:5] == ["epoch", "w", "b", "w_orig", "b_orig"]
    else:
        rows = [json.loads(line) for line in out.splitlines()]
        assert list(rows[0])[:5] == ["epoch", "w", "b", "w_orig", "b_orig"]
    _, mean, std = standardize(scaled_data()[0])
    for row in rows:
        w, b = original_units(float(row["w"]), float(row["b"]), mean, std)
        assert float(row["w_orig"]) == w and float(row["b_orig"]) == b
    # without --standardize the columns are as before
    _, plain, _ = invoke(capsys, "--data", "scaled", "--epochs", "0", "--format", output_format)
    assert "w_orig" not in plain


def test_the_app_log_and_state_pane_give_x_units() -> None:
    from lrtui.app.widgets.state import x_units_line
    from lrtui.engine.race import Race
    from lrtui.engine.run_log import RunLog

    race = Race.of(Settings(data="scaled", standardize=True, learning_rate=0.3, epochs=5, log_every=1))
    log = RunLog()
    log.took(race, race.step(3))
    scaling = standardized(race.leader.dataset).scaling
    w, b = scaling.original(race.leader.w, race.leader.b)
    assert "original x: W:" in log.lines[-1].text
    shown = x_units_line(race.leader)
    assert shown is not None and f"{w:.6f}" in shown.plain and f"{b:.6f}" in shown.plain
    assert x_units_line(Run(Settings(data="scaled"))) is None


def first_epoch_at_minimum(x_train, y_train, min_cost: float, lr: float, epochs: int) -> int | None:
    W = torch.zeros(1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    optimizer = optim.SGD([W, b], lr=lr)
    for epoch in range(epochs + 1):
        cost = torch.mean((x_train * W + b - y_train) ** 2)
        if cost.item() - min_cost <= COST_TOLERANCE:
            return epoch
        optimizer.zero_grad()
        cost.backward()
        optimizer.step()
    return None


def test_raw_x_needs_thousands_of_epochs_and_standardized_x_tens() -> None:
    raw = Run(Settings(data="scaled"))
    curvature = curvature_of(raw.surface)
    assert curvature.condition_number > 1000
    # even at its best fixed lr, plain GD on raw x crawls along the valley
    best = predicted_epochs(raw.surface, curvature.best_lr, (0.0, 0.0))
    assert best is not None and best > 1000
    lr = 0.9 * curvature.stable_lr
    predicted = predicted_epochs(raw.surface, lr, (0.0, 0.0))
    x_train, y_train = scaled_data()
    actual = first_epoch_at_minimum(x_train, y_train, raw.surface.optimum.cost, lr, 2 * predicted)
    # within 5%: in a valley with κ above 1000 the float32 run's rounding at each step is not
    # small beside its progress along the floor (about 3% here), the prediction is exact arithmetic
    assert predicted > 1000 and actual is not None and abs(actual - predicted) <= 0.05 * predicted
    scaled = Run(Settings(data="scaled", standardize=True, learning_rate=0.5))
    assert curvature_of(scaled.surface).condition_number < 1.1
    fast = predicted_epochs(scaled.surface, 0.5, (0.0, 0.0))
    actual_fast = first_epoch_at_minimum(
        standardize(x_train)[0], y_train, scaled.surface.optimum.cost, 0.5, 100
    )
    assert fast is not None and fast < 50 and actual_fast is not None and abs(actual_fast - fast) <= 2
    # both minimise the same cost: the same least-squares line and the same lowest cost
    assert scaled.surface.optimum.cost == pytest.approx(raw.surface.optimum.cost, rel=1e-5)


def test_x_without_spread_cannot_be_standardized() -> None:
    dataset = from_tensors("same", torch.tensor([2.0, 2.0]), torch.tensor([1.0, 3.0]))
    with pytest.raises(DataError, match="cannot standardize"):
        standardized(dataset)


def test_the_cli_refuses_to_standardize_x_without_spread(capsys, tmp_path) -> None:
    path = tmp_path / "same.csv"
    path.write_text("x,y\n2,1\n2,3\n")
    code, out, err = invoke(capsys, "--data", str(path), "--standardize")
    assert code == 2 and out == "" and "cannot standardize x" in err and err.count("\n") == 1
