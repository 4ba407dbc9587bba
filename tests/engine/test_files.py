"""Saves that never clobber: what a save refuses to write over, what it writes through, and the
temporary files it cleans up after a save that was killed."""

from __future__ import annotations

import fcntl
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from app_support import files_read, make_app
from cli_support import invoke, invoke_main
from textual.widgets import Input

import lrtui
from lrtui.engine import Settings, Simulation
from lrtui.engine.files import (
    STALE_AFTER_SECONDS,
    TargetError,
    remove_stale_temporaries,
    temporary_name_pattern,
    write_atomically,
)
from lrtui.engine.history import History
from lrtui.engine.run import Run
from lrtui.engine.session import load_session, save_session

SIZE = (120, 40)


def pair(run: Run) -> tuple[Simulation, History]:
    """A loaded run as the simulation and the history it holds."""
    return run.simulation, run.history


def temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_a_named_pipe_is_refused_and_stays_a_pipe(tmp_path: Path) -> None:
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    with pytest.raises(TargetError, match="named pipe") as refused:
        write_atomically(pipe, "text")
    assert isinstance(refused.value, OSError) and "\n" not in refused.value.strerror
    assert stat.S_ISFIFO(pipe.lstat().st_mode)
    assert temporaries(tmp_path) == []


def test_a_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "folder").mkdir()
    with pytest.raises(TargetError, match="is a directory"):
        write_atomically(tmp_path / "folder", "text")
    assert (tmp_path / "folder").is_dir() and temporaries(tmp_path) == []


def test_a_device_behind_a_symlink_is_refused_and_left_alone(tmp_path: Path) -> None:
    if not stat.S_ISCHR(os.stat("/dev/null").st_mode):
        pytest.skip("no /dev/null character device here")
    link = tmp_path / "null.json"
    link.symlink_to("/dev/null")
    with pytest.raises(TargetError, match="is a device"):
        write_atomically(link, "text")
    assert link.is_symlink() and stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_a_symlink_is_written_through_and_stays_a_link_with_the_target_mode(tmp_path: Path) -> None:
    real = tmp_path / "real.json"
    real.write_text("old")
    real.chmod(0o640)
    (tmp_path / "sub").mkdir()
    link = tmp_path / "sub" / "link.json"
    link.symlink_to("../real.json")
    write_atomically(link, "new")
    assert link.is_symlink() and os.readlink(link) == "../real.json"
    assert real.read_text() == "new" and stat.S_IMODE(real.stat().st_mode) == 0o640
    assert temporaries(tmp_path) == [] and temporaries(tmp_path / "sub") == []


def test_a_dangling_symlink_creates_the_file_it_names(tmp_path: Path) -> None:
    link = tmp_path / "link.json"
    link.symlink_to("made.json")
    write_atomically(link, "new")
    assert link.is_symlink() and (tmp_path / "made.json").read_text() == "new"


def test_a_read_only_file_is_refused_even_for_root(tmp_path: Path) -> None:
    path = tmp_path / "keep.json"
    path.write_text("precious")
    path.chmod(0o444)
    with pytest.raises(TargetError, match="read-only"):
        write_atomically(path, "clobbered")
    assert path.read_text() == "precious" and temporaries(tmp_path) == []


