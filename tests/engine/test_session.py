"""Sessions: exact round trips, atomic writes, and files that are refused with a reason."""

from __future__ import annotations

import json

import pytest

from lrtui.engine import Settings
from lrtui.engine.run import Run
from lrtui.engine.session import FORMAT, VERSION, SessionError, load_session, save_session, session_dict


def run_for(settings: Settings, epochs: int) -> Run:
    run = Run(settings)
    run.run_to(epochs)
    return run


@pytest.mark.parametrize(
    "settings",
    [
        Settings(),
        Settings(optimizer="adam", learning_rate=0.1, zero_grad=False),
        Settings(model="linear", momentum=0.9, nesterov=True, data="noisy"),
        Settings(optimizer="rmsprop", momentum=0.5, bias=False),
        Settings(optimizer="adagrad", loss_reduction="sum", learning_rate=0.05),
    ],
)
def test_a_loaded_session_steps_on_bit_for_bit(tmp_path, settings: Settings) -> None:
    run = run_for(settings, 9)
    path = tmp_path / "run.json"
    save_session(path, run)
    loaded = load_session(path)
    assert loaded.settings == settings and loaded.epoch == 9
    assert list(loaded.history) == list(run.history)
    assert loaded.last == run.last
    assert [loaded.step() for _ in range(25)] == [run.step() for _ in range(25)]


def test_undo_after_loading_goes_back_to_the_loaded_epoch_exactly(tmp_path) -> None:
    run = run_for(Settings(optimizer="adam", learning_rate=0.1), 9)
    save_session(tmp_path / "run.json", run)
    loaded = load_session(tmp_path / "run.json")
    forward = [loaded.step() for _ in range(5)]
    assert loaded.undo() and loaded.epoch == 13 and len(loaded.history) == 13
    while loaded.undo():
        pass
    assert loaded.epoch == 9 == loaded.first_epoch and list(loaded.history) == list(run.history)
    assert [loaded.step() for _ in range(5)] == forward


def test_a_diverged_session_stays_diverged(tmp_path) -> None:
    run = run_for(Settings(learning_rate=1.0), 40)
    save_session(tmp_path / "d.json", run)
    loaded = load_session(tmp_path / "d.json")
    assert loaded.diverged_at == 19 and list(loaded.history) == list(run.history)


def test_the_file_is_plain_json_with_format_and_version(tmp_path) -> None:
    run = run_for(Settings(learning_rate=1.0), 40)
    save_session(tmp_path / "s.json", run)
    document = json.loads((tmp_path / "s.json").read_text())  # strict JSON: no NaN tokens
    assert document["format"] == FORMAT and document["version"] == VERSION


def test_a_failed_write_leaves_the_previous_file_intact(tmp_path, monkeypatch) -> None:
    path = tmp_path / "s.json"
    run = run_for(Settings(), 3)
    save_session(path, run)
    before = path.read_text()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("os.replace", crash)
    run.run_to(8)
    with pytest.raises(OSError):
        save_session(path, run)
    assert path.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["s.json"]


def corrupt(document: dict, change) -> dict:
    change(document)
    return document


@pytest.mark.parametrize(
    ("mutate", "why"),
    [
        (lambda d: d.update(version=VERSION + 1), "newer lrtui"),
        (lambda d: d.update(format="other"), "not an lrtui session"),
        (lambda d: d.pop("version"), "no version"),
        (lambda d: d["settings"].update(learning_rate=-1), "learning rate must be a positive"),
        (lambda d: d["settings"].update(colour="red"), "unknown setting"),
        (lambda d: d["settings"].update(data="missing.csv"), "cannot be loaded"),
        (lambda d: d["parameters"][0].update(values=[1, 2]), "values for shape"),
        (lambda d: d["parameters"].pop(), "do not match the settings"),
        (lambda d: d["history"]["w"].pop(), "wrong length"),
        (lambda d: d["history"]["cost"].__setitem__(0, "__import__('os')"), "expected a number"),
        (lambda d: d.update(epoch=-4), "negative"),
    ],
)
def test_bad_sessions_are_refused_with_a_reason(tmp_path, mutate, why: str) -> None:
    run = run_for(Settings(), 4)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(corrupt(session_dict(run), mutate)))
    with pytest.raises(SessionError, match=why):
        load_session(path)


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"", "corrupt or truncated"),
        (b'{"format": "lrtui-session", "version": 1, "sett', "corrupt or truncated"),
        (b"\xff\xfe\x00", "not UTF-8"),
        (b"[1, 2, 3]", "not an lrtui session"),
    ],
)
def test_corrupt_or_truncated_files_are_refused(tmp_path, content: bytes, why: str) -> None:
    path = tmp_path / "s.json"
    path.write_bytes(content)
    with pytest.raises(SessionError, match=why):
        load_session(path)


def test_missing_file_and_directory(tmp_path) -> None:
    with pytest.raises(SessionError, match="no such file"):
        load_session(tmp_path / "nope.json")
    with pytest.raises(SessionError, match="is a directory"):
        load_session(tmp_path)


def test_loading_never_evaluates_code(tmp_path) -> None:
    run = run_for(Settings(), 2)
    document = session_dict(run)
    document["settings"]["data"] = "__import__('os').system('touch pwned')"
    path = tmp_path / "s.json"
    path.write_text(json.dumps(document))
    with pytest.raises(SessionError):
        load_session(path)
    assert not (tmp_path / "pwned").exists()
