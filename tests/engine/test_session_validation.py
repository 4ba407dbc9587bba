"""Session files that used to get through the loader and then crash: every field's type, range and
shape is checked, the optimizer state must be the one torch makes for the settings, and the
session must agree with itself. Each is refused with one SessionError line naming the field."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from cli_support import invoke_main
from pipe_support import pipe_with_a_writer

from lrtui.engine import Settings, Simulation
from lrtui.engine.history import History
from lrtui.engine.run import Run
from lrtui.engine.session import SessionError, load_session, save_session, session_dict, session_from_dict

MOMENTUM = Settings(momentum=0.9)
ADAM = Settings(optimizer="adam", learning_rate=0.1)
ADAGRAD = Settings(optimizer="adagrad", learning_rate=0.1)


def pair(run: Run) -> tuple[Simulation, History]:
    """A loaded run as the simulation and the history it holds."""
    return run.simulation, run.history


def saved(settings: Settings, epochs: int = 4) -> dict[str, Any]:
    simulation = Simulation(settings)
    history = History()
    history.extend(simulation.run(epochs))
    return session_dict(Run(simulation.settings, simulation=simulation, history=history))


def refused(path: Path) -> str:
    with pytest.raises(SessionError) as error:
        load_session(path)
    message = str(error.value)
    assert "\n" not in message and len(message) < 400, message
    return message


def write(tmp_path: Path, document: dict[str, Any]) -> Path:
    path = tmp_path / "s.json"
    path.write_text(json.dumps(document))
    return path


def state(document: dict[str, Any], index: int = 0) -> dict[str, Any]:
    return document["optimizer"]["state"][str(index)]


def tensor(values: list[Any], shape: list[Any], dtype: Any = "float32") -> dict[str, Any]:
    return {"dtype": dtype, "shape": shape, "values": values}


Change = Callable[[dict[str, Any]], None]
CASES: list[tuple[str, Settings, Change, str]] = [
    (
        "400-digit learning rate",
        Settings(),
        lambda d: d["settings"].update(learning_rate=10**400),
        "settings learning_rate: 401-digit number",
    ),
    (
        "400-digit initial W",
        Settings(),
        lambda d: d["settings"].update(init_w=-(10**400)),
        "settings init_w: 401-digit number",
    ),
    (
        "400-digit tensor value",
        Settings(),
        lambda d: d["parameters"][0].update(values=[10**400]),
        "parameter 0 (W): 401-digit number",
    ),
    (
        "a value past float32",
        Settings(),
        lambda d: d["parameters"][1].update(values=[1e39]),
        "parameter 1 (b): a value is beyond float32",
    ),
    (
        "list as dtype",
        Settings(),
        lambda d: d["parameters"][0].update(dtype=["float32"]),
        "unsupported dtype",
    ),
    (
        "float64 parameter",
        Settings(),
        lambda d: d["parameters"][0].update(dtype="float64"),
        "parameter 0 (W): a float64 tensor",
    ),
    ("bool in a shape", Settings(), lambda d: d["parameters"][0].update(shape=[True]), "bad shape"),
    (
        "gradient of the wrong shape",
        Settings(),
        lambda d: d["grads"].__setitem__(0, tensor([1.0, 2.0], [2])),
        "gradient 0: a float32 tensor of shape [2], expected float32 of shape [1]",
    ),
    (
        "history epoch past int64",
        Settings(),
        lambda d: d["history"]["epoch"].__setitem__(0, 2**63),
        "history epoch 0",
    ),
    (
        "history epochs out of order",
        Settings(),
        lambda d: d["history"]["epoch"].__setitem__(1, 0),
        "history epoch 1: 0 does not come after 0",
    ),
    (
        "history ending before the epoch",
        Settings(),
        lambda d: d.update(epoch=7),
        "history does not end at the session's epoch",
    ),
    (
        "empty history at epoch 4",
        Settings(),
        lambda d: d["history"].update(epoch=[], **{n: [] for n in COLUMNS}),
        "empty",
    ),
    ("epoch as text", Settings(), lambda d: d.update(epoch="4"), "epoch: expected a whole number"),
    (
        "diverged at epoch -7",
        Settings(),
        lambda d: d.update(diverged_at=-7),
        "diverged_at: must not be negative",
    ),
    ("diverged beyond the epoch", Settings(), lambda d: d.update(diverged_at=10), "diverged_at: a run stops"),
    ("diverged with finite numbers", Settings(), lambda d: d.update(diverged_at=3), "numbers are finite"),
    (
        "a non-finite epoch that did not stop the run",
        Settings(),
        lambda d: d["history"]["cost"].__setitem__(1, "inf"),
        "history epoch 1 is not finite, yet the run went on",
    ),
    (
        "W not where the last step left it",
        Settings(),
        lambda d: d["parameters"][0].update(values=[0.5]),
        "parameter 0 (W) is 0.5, but the history's last step left it",
    ),
    (
        "Adam state without exp_avg",
        ADAM,
        lambda d: state(d).pop("exp_avg"),
        "optimizer state of parameter 0: Adam keeps exp_avg, exp_avg_sq, step, the file has exp_avg_sq, step",
    ),
    (
        "Adam state for one parameter only",
        ADAM,
        lambda d: d["optimizer"]["state"].pop("1"),
        "Adam keeps state for parameters [0, 1], the file has [0]",
    ),
    (
        "an unknown state entry",
        ADAM,
        lambda d: state(d).update(extra=1.0),
        "Adam keeps exp_avg, exp_avg_sq, step,",
    ),
    (
        "a negative Adam step",
        ADAM,
        lambda d: state(d)["step"].update(values=[-3.0]),
        "optimizer state step of parameter 0: -3 is not a step count",
    ),
    (
        "an Adam step beyond the epoch",
        ADAM,
        lambda d: state(d)["step"].update(values=[100.0]),
        "optimizer state step of parameter 0: 100 is not a step count",
    ),
    (
        "an Adam step of inf",
        ADAM,
        lambda d: state(d)["step"].update(values=["inf"]),
        "optimizer state step of parameter 0: inf is not a step count",
    ),
    (
        "an RMSprop step of nan",
        Settings(optimizer="rmsprop"),
        lambda d: state(d, 1)["step"].update(values=["nan"]),
        "optimizer state step of parameter 1: nan is not a step count",
    ),
    (
        "a learning rate past float32, as a whole number",
        Settings(),
        lambda d: d["settings"].update(learning_rate=10**39),
        "learning rate must fit in float32",
    ),
    (
        "a fractional Adam step",
        ADAM,
        lambda d: state(d)["step"].update(values=[2.5]),
        "2.5 is not a step count",
    ),
    (
        "a negative sum of squares",
        ADAM,
        lambda d: state(d, 1)["exp_avg_sq"].update(values=[-1.0]),
        "optimizer state exp_avg_sq of parameter 1: a sum of squares cannot be negative",
    ),
    (
        "a float momentum buffer",
        MOMENTUM,
        lambda d: state(d).update(momentum_buffer=0.5),
        "optimizer state momentum_buffer of parameter 0: expected a float32 tensor of shape [1], got a number",
    ),
    (
        "a mis-shaped momentum buffer",
        MOMENTUM,
        lambda d: state(d).update(momentum_buffer=tensor([0.0, 0.0], [2])),
        "momentum_buffer of parameter 0: expected a float32 tensor of shape [1], got a float32 tensor of shape [2]",
    ),
    (
        "Adagrad without its state",
        ADAGRAD,
        lambda d: d["optimizer"].update(state={}),
        "Adagrad keeps state for parameters [0, 1], the file has none",
    ),
    (
        "momentum state for plain SGD",
        Settings(),
        lambda d: d["optimizer"].update(state={"0": {"momentum_buffer": tensor([0.0], [1])}}),
        "SGD keeps state for parameters none, the file has [0]",
    ),
]
COLUMNS = (
    "w",
    "b",
    "cost",
    "grad_w",
    "grad_b",
    "w_next",
    "b_next",
    "fresh_grad_w",
    "fresh_grad_b",
    "learning_rate",
)


@pytest.mark.parametrize(
    ("settings", "change", "why"), [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
def test_a_bad_field_is_refused_naming_it(
    tmp_path: Path, settings: Settings, change: Change, why: str
) -> None:
    document = saved(settings)
    change(document)
    assert why in refused(write(tmp_path, document))


def test_json_nested_100000_deep_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text(
        '{"format": "lrtui-session", "version": 1, "settings": ' + "[" * 100_000 + "]" * 100_000 + "}"
    )
    assert "nested too deeply" in refused(path)


def test_an_integer_of_5000_digits_is_refused(tmp_path: Path) -> None:
    text = json.dumps(saved(Settings())).replace('"seed": 1', '"seed": ' + "9" * 5000)
    path = tmp_path / "s.json"
    path.write_text(text)
    assert "a number with thousands of digits" in refused(path)


def test_a_bad_session_is_refused_in_the_app_naming_the_flag_and_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app paints before torch is imported, so the session is read (and refused) in it."""
    from lrtui.app.app import LrtuiApp
    from lrtui.app.opening import open_race

    document = saved(MOMENTUM)
    state(document).update(momentum_buffer=0.5)
    path = write(tmp_path, document)
    started: list[LrtuiApp] = []
    monkeypatch.setattr(LrtuiApp, "run", lambda app: started.append(app))
    assert invoke_main(capsys, "--load", str(path)) == (0, "", "")
    (app,) = started
    assert app.opening is not None
    opened = open_race(app.opening)
    (problem,) = opened.problems
    assert problem.flag == "--load" and "momentum_buffer" in problem.message and opened.session_path is None
    assert opened.race.leader.settings == Settings()


