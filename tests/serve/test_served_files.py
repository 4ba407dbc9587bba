"""A served learner's files: saves go to the browser as downloads, loads come only from the
teacher's data folder (``lrtui serve --data-dir``), and no message quotes a file. Files are read
off the UI thread, in the learner's own terminal too.

The path policy is tested on ``DataFolder`` itself; the app with Pilot, its ``deliver_text``
replaced by one that keeps what it was given.
"""

from __future__ import annotations

import io
import json
import os
import threading
from pathlib import Path

import pytest
from app_support import files_read, logged, make_app, shown_text
from cli_support import invoke_main
from textual.widgets import Input

import lrtui.engine.data
from lrtui.engine import Settings
from lrtui.engine.data import DataError, load
from lrtui.engine.data_folder import NO_FOLDER, DataFolder, FileRefused, served_folder
from lrtui.engine.report import write_history_csv
from lrtui.engine.run import Run
from lrtui.engine.script import script_for
from lrtui.engine.session import SessionError, load_session, read_session, save_session, session_dict
from lrtui.engine.settings import PRESETS

SIZE = (120, 40)
SECRET = "s3cret-Passw0rd"
POINTS = "x,y\n1,2\n2,4\n3,6\n"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """The teacher's data folder, beside a folder of files learners must not read."""
    shared = tmp_path / "class"
    shared.mkdir()
    (shared / "points.csv").write_text(POINTS)
    private = tmp_path / "private"
    private.mkdir()
    (private / "secret.csv").write_text(f"{SECRET},y\n1,2\n")
    return shared


# ------------------------------------------------------------------ the path policy
def test_a_name_is_taken_from_the_folder_and_its_real_path_given(folder: Path) -> None:
    shared = DataFolder.shared(folder)
    assert shared.readable("points.csv") == str(folder.resolve() / "points.csv")
    assert shared.readable(str(folder / "points.csv")) == str(folder.resolve() / "points.csv")
    (folder / "week2").mkdir()
    (folder / "week2" / "more.csv").write_text(POINTS)
    assert shared.readable("week2/../week2/more.csv") == str(folder.resolve() / "week2" / "more.csv")


@pytest.mark.parametrize(
    "typed",
    ["../private/secret.csv", "{private}/secret.csv", "/etc/passwd", "week2/../../private/secret.csv", "/"],
)
def test_a_path_out_of_the_folder_is_refused_naming_only_what_was_typed(folder: Path, typed: str) -> None:
    typed = typed.format(private=folder.parent / "private")
    with pytest.raises(FileRefused) as refused:
        DataFolder.shared(folder).readable(typed)
    message = str(refused.value)
    assert message == f"{typed}: not in the class's data folder; it holds points.csv"
    assert SECRET not in message


def test_a_symlink_out_of_the_folder_is_refused_and_one_inside_is_followed(folder: Path) -> None:
    (folder / "looks-fine.csv").symlink_to(folder.parent / "private" / "secret.csv")
    (folder / "private-link").symlink_to(folder.parent / "private")
    (folder / "again.csv").symlink_to("points.csv")
    shared = DataFolder.shared(folder)
    for typed in ("looks-fine.csv", "private-link/secret.csv"):
        with pytest.raises(FileRefused, match="not in the class's data folder"):
            shared.readable(typed)
    assert shared.readable("again.csv") == str(folder.resolve() / "points.csv")


def test_a_hard_link_to_a_file_outside_the_folder_is_refused_and_left_out_of_listings(folder: Path) -> None:
    """A hard link is the file itself, wherever its other names are: realpath cannot tell."""
    os.link(folder.parent / "private" / "secret.csv", folder / "hard.csv")
    (folder / "looks-fine.csv").symlink_to(folder.parent / "private" / "secret.csv")
    (folder / "again.csv").symlink_to("points.csv")
    shared = DataFolder.shared(folder)
    assert shared.refusal("hard.csv") == (
        "hard.csv: has 2 hard links, and lrtui reads only files with one from the class's data folder"
        " (another link may lie outside it); it holds again.csv, points.csv"
    )
    assert shared.refusal("nothing.csv") == (
        "nothing.csv: no such file in the class's data folder; it holds again.csv, points.csv"
    )  # the links that are refused are not offered
    assert shared.readable("again.csv") == str(folder.resolve() / "points.csv")


