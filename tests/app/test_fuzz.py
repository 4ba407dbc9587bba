"""Key mashing and odd terminal sizes: no exception, and the screen always tells the engine's truth."""

from __future__ import annotations

import asyncio
import json
import random
from pathlib import Path

import pytest
import textual.app
from app_support import FakeClock, files_read, make_app, shown_text
from textual.widgets import Input

from lrtui.app.pacing import FULL_SPEED
from lrtui.app.widgets.state import number, step_in_phases
from lrtui.engine import Settings, parse_field
from lrtui.engine.run import Run
from lrtui.engine.session import session_dict
from lrtui.engine.settings import field_text

KEYS = [
    "space", "n", "right", "N", "ctrl+n", "u", "left", "r", "z", "plus", "minus",
    "o", "b", "d", "v", "c", "p", "question_mark", "escape", "a", "A", "l", "L", "down", "s",
]  # fmt: skip
# Session files a masher may load: the one ctrl+s writes, and broken ones written before the keys.
BROKEN_SESSIONS = [
    "truncated.json", "deep.json", "negative.json", "missing.json",
    "stepinf.json", "stepnan.json", "hugelr.json", "hugew.json", "hugeb.json",
]  # fmt: skip
INPUTS = ["learning_rate", "momentum", "init_w", "init_b", "seed", "epochs", "log_every", "data"]
CONTENDERS = ["lr=0.5", "optimizer=adam", "zero-grad=off", "momentum=0.9 lr=2", "momentum=2", "data=noisy"]
JUNK = [
    "",
    "-",
    ".",
    "e",
    "nan",
    "inf",
    "-1",
    "0",
    "0.05",
    "1e308",
    "abc",
    "12345678901234567890" * 3,
    "3",
    "noisy",
]


def assert_screen_matches_engine(app) -> None:
    simulation = app.leader
    state = shown_text(app.run_screen.state_view)
    record = simulation.last
    phased = step_in_phases(simulation)
    if phased is not None:  # a step run phase by phase: the state shows where it stands, torch's numbers now
        where, now, cost = phased
        assert where in state and number(cost, 0).strip() in state
        assert number(now["W"]).strip() in state and number(now["W.grad"]).strip() in state
    else:
        assert f"{'—' if record is None else record.epoch}/{simulation.settings.epochs}" in state
        assert number(record and record.cost, 0).strip() in state
        assert number(simulation.w).strip() in state
        if simulation.bias:
            assert number(simulation.b).strip() in state
        if record is not None:
            assert number(record.grad_w).strip() in state
    assert ("DIVERGED" in app.run_screen.state_view.border_subtitle) == simulation.diverged
    assert len(app.leader.history) == simulation.epoch
    assert app.run_screen.lesson_box.has_class("-shown") == (app.lesson is not None)
    for rival in app.race.rivals:
        stopped = rival.simulation.diverged or rival.simulation.finished
        assert rival.simulation.epoch == simulation.epoch or (
            stopped and rival.simulation.epoch < simulation.epoch
        )
        assert len(rival.history) == rival.simulation.epoch
    if record is not None:
        assert app.leader.history.last == record
    for name in INPUTS:
        if not app.query_one(f"#row-{name}").has_class("-invalid"):
            widget = app.query_one(f"#field-{name}", Input)
            if not widget.has_focus:  # shows the value in use, as lrtui writes it or as it was typed
                value = getattr(simulation.settings, name)
                assert widget.value == field_text(name, value) or parse_field(name, widget.value) == value, (
                    name
                )


def random_keys(rng: random.Random, count: int) -> list[str]:
    """About ``count`` key presses: bindings, tab between fields, and junk typed into whatever has focus."""
    keys: list[str] = []
    while len(keys) < count:
        roll = rng.random()
        if roll < 0.6:
            keys.append(rng.choice(KEYS))
        elif roll < 0.72:
            keys.append(rng.choice(["tab", "shift+tab", "backspace", "ctrl+a"]))
        elif roll < 0.75:  # a contender for the race (or a refused one)
            keys += ["a", "ctrl+a", *rng.choice(CONTENDERS), "enter"]
        elif roll < 0.78:  # save, load it back or load a broken file, then undo
            opened = rng.choice([["ctrl+s"], ["ctrl+o"], ["ctrl+o", *rng.choice(BROKEN_SESSIONS)]])
            keys += [*opened, "enter", "u"]
        else:
            keys += [*rng.choice(JUNK), rng.choice(["enter", "escape", "tab"])]
    return keys