def test_a_hard_linked_file_is_refused_rather_than_split(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_text("shared")
    os.link(path, tmp_path / "b.json")
    with pytest.raises(TargetError, match="2 hard links"):
        write_atomically(path, "new")
    assert path.read_text() == (tmp_path / "b.json").read_text() == "shared"
    assert path.stat().st_ino == (tmp_path / "b.json").stat().st_ino


@pytest.mark.parametrize("path", ["", "missing-folder/s.json"])
def test_no_name_or_no_folder_is_refused(tmp_path: Path, path: str) -> None:
    with pytest.raises(OSError, match="no file name given|no such folder"):
        write_atomically(path, "text")
    assert list(tmp_path.iterdir()) == []


def test_a_file_keeps_its_mode_and_a_new_one_gets_the_usual_mode(tmp_path: Path) -> None:
    kept = tmp_path / "kept.json"
    kept.write_text("old")
    kept.chmod(0o604)
    write_atomically(kept, "new")
    assert stat.S_IMODE(kept.stat().st_mode) == 0o604
    umask = os.umask(0o022)
    try:
        write_atomically(tmp_path / "new.json", "new")
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "new.json").stat().st_mode) == 0o644


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can keep another user's ownership")
def test_root_keeps_the_owner_of_a_file_it_saves_over(tmp_path: Path) -> None:
    path = tmp_path / "theirs.json"
    path.write_text("old")
    os.chown(path, 12345, 12345)
    path.chmod(0o664)
    write_atomically(path, "new")
    assert (path.stat().st_uid, path.stat().st_gid) == (12345, 12345)
    assert path.read_text() == "new"


# ------------------------------------------------------------ stale temporaries
def make_temporary(folder: Path, name: str, age: float) -> Path:
    path = folder / name
    path.write_text("half a save")
    then = time.time() - age
    os.utime(path, (then, then))
    return path


def test_only_old_unlocked_temporaries_of_our_own_naming_are_removed(tmp_path: Path) -> None:
    target = tmp_path / "s.json"
    old = make_temporary(tmp_path, ".s.json.k3x_9q0a.tmp", 10 * STALE_AFTER_SECONDS)
    fresh = make_temporary(tmp_path, ".s.json.a1b2c3d4.tmp", 0)
    held = make_temporary(tmp_path, ".s.json.zzzzzzzz.tmp", 10 * STALE_AFTER_SECONDS)
    others = [
        make_temporary(tmp_path, name, 10 * STALE_AFTER_SECONDS)
        for name in (".t.json.abcdefgh.tmp", ".s.json.tmp", ".s.json.abcdefghi.tmp", "s.json.abcdefgh.tmp")
    ]
    with open(held) as holder:
        fcntl.flock(holder, fcntl.LOCK_EX)  # a save still writing it
        write_atomically(target, "new")
    assert not old.exists()
    assert fresh.exists() and held.exists() and all(p.exists() for p in others)
    assert target.read_text() == "new"


def test_a_temporary_left_by_a_killed_save_goes_at_the_next_save(tmp_path: Path) -> None:
    """kill -9 in the middle of a save: its lock dies with it, so its half file is stale."""
    target = tmp_path / "s.json"
    killed = subprocess.run(
        [
            sys.executable,
            "-c",
            "import os, signal, sys\n"
            "from lrtui.engine.files import write_atomically\n"
            "def write(out):\n"
            "    out.write('x' * 100_000); out.flush()\n"
            "    os.kill(os.getpid(), signal.SIGKILL)\n"
            "write_atomically(sys.argv[1], write)\n",
            str(target),
        ],
        env={**os.environ, "PYTHONPATH": str(Path(lrtui.__file__).resolve().parents[1])},
        capture_output=True,
    )
    assert killed.returncode == -9
    [left] = temporaries(tmp_path)
    assert temporary_name_pattern("s.json").fullmatch(left) and not target.exists()
    assert remove_stale_temporaries(target) == []  # too young: it could still be a save starting
    assert remove_stale_temporaries(target, now=time.time() + 2 * STALE_AFTER_SECONDS) == [tmp_path / left]
    assert temporaries(tmp_path) == []


# ------------------------------------------------------------------------ the app
async def answer_prompt(pilot, path) -> None:
    prompt = pilot.app.screen.query_one("#prompt-path", Input)
    prompt.value = str(path)
    await pilot.press("enter")
    await pilot.pause()
    await files_read(pilot)