def test_a_session_over_the_size_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    from lrtui.engine.session_json import MAX_BYTES

    path = tmp_path / "big.json"
    with path.open("wb") as file:  # sparse: no disk used, and a read would take seconds
        file.write(b'{"format": "lrtui-session", ')
        file.truncate(MAX_BYTES + 1)
    assert f"{MAX_BYTES + 1:,} bytes, over lrtui's limit of 64 MB for a session file" in refused(path)


def test_the_longest_history_lrtui_keeps_saves_under_the_size_limit(tmp_path: Path) -> None:
    """The limit refuses nothing lrtui writes: a full history (2**17 records) of numbers at full length."""
    from lrtui.engine.history import MAX_RECORDS
    from lrtui.engine.session_json import MAX_BYTES

    document = saved(Settings(optimizer="adam", epochs=10**9, batch_size=1), epochs=1)
    long = 1.2345678901234567e-30  # the longest repr a float has
    history = document["history"]
    for name, column in history.items():
        if isinstance(column, list):
            column[:] = [10**8 + i if name == "epoch" else long for i in range(MAX_RECORDS)]
    document["loop"]["history_batch"] = [1] * MAX_RECORDS
    assert len(json.dumps(document)) < MAX_BYTES * 0.6


@pytest.mark.parametrize(
    ("name", "value"), [("learning_rate", 10**19), ("init_w", -(10**19)), ("init_b", 2**64)]
)
def test_whole_numbers_in_the_settings_are_read_as_their_flag_reads_them(
    tmp_path: Path, name: str, value: int
) -> None:
    """They used to reach torch as Python ints and overflow there (can't convert negative int to
    unsigned); now each is the float its flag gives, and the run steps on as with that float."""
    as_int, as_float = saved(Settings()), saved(Settings())
    as_int["settings"][name] = value
    as_float["settings"][name] = float(value)
    loaded = load_session(write(tmp_path, as_int))
    assert getattr(loaded.settings, name) == float(value) and isinstance(
        getattr(loaded.settings, name), float
    )
    twin = session_from_dict(as_float)
    assert repr(loaded.simulation.run(3)) == repr(twin.simulation.run(3))
    started_again = Simulation(loaded.settings).run(2)  # the initial W and b are used from here (r)
    assert repr(started_again) == repr(Simulation(twin.settings).run(2))