def write_broken_sessions() -> None:
    """In the test's own folder: files a learner might try to load, each refused with a reason."""
    Path("truncated.json").write_text('{"format": "lrtui-session", "version": 1, "settings": {')
    Path("deep.json").write_text("[" * 100_000 + "]" * 100_000)
    good = Run(Settings(epochs=400, log_every=7))
    good.run_to(5)
    document = session_dict(good)
    document["epoch"] = -7
    Path("negative.json").write_text(json.dumps(document))
    # Files that crashed the app (issue 27): a step count that is not a number, whole numbers that
    # overflowed inside torch (these load now, as the floats their flags give).
    adam = Run(Settings(optimizer="adam", learning_rate=0.1, epochs=400, log_every=7))
    adam.run_to(5)
    for name, step in (("stepinf.json", "inf"), ("stepnan.json", "nan")):
        document = session_dict(adam)
        document["optimizer"]["state"]["0"]["step"]["values"] = [step]
        Path(name).write_text(json.dumps(document))
    for name, setting, value in (
        ("hugelr.json", "learning_rate", 10**19),
        ("hugew.json", "init_w", -(10**19)),
        ("hugeb.json", "init_b", 2**64),
    ):
        document = session_dict(good)
        document["settings"][setting] = value
        Path(name).write_text(json.dumps(document))


async def mash(seed: int, presses: int, size: tuple[int, int], monkeypatch: pytest.MonkeyPatch) -> None:
    write_broken_sessions()
    rng = random.Random(seed)
    clock = FakeClock(tick=0.0005)
    app = make_app(Settings(epochs=400, log_every=7), speed=rng.choice([10, FULL_SPEED]), clock=clock)
    # Pilot waits for the CPU to go idle after every key (>= 40 ms each); a key masher does not.
    # Keys still go through the driver in order; each chunk ends with Pilot's wait for the screen.
    monkeypatch.setattr(textual.app, "wait_for_idle", no_wait)
    async with app.run_test(size=size) as pilot:
        keys = random_keys(rng, presses)
        for start in range(0, len(keys), 25):
            if rng.random() < 0.3:
                app.query_one(f"#field-{rng.choice(INPUTS)}", Input).focus()  # a click on a field
            await pilot.press(*keys[start : start + 25])
            if rng.random() < 0.5:
                clock.now += rng.random()
                app.timers[0].fire()
            while app.screen is not app.screen_stack[0]:
                await pilot.press("escape")  # close help or a file prompt
            await files_read(pilot, quiet=4)  # a file asked for is read in a thread, then shown
            assert_screen_matches_engine(app)
        await pilot.press("escape")
        if app.running:
            await pilot.press("space")
        await pilot.pause()
        app.refresh_views()
        assert_screen_matches_engine(app)


async def no_wait(*args: object, **kwargs: object) -> None:
    await asyncio.sleep(0)


@pytest.mark.parametrize(("seed", "size"), [(1, (120, 40)), (2, (80, 24))])
async def test_key_mashing_never_breaks_the_app(
    seed: int, size: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    await mash(seed, 600, size, monkeypatch)


@pytest.mark.parametrize("size", [(40, 12), (50, 15), (60, 20), (80, 24), (120, 40), (200, 60), (250, 80)])
async def test_every_terminal_size_renders(size: tuple[int, int]) -> None:
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await pilot.press("N", "v", "c", "p", "c")
        await pilot.pause()
        width, height = size
        assert app.screen.has_class("-compact") == (width < 100 or height < 30)
        assert app.screen.has_class("-tiny") == (width < 70 or height < 20)
        assert_screen_matches_engine(app)


async def test_resizing_while_running() -> None:
    clock = FakeClock(tick=0.0005)
    app = make_app(speed=FULL_SPEED, clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("space")
        for size in [(250, 80), (40, 12), (80, 24), (60, 20), (120, 40)]:
            await pilot.resize_terminal(*size)
            app.timers[0].fire()
            await pilot.pause()
            assert app.screen.has_class("-tiny") == (size[0] < 70 or size[1] < 20)
        await pilot.press("space")
        app.refresh_views()
        assert_screen_matches_engine(app)
