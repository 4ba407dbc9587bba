"""The app's start: the first frame before torch, keys pressed while torch loads, and what the
command line's --data, --load and --compare could not open, said in the app."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import plain_torch as pt
from app_support import HeldOpener, log_text, logged, make_opening_app, shown_text

from lrtui.app.opening import Opening, open_race
from lrtui.app.widgets.help import HelpScreen
from lrtui.app.widgets.loading import LoadingChart, LoadingPanel
from lrtui.engine import Settings

SIZE = (120, 40)
ROOT = Path(__file__).resolve().parents[2]

# Runs the app headless to its first frame (Textual's Ready), then prints the heavy packages
# imported by then and what stands in the chart's place.
FIRST_FRAME = """
import json, sys
from lrtui.cli.commands import app_parser, app_start, chosen_language
from lrtui.app.app import LrtuiApp

def on_ready(app):
    seen["packages"] = sorted({name.partition(".")[0] for name in sys.modules} & {"torch", "numpy", "plotext"})
    seen["chart"] = str(app.query_one("#chart-loading").content)
    seen["ready"] = app.ready
    app.exit()

seen = {}
LrtuiApp.on_ready = on_ready
parser = app_parser()
args = parser.parse_args(sys.argv[1:])
opening, lesson = app_start(parser, args, chosen_language(parser, args))
LrtuiApp(opening, lesson=lesson).run(headless=True, size=(120, 40))
print(json.dumps(seen))
"""


def test_the_first_frame_is_painted_before_torch_numpy_or_plotext_is_imported() -> None:
    done = subprocess.run(
        [sys.executable, "-c", FIRST_FRAME, "--lesson", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen == {"packages": [], "chart": "loading torch…", "ready": False}


async def test_the_first_frame_shows_the_settings_and_says_torch_is_loading() -> None:
    opener = HeldOpener()
    app = make_opening_app(Opening(Settings(learning_rate=0.05)), opener)
    async with app.run_test(size=SIZE) as pilot:
        assert not app.ready
        assert "loading torch" in shown_text(app.run_screen.state_view)
        assert "n: step, space: run, ?: keys." in log_text(app)
        panel = shown_text(app.query_one(LoadingPanel))
        assert "lr" in panel and "0.05" in panel and "SGD" in panel
        assert "loading torch" in shown_text(app.query_one(LoadingChart))
        await opener.release(app, pilot)
        assert app.ready and not app.query(LoadingPanel) and not app.query(LoadingChart)
        assert app.run_screen.chart.display and app.run_screen.panel.display
        assert "paused" in app.run_screen.state_view.border_subtitle
        assert "line (3 points)" in log_text(app) and "loading" not in log_text(app)


async def test_keys_pressed_while_torch_loads_wait_and_run_in_order_once_it_is_ready() -> None:
    opener = HeldOpener()
    app = make_opening_app(Opening(Settings(data="noisy", learning_rate=0.002)), opener)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n", "z", "n", "n")
        assert app.waiting == ["step(1)", "toggle_zero_grad", "step(1)", "step(1)"]
        assert "keys waiting for it: n z n n" in shown_text(app.run_screen.state_view)
        await opener.release(app, pilot)
        assert app.leader.epoch == 3 and app.leader.settings.zero_grad is False
        # z came after the first n: plain torch with zero_grad turned off from epoch 1
        plain = pt.raw_loop(*pt.noisy_data(), 2, lr=0.002, changes={1: {"zero_grad": False}})
        assert [r.w_next for r in app.leader.history] == [p["w_next"] for p in plain]
        assert "running the keys pressed while torch loaded: n z n n" in log_text(app)
        assert app.waiting == []


async def test_help_works_at_once_while_torch_loads_and_quit_too() -> None:
    opener = HeldOpener()
    app = make_opening_app(Opening(), opener)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen) and not app.ready
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen) and app.waiting == []
        await pilot.press("q")
        assert app.return_code == 0 and not app.is_running
    opener.released.set()  # the thread ends; the app did not wait for it


def bad_csv(tmp_path: Path) -> str:
    path = tmp_path / "points.csv"
    path.write_text("x,y\n1,2\n3,oops\n")
    return str(path)


async def test_data_that_cannot_be_read_is_said_in_the_app_which_runs_on_the_line(tmp_path: Path) -> None:
    opener = HeldOpener()
    path = bad_csv(tmp_path)
    app = make_opening_app(Opening(Settings(data=path)), opener)
    async with app.run_test(size=SIZE) as pilot:
        await opener.release(app, pilot)
        assert app.leader.settings.data == "line"
        said = logged(app)
        assert f"--data: {path} line 3, column 2:" in said and "uses the line data instead" in said
        assert app.query_one("#row-data").has_class("-invalid")
        assert any(n.title == "--data not opened" for n in app._notifications)
        await pilot.press("n")
        assert app.leader.epoch == 1


async def test_a_session_that_cannot_be_loaded_is_said_in_the_app_on_a_fresh_run(tmp_path: Path) -> None:
    opener = HeldOpener()
    path = tmp_path / "session.json"
    path.write_text('{"settings": ')
    app = make_opening_app(Opening(session_path=str(path)), opener)
    async with app.run_test(size=SIZE) as pilot:
        assert "loading torch and the session" in shown_text(app.run_screen.state_view)
        await opener.release(app, pilot)
        said = logged(app)
        assert (
            f"--load: {path}: corrupt or truncated" in said and "fresh run with the default settings" in said
        )
        assert app.session_path is None and app.leader.settings == Settings() and app.leader.epoch == 0


def test_a_loaded_session_opens_with_its_epochs_and_contenders_that_fit_it(tmp_path: Path) -> None:
    from lrtui.engine.race import Race
    from lrtui.engine.session import save_session

    run = Race.of(Settings(optimizer="adam", learning_rate=0.1)).leader
    for _ in range(3):
        run.step()
    path = tmp_path / "s.json"
    save_session(path, run)
    opened = open_race(Opening(compare=("lr=0.2", "momentum=0.9"), session_path=str(path)))
    assert opened.race.leader.epoch == 3 and opened.session_path == str(path)
    assert opened.race.labels() == ["Adam lr 0.1", "Adam lr 0.2"]  # momentum does not apply to Adam
    (problem,) = opened.problems
    assert problem.flag == "--compare" and "'momentum=0.9'" in problem.message and "adam" in problem.message