def test_a_data_name_too_long_for_the_file_system_is_a_refusal(tmp_path: Path) -> None:
    """Looking for the data beside the session raised ENAMETOOLONG, which the app did not catch."""
    document = saved(Settings())
    document["settings"]["data"] = "x" * 300 + ".csv"
    with pytest.raises(SessionError, match="the session's data cannot be loaded: x+.csv: no such file"):
        load_session(write(tmp_path, document))


def test_any_error_while_torch_rebuilds_the_run_is_a_refusal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import lrtui.engine.session as session

    def overflowing(*args: object) -> None:
        raise OverflowError("cannot convert float infinity to integer")

    monkeypatch.setattr(session, "restore_loop", overflowing)
    message = refused(write(tmp_path, saved(Settings())))
    assert "the run cannot be rebuilt from it (OverflowError: cannot convert float infinity" in message


def test_the_app_opens_a_fresh_run_for_a_session_that_used_to_crash_it(tmp_path: Path) -> None:
    """opening.py catches SessionError only: a NaN step count was a ValueError that went past it."""
    from lrtui.app.opening import Opening, open_race

    document = saved(ADAM)
    state(document)["step"].update(values=["nan"])
    opened = open_race(Opening(session_path=str(write(tmp_path, document))))
    (problem,) = opened.problems
    assert problem.flag == "--load" and "nan is not a step count" in problem.message
    assert opened.race.leader.settings == Settings() and opened.session_path is None


# ------------------------------------------------------------- good sessions still load
@pytest.mark.parametrize(
    "settings",
    [
        Settings(optimizer="adam", learning_rate=1e30),  # Adam's step overflows float32: NaN w_next
        Settings(learning_rate=1.0),  # diverges to inf
        Settings(optimizer="adagrad"),  # Adagrad has state before its first step
        Settings(optimizer="rmsprop", momentum=0.5, model="linear"),
    ],
)
@pytest.mark.parametrize("epochs", [0, 1, 40])
def test_sessions_lrtui_writes_load_and_step_on_as_plain_torch(
    tmp_path: Path, settings: Settings, epochs: int
) -> None:
    simulation = Simulation(settings)
    history = History()
    history.extend(simulation.run(epochs))
    save_session(tmp_path / "s.json", Run(simulation.settings, simulation=simulation, history=history))
    loaded, loaded_history = pair(load_session(tmp_path / "s.json"))
    assert repr(list(loaded_history)) == repr(list(history))  # repr: NaN equals NaN
    assert loaded.diverged_at == simulation.diverged_at
    assert loaded.epoch == simulation.epoch
    if not simulation.diverged:
        assert repr(loaded.run(5)) == repr(simulation.run(5))