@pytest.mark.parametrize(
    ("size", "said"),
    [
        (100 * 2**20 + 420_000, "100.4 MB is over lrtui's limit of 100 MB"),
        (100 * 2**20 + 1, "104,857,601 bytes is over lrtui's limit of 100 MB"),
        (100 * 2**20 + 2**20 // 25, "104,899,543 bytes is over lrtui's limit of 100 MB"),  # 100.04 MB
        (250 * 2**20, "250 MB is over lrtui's limit of 100 MB"),
    ],
)
def test_a_file_over_the_size_limit_is_told_its_real_size(size: int, said: str) -> None:
    """It read "100 MB is over lrtui's limit of 100 MB"."""
    assert lrtui.engine.data.over_limit(size, 100 * 2**20) == said


def test_a_refusal_does_not_tell_whether_a_file_out_of_the_folder_exists(folder: Path) -> None:
    shared = DataFolder.shared(folder)
    there, missing = shared.refusal("../private/secret.csv"), shared.refusal("../private/nothing.csv")
    assert there is not None and missing is not None
    assert there.removeprefix("../private/secret.csv") == missing.removeprefix("../private/nothing.csv")


def test_inside_the_folder_a_missing_file_or_misspelt_data_set_says_what_there_is(folder: Path) -> None:
    shared = DataFolder.shared(folder)
    assert shared.refusal("point.csv") == (
        "point.csv: no such file in the class's data folder; it holds points.csv"
    )
    assert shared.refusal("nosiy") == (
        f"unknown dataset 'nosiy': use one of {', '.join(PRESETS)} or a file in the class's data folder;"
        " it holds points.csv"
    )


def test_without_a_folder_no_file_may_be_read_but_the_teachers_own_data_may(folder: Path) -> None:
    off = DataFolder.shared(None, ["teacher.csv"])
    with pytest.raises(FileRefused) as refused:
        off.readable(str(folder / "points.csv"))
    assert str(refused.value) == f"{folder / 'points.csv'}: {NO_FOLDER}"
    assert off.readable("teacher.csv") == "teacher.csv"


def test_only_a_served_app_has_a_folder(folder: Path) -> None:
    assert served_folder(False, None, "points.csv") is None
    assert served_folder(True, None, "noisy") == DataFolder(None)
    assert served_folder(False, str(folder), "own.csv") == DataFolder(
        str(folder.resolve()), frozenset({"own.csv"})
    )


# ------------------------------------------------------------ messages that quote nothing
def test_a_served_apps_csv_messages_name_line_and_column_but_quote_nothing(tmp_path: Path) -> None:
    header = tmp_path / "header.csv"
    header.write_text(f"{SECRET}\n1,2\n")
    cell = tmp_path / "cell.csv"
    cell.write_text(f"x,y\n1,2\n3,{SECRET}\n")
    with pytest.raises(DataError) as quoted:
        load(str(header))
    assert SECRET in str(quoted.value)  # in the learner's own terminal: their own file, quoted
    with pytest.raises(DataError) as unquoted:
        load(str(header), quote=False)
    assert str(unquoted.value) == f"{header} line 1: the header must name the target column y, as in x,y"
    with pytest.raises(DataError) as unquoted:
        load(str(cell), quote=False)
    assert str(unquoted.value) == f"{cell} line 3, column 2: the value is not a number"


def test_a_session_in_the_folder_may_not_bring_data_from_outside(folder: Path) -> None:
    outside = folder.parent / "private" / "points.csv"
    outside.write_text(POINTS)
    save_session(folder / "s.json", Run(Settings(data=str(outside))))
    shared = DataFolder.shared(folder)
    with pytest.raises(SessionError) as refused:
        read_session(folder / "s.json", shared.readable, quote=False)
    assert "the session's data cannot be loaded" in str(refused.value)
    assert "not in the class's data folder" in str(refused.value)
    load_session(folder / "s.json")  # in the learner's own terminal the same file loads


# ------------------------------------------------------------------ the served app
class Deliveries:
    """Stands in for ``App.deliver_text``: what would have gone to the browser."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def __call__(self, path_or_file: io.StringIO, *, save_filename: str | None = None, **_: object) -> str:
        assert save_filename is not None
        self.sent.append((save_filename, path_or_file.read()))
        return f"key-{len(self.sent)}"


def served_app(folder: Path | None, settings: Settings | None = None):
    app = make_app(settings, data_folder=DataFolder.shared(folder))
    app.deliver_text = Deliveries()  # type: ignore[method-assign]
    return app


async def answer(pilot, text: str | None = None) -> None:
    if text is not None:
        pilot.app.screen.query_one("#prompt-path", Input).value = text
    await pilot.press("enter")
    await files_read(pilot)


def no_files_written(where: Path) -> bool:
    return not any(where.iterdir())


def notes(app, title: str) -> list[str]:
    return [note.message for note in app._notifications if note.title == title]


@pytest.mark.parametrize(
    ("key", "name", "what"),
    [
        ("ctrl+s", "lrtui-session.json", "the session after epoch 9 (next epoch 10)"),
        ("e", "lrtui-history.csv", "the history (10 epochs) as CSV"),
        ("x", "lrtui_train.py", "the PyTorch script for these settings"),
    ],
)
async def test_served_saves_and_exports_are_downloads_of_what_a_save_would_write(
    tmp_path: Path, folder: Path, key: str, name: str, what: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    cwd = tmp_path / "server-folder"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    app = served_app(folder, Settings(optimizer="adam", learning_rate=0.1))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("N", key)
        assert "a download in your browser" in shown_text(app.screen.query_one("#prompt-where"))
        await answer(pilot)
        ((sent_name, text),) = app.deliver_text.sent
        assert sent_name == name
        assert f"sent {what} to your browser as the download {name}" in logged(app)
        leader = app.leader
        if key == "ctrl+s":
            assert json.loads(text) == json.loads(json.dumps(session_dict(leader)))
        elif key == "e":
            expected = io.StringIO()
            write_history_csv(expected, leader.history)
            assert text == expected.getvalue() and text.count("\n") == 11
        else:
            assert text == script_for(leader.settings, leader.dataset)
    assert no_files_written(cwd) and sorted(p.name for p in folder.iterdir()) == ["points.csv"]


async def test_a_download_is_named_by_its_last_part_in_safe_letters(tmp_path: Path, folder: Path) -> None:
    app = served_app(folder)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+s")
        await answer(pilot, "/etc/cron.d/my run;\r\nX-Evil: 1.json")
        await pilot.press("S")
        await pilot.pause()
    names = [name for name, _ in app.deliver_text.sent]
    assert names == ["my_run_X-Evil_1.json", "lrtui-epoch-0.svg"]
    assert app.deliver_text.sent[1][1].startswith("<svg")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["class", "private"]  # nothing written here


async def test_the_data_field_reads_only_from_the_folder_and_quotes_nothing(folder: Path) -> None:
    (folder / "bad.csv").write_text(f"x,y\n1,{SECRET}\n")
    app = served_app(folder)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("N")
        for typed, why in [
            ("../private/secret.csv", "not in the class's data folder"),
            ("/etc/passwd", "not in the class's data folder"),
            ("bad.csv", "line 2, column 2: the value is not a number"),
        ]:
            await type_data(pilot, typed)
            reason = shown_text(app.query_one("#reason-data"))
            assert (
                why in reason
                and SECRET not in reason
                and SECRET not in "".join(notes(app, "data not changed"))
            )
            assert app.leader.epoch == 10 and app.leader.settings.data == "line"
        await type_data(pilot, "points.csv")
        assert app.leader.settings.data == str(folder.resolve() / "points.csv")
        assert app.leader.dataset.size == 3 and app.leader.epoch == 0


async def test_with_no_folder_a_served_app_loads_no_file_but_the_data_sets(folder: Path) -> None:
    app = served_app(None)
    async with app.run_test(size=SIZE) as pilot:
        await type_data(pilot, str(folder / "points.csv"))
        assert NO_FOLDER in shown_text(app.query_one("#reason-data")) and app.leader.settings.data == "line"
        await type_data(pilot, "noisy")
        assert app.leader.settings.data == "noisy" and app.leader.dataset.size == 100
        await pilot.press("escape", "ctrl+o")
        await pilot.pause()
        assert notes(app, "Session not loaded") == [NO_FOLDER] and app.screen is app.screen_stack[0]


async def test_a_served_app_loads_a_session_from_the_folder_only(folder: Path) -> None:
    good = Run(Settings(data=str(folder / "points.csv"), learning_rate=0.05))
    good.run_to(7)
    save_session(folder / "week1.json", good)
    save_session(folder.parent / "private" / "theirs.json", good)
    app = served_app(folder)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("N", "ctrl+o")
        await answer(pilot, "../private/theirs.json")
        error = shown_text(app.screen.query_one("#prompt-error"))
        assert "not in the class's data folder" in error and app.leader.epoch == 10  # the prompt stays open
        await answer(pilot, "week1.json")
        assert app.leader.epoch == 7 and app.leader.settings.learning_rate == 0.05
        assert "loaded week1.json: 7 epochs of history" in logged(app)


async def type_data(pilot, text: str) -> None:
    field = pilot.app.query_one("#field-data", Input)
    field.focus()
    field.value = text
    await pilot.press("enter")
    await files_read(pilot)


# ------------------------------------------------------------------ off the UI thread
async def start_reading(pilot, reader: SlowReader, text: str) -> Input:
    """Type a file into the data field, leave the field, and wait until its read has begun."""
    field = pilot.app.query_one("#field-data", Input)
    field.focus()
    field.value = text
    await pilot.press("enter", "escape")
    assert reader.started.wait(120)
    return field


class SlowReader:
    """``data.load`` that waits for the test to let it go (bounded, so a failing test ends)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.started = threading.Event()
        self.go = threading.Event()
        self.real = lrtui.engine.data.load
        monkeypatch.setattr(lrtui.engine.data, "load", self)

    def __call__(self, data: str, *, quote: bool = True):
        if data in PRESETS:  # read at once, on the UI thread
            return self.real(data, quote=quote)
        self.started.set()
        assert self.go.wait(120), "the test never let the read go"
        return self.real(data, quote=quote)


async def test_a_slow_file_leaves_the_app_working_and_is_applied_when_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "points.csv").write_text(POINTS)
    reader = SlowReader(monkeypatch)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await start_reading(pilot, reader, "points.csv")
        await pilot.press("n", "n", "n")  # the keys still work while the file is read
        assert app.leader.epoch == 3 and app.leader.settings.data == "line"
        assert app.run_screen.state_view.border_subtitle.startswith("reading points.csv …")
        reader.go.set()
        await files_read(pilot)
        assert app.leader.settings.data == "points.csv" and app.leader.epoch == 0
        assert app.leader.dataset.size == 3 and not app.run_screen.state_view.border_subtitle.startswith(
            "reading"
        )
        await pilot.press("u")  # the run from before the file is one undo away
        assert app.leader.epoch == 3 and app.leader.settings.data == "line"


