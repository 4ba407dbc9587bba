"""The benchmarks (benchmarks/, outside the package) still run against today's engine and app.

Tiny sizes and one round each: these check that every group can be measured and that its
report lines keep their shape, never how fast anything is.
"""

from __future__ import annotations

import json

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Static

from benchmarks.app import FrameCountingDriver
from benchmarks.charts import finished_run, frame_maker, report
from benchmarks.engine import engine_comparison
from benchmarks.memory import long_run_child
from benchmarks.timing import Comparison


def test_engine_comparison_reports_both_rates_and_their_ratio() -> None:
    line = engine_comparison(3, epochs=5, rounds=1).report()
    assert line.startswith("engine step, 3 points") and "per-epoch ratio" in line
    assert Comparison("x", lrtui_rate=50.0, bare_rate=100.0, target="").ratio == 2.0


def test_a_chart_frame_is_drawn_from_a_finished_run() -> None:
    race = finished_run(20)
    assert len(race.leader.history) == 21
    assert "\n" in frame_maker(race, warm=True)()
    assert report("chart frame", 1.5, "< 25 ms").endswith("    1.50 ms   (target < 25 ms)")


def test_the_memory_child_prints_its_peak_and_frame_time(capsys: pytest.CaptureFixture[str]) -> None:
    long_run_child(50)
    figures = json.loads(capsys.readouterr().out)
    assert figures["epochs"] == 50 and figures["records"] == 50
    assert figures["peak_mb"] > 0 and figures["frame_ms"] > 0


async def test_the_frame_counting_driver_sees_every_frame_the_app_writes() -> None:
    class OneLabel(App[None]):
        def compose(self) -> ComposeResult:
            yield Static("0", id="label")

    app = OneLabel()
    app.driver_class = FrameCountingDriver
    before = FrameCountingDriver.frames
    async with app.run_test(size=(40, 10), headless=False) as pilot:
        await pilot.pause()
        first = FrameCountingDriver.frames
        app.query_one("#label", Static).update("1")
        await pilot.pause()
        assert first > before and FrameCountingDriver.frames > first


def test_the_minibatch_comparison_runs_both_loops_and_reports_steps() -> None:
    from benchmarks.minibatch import batch_comparison, step_line

    lrtui, bare = batch_comparison(10, steps=15, rounds=1)
    assert lrtui > 0 and bare > 0
    line = step_line("engine step, noisy, batch 10", 50.0, 100.0, "<= 1.2x")
    assert "steps/s" in line and "per-step ratio 2.000x" in line


async def test_the_keys_while_reading_benchmark_steps_before_and_during_a_read(tmp_path) -> None:
    from benchmarks.data import keys_while_reading

    path = tmp_path / "points.csv"
    path.write_text("x,y\n" + "".join(f"{i},{2 * i}\n" for i in range(50)))
    read_s, idle, during = await keys_while_reading(str(path), epochs=100)
    assert len(idle) == 20 and all(seconds > 0 for seconds in idle) and during and read_s >= 0