def test_a_session_saved_after_switching_optimizer_loads(tmp_path: Path) -> None:
    """The app's `o` key makes a fresh optimizer mid-run: its state is empty while the epoch is not."""
    simulation = Simulation(Settings(momentum=0.9))
    history = History()
    history.extend(simulation.run(6))
    simulation.apply(simulation.settings.changing(optimizer="adam"))
    save_session(tmp_path / "s.json", Run(simulation.settings, simulation=simulation, history=history))
    loaded, _ = pair(load_session(tmp_path / "s.json"))
    history.extend(simulation.run(3))
    assert loaded.run(3) == list(history)[-3:]
    assert loaded.optimizer.state_dict()["state"][0]["step"] == torch.tensor(3.0)


# ------------------------------------------------------------------------ the data's path
def test_a_csv_session_loads_from_another_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "work").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "work" / "points.csv").write_text("x,y\n1,2\n2,4\n3,7\n")
    monkeypatch.chdir(tmp_path / "work")
    simulation = Simulation(Settings(data="points.csv"))
    history = History()
    history.extend(simulation.run(5))
    save_session("s.json", Run(simulation.settings, simulation=simulation, history=history))
    assert json.loads(Path("s.json").read_text())["settings"]["data"] == str(tmp_path / "work" / "points.csv")
    monkeypatch.chdir(tmp_path / "elsewhere")
    loaded, loaded_history = pair(load_session("../work/s.json"))
    assert list(loaded_history) == list(history) and loaded.run(3) == simulation.run(3)


def test_an_older_session_with_a_relative_path_finds_its_csv_beside_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "points.csv").write_text("x,y\n1,2\n2,4\n3,7\n")
    monkeypatch.chdir(tmp_path / "work")
    simulation = Simulation(Settings(data="points.csv"))
    history = History()
    history.extend(simulation.run(5))
    document = session_dict(Run(simulation.settings, simulation=simulation, history=history))
    document["settings"]["data"] = "points.csv"  # as sessions were written before
    write(tmp_path / "work", document)
    monkeypatch.chdir(tmp_path)
    loaded, _ = pair(load_session("work/s.json"))
    assert loaded.run(3) == simulation.run(3)


# ---------------------------------------------------------------------- not a file at all
def test_a_named_pipe_as_session_is_refused_without_waiting(tmp_path: Path) -> None:
    """A writer stands by: if the loader opened the pipe it would get a line of junk rather than hang."""
    with pipe_with_a_writer(tmp_path / "pipe.json", b"junk\n") as pipe:
        assert "not a regular file" in refused(pipe)


async def test_the_app_refuses_a_bad_session_and_keeps_its_run(tmp_path: Path) -> None:
    from app_support import files_read, make_app
    from textual.widgets import Input

    momentum = saved(MOMENTUM)
    state(momentum).update(momentum_buffer=0.5)  # used to crash the chart's peek at the next frame
    adam = saved(ADAM)
    state(adam)["step"].update(values=["inf"])  # an OverflowError, which ctrl+o did not catch
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("N")
        for number, (document, why) in enumerate(
            [(momentum, "momentum_buffer"), (adam, "inf is not a step count")]
        ):
            (tmp_path / str(number)).mkdir()
            await pilot.press("ctrl+o")
            app.screen.query_one("#prompt-path", Input).value = str(write(tmp_path / str(number), document))
            await pilot.press("enter")
            await files_read(pilot)
            notes = [n for n in app._notifications if n.title == "Session not loaded"]
            assert notes and why in notes[-1].message
        await pilot.press("n")
        assert app.leader.epoch == 11 and app.leader.settings == Settings()
        huge = saved(Settings())
        huge["settings"]["learning_rate"] = 10**19  # crashed the chart's peek as a Python int
        (tmp_path / "huge").mkdir()
        await pilot.press("ctrl+o")
        app.screen.query_one("#prompt-path", Input).value = str(write(tmp_path / "huge", huge))
        await pilot.press("enter")
        await files_read(pilot)
        assert app.leader.settings.learning_rate == 1e19 and app.leader.epoch == 4
        await pilot.press("n", "n")
        assert app.leader.diverged  # as `--lr 1e19` does