async def test_a_slow_file_that_turns_out_bad_keeps_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "bad.csv").write_text("x,y\n1,oops\n")
    reader = SlowReader(monkeypatch)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await start_reading(pilot, reader, "bad.csv")
        await pilot.press("n", "n")
        reader.go.set()
        await files_read(pilot)
        assert app.leader.epoch == 2 and app.leader.settings.data == "line"
        assert "line 2, column 2" in "".join(notes(app, "data not changed"))


async def test_a_data_set_chosen_while_a_file_is_read_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "points.csv").write_text(POINTS)
    reader = SlowReader(monkeypatch)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await start_reading(pilot, reader, "points.csv")
        await pilot.press("d")  # line -> double, at once
        assert app.leader.settings.data == "double"
        reader.go.set()
        await files_read(pilot)
        await pilot.pause()
        assert app.leader.settings.data == "double"


async def test_the_data_set_in_use_asked_again_while_a_file_is_read_keeps_the_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only a data set that starts a new run drops the read under way: the one in use, asked for
    again (the panel posting its value once more), changes nothing."""
    (tmp_path / "points.csv").write_text(POINTS)
    reader = SlowReader(monkeypatch)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await start_reading(pilot, reader, "points.csv")
        assert app.change_setting("data", "line")
        reader.go.set()
        await files_read(pilot)
        await pilot.pause()
        assert app.leader.settings.data.endswith("points.csv")


async def test_of_two_files_asked_at_once_the_second_is_read(tmp_path: Path) -> None:
    """The first read is dropped before its thread has started: the app must not wait for it."""
    (tmp_path / "first.csv").write_text("x,y\n1,1\n")
    (tmp_path / "second.csv").write_text(POINTS)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        app.change_setting("data", "first.csv")
        app.change_setting("data", "second.csv")
        await files_read(pilot)
        assert app.leader.settings.data == "second.csv" and app.leader.dataset.size == 3
        assert "first.csv" not in logged(app)


async def test_a_file_read_dropped_for_a_session_says_so_in_its_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "points.csv").write_text(POINTS)
    saved = Run(Settings(learning_rate=0.05))
    saved.run_to(4)
    save_session(tmp_path / "s.json", saved)
    reader = SlowReader(monkeypatch)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        field = await start_reading(pilot, reader, "points.csv")
        await pilot.press("ctrl+o")
        try:
            await answer(pilot, "s.json")
        finally:
            reader.go.set()
        assert app.leader.epoch == 4 and app.leader.settings.learning_rate == 0.05
        assert field.value == "line"  # the data in use, not the file that was never read
        assert notes(app, "data not changed") == ["points.csv: not read, s.json was asked for since"]


# ------------------------------------------------------------------ the command line
def test_lrtui_serve_gives_its_apps_the_folder_and_refuses_one_that_is_not_there(
    tmp_path: Path, folder: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import lrtui.serve.server

    served: list[list[str]] = []
    monkeypatch.setattr(lrtui.serve.server, "serve", lambda app_argv, *rest: served.append(app_argv) or 0)
    assert invoke_main(capsys, "serve", "--data-dir", str(folder), "--data", "noisy")[0] == 0
    assert served == [["--data", "noisy", "--speed", "10", "--served", "--data-dir", str(folder.resolve())]]
    code, _, err = invoke_main(capsys, "serve", "--data-dir", str(tmp_path / "nowhere"))
    assert code == 2 and "argument --data-dir: no folder" in err and err.count("\n") == 1
    code, _, err = invoke_main(capsys, "serve", "--data-dir", str(folder / "points.csv"))
    assert code == 2 and "is not a folder" in err


def test_the_served_app_gets_its_folder_from_its_flags(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import lrtui.app.app
    import lrtui.cli.commands

    opened = []
    monkeypatch.setattr(lrtui.app.app.LrtuiApp, "run", lambda app: opened.append(app))
    lrtui.cli.main(["--served", "--data-dir", str(folder)])
    lrtui.cli.main([])
    served, local = opened
    assert served.served == DataFolder(str(folder.resolve())) and local.served is None


async def test_a_file_dropped_for_a_session_leaves_the_data_field_showing_the_session_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "points.csv").write_text(POINTS)
    save_session(tmp_path / "lrtui-session.json", Run(Settings(data="double")))
    reader = SlowReader(monkeypatch)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        field = await start_reading(pilot, reader, "points.csv")
        await pilot.press("ctrl+o", "enter")  # the session's read drops the file's
        await files_read(pilot)
        assert app.leader.settings.data == "double"
        reader.go.set()
        assert field.value == "double"  # the data in use, not the file that was not read