@pytest.mark.parametrize(
    ("key", "title"),
    [("ctrl+s", "Session not saved"), ("x", "Script not written"), ("e", "History not exported")],
)
async def test_the_app_refuses_a_pipe_with_a_message_and_keeps_the_run(
    tmp_path: Path, key: str, title: str
) -> None:
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("N", key)
        await answer_prompt(pilot, pipe)
        assert stat.S_ISFIFO(pipe.lstat().st_mode)
        notes = [n for n in app._notifications if n.title == title]
        assert notes and "named pipe" in notes[0].message
        assert app.leader.epoch == 10 and len(app.leader.history) == 10


def test_a_session_saved_through_a_symlink_loads_from_the_link(tmp_path: Path) -> None:
    simulation = Simulation(Settings())
    history = History()
    history.extend(simulation.run(5))
    (tmp_path / "real.json").write_text("{}")
    (tmp_path / "link.json").symlink_to("real.json")
    save_session(tmp_path / "link.json", Run(simulation.settings, simulation=simulation, history=history))
    loaded, loaded_history = pair(load_session(tmp_path / "link.json"))
    assert (tmp_path / "link.json").is_symlink() and list(loaded_history) == list(history)


# ------------------------------------------------------------------- the commands
def one_line_naming(err: str, flag: str) -> bool:
    return err.count("\n") == 1 and f"argument {flag}:" in err and "Traceback" not in err


@pytest.mark.parametrize("kind", ["empty", "pipe", "folder", "read-only"])
def test_run_refuses_a_save_it_could_not_make_before_training(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    path = {"empty": "", "pipe": "pipe", "folder": "folder", "read-only": "keep.json"}[kind]
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "folder").mkdir()
    (tmp_path / "keep.json").write_text("precious")
    (tmp_path / "keep.json").chmod(0o444)
    code, out, err = invoke(capsys, "--epochs", "5", "--save", path)
    assert code == 2 and out == "" and one_line_naming(err, "--save"), err
    assert stat.S_ISFIFO((tmp_path / "pipe").lstat().st_mode)
    assert (tmp_path / "keep.json").read_text() == "precious"


@pytest.mark.parametrize("kind", ["empty", "pipe", "read-only"])
def test_export_script_refuses_an_output_it_could_not_make(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    path = {"empty": "", "pipe": "pipe", "read-only": "keep.py"}[kind]
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "keep.py").write_text("precious")
    (tmp_path / "keep.py").chmod(0o444)
    code, out, err = invoke_main(capsys, "export-script", "-o", path)
    assert code == 2 and out == "" and one_line_naming(err, "--output"), err
    assert stat.S_ISFIFO((tmp_path / "pipe").lstat().st_mode)
    assert (tmp_path / "keep.py").read_text() == "precious"


def test_run_saves_through_a_symlink(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "runs").mkdir()
    (tmp_path / "latest.json").symlink_to("runs/run1.json")
    code, _, err = invoke(capsys, "--epochs", "5", "--save", "latest.json")
    assert code == 0, err
    assert (tmp_path / "latest.json").is_symlink() and load_session(
        tmp_path / "runs/run1.json"
    ).simulation.epoch == 6


@pytest.mark.parametrize(
    ("mode", "owner", "group", "read_only"),
    [
        (0o644, 1000, 1000, False),  # ours, writable by us
        (0o444, 1000, 1000, True),  # ours, marked read-only
        (0o664, 2000, 1000, False),  # our group may write
        (0o644, 2000, 1000, True),  # only its owner may write
        (0o646, 2000, 3000, False),  # anyone may write
    ],
)
def test_a_normal_user_sees_the_write_bit_of_their_class(
    monkeypatch: pytest.MonkeyPatch, mode: int, owner: int, group: int, read_only: bool
) -> None:
    from lrtui.engine import files

    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.setattr(os, "getegid", lambda: 1000)
    monkeypatch.setattr(os, "getgroups", lambda: [1000])
    info = os.stat_result((stat.S_IFREG | mode, 0, 0, 1, owner, group, 0, 0, 0, 0))
    assert files._read_only(info) is read_only
