"""The chart widget on its own: one snapshot per view, and how it follows the app's calls.

Review each SVG as a picture before committing it (``rsvg-convert -o /tmp/snap.png FILE.svg``).
"""

from __future__ import annotations

from textual.app import App, ComposeResult

from lrtui.app.widgets.chart import CostChart
from lrtui.charts import VIEWS
from lrtui.engine import Settings
from lrtui.engine.race import Race
from lrtui.engine.run import Run

SIZE = (100, 32)


class ChartApp(App[None]):
    """Nothing but the chart, shown a run of ``epochs`` epochs."""

    CSS = "CostChart { height: 1fr; }"

    def __init__(self, settings: Settings, epochs: int, view: str = "surface") -> None:
        super().__init__()
        self.race = Race.of(settings)
        self.race.step(epochs)
        self.leader = self.race.leader
        self.start_view = view

    def compose(self) -> ComposeResult:
        yield CostChart()

    def on_mount(self) -> None:
        chart = self.query_one(CostChart)
        chart.view = self.start_view
        chart.show(self.race)


async def settle(pilot) -> None:
    await pilot.pause()


# ---------------------------------------------------------------- snapshots
def test_surface_after_thirty_epochs(snap_compare) -> None:
    """Levels round the valley, the path from (0, 0), ● now, ◆ optimum, → next step."""
    assert snap_compare(ChartApp(Settings(), 30), terminal_size=SIZE, run_before=settle)


def test_no_bias_curve_as_in_the_lesson(snap_compare) -> None:
    """J(W) with lr 0.15: W overshoots to 1.4 and back to 0.84; tangent and next step across the valley."""
    app = ChartApp(Settings(bias=False, learning_rate=0.15), 2)
    assert snap_compare(app, terminal_size=SIZE, run_before=settle)


def test_cost_per_epoch(snap_compare) -> None:
    """Log-scale cost falling onto the dotted least-squares floor of the noisy data."""
    app = ChartApp(Settings(data="noisy"), 300, view="cost")
    assert snap_compare(app, terminal_size=SIZE, run_before=settle)


def test_data_and_fit(snap_compare) -> None:
    """The noisy points, the fitted line after 20 epochs and the least-squares line."""
    app = ChartApp(Settings(data="noisy"), 20, view="fit")
    assert snap_compare(app, terminal_size=SIZE, run_before=settle)


def test_zero_grad_off_shows_two_arrows(snap_compare) -> None:
    """Past the valley: the fresh gradient points back, the accumulated .grad still pushes on."""
    app = ChartApp(Settings(zero_grad=False), 6)
    assert snap_compare(app, terminal_size=SIZE, run_before=settle)


def test_diverged(snap_compare) -> None:
    """lr 1 on the line preset: the title names the epoch and the stability limit 0.18."""
    app = ChartApp(Settings(learning_rate=1.0), 100)
    assert snap_compare(app, terminal_size=SIZE, run_before=settle)


class UnitsChartApp(ChartApp):
    """The chart of a standardized run, switched to raw x's surface with ``in_x_units``."""

    def on_mount(self) -> None:
        super().on_mount()
        assert self.query_one(CostChart).toggle_x_units()


def test_surface_with_its_principal_axes(snap_compare) -> None:
    """The scaled preset's long valley at lr 0.009: dotted steep and shallow axes through ◆, the
    path racing down the steep side and crawling along the floor, κ 1.26e+03 and the predicted
    epoch in the note."""
    app = ChartApp(Settings(data="scaled", learning_rate=0.009), 200)
    assert snap_compare(app, terminal_size=SIZE, run_before=settle)


def test_standardized_surface_is_a_round_bowl(snap_compare) -> None:
    """The same data standardized, lr 0.3: a round bowl over x', κ 1.03, the minimum reached."""
    app = ChartApp(Settings(data="scaled", standardize=True, learning_rate=0.3), 15)
    assert snap_compare(app, terminal_size=SIZE, run_before=settle)


def test_standardized_run_over_raw_x(snap_compare) -> None:
    """t: that standardized run's path in x's own units on raw x's long valley (κ 1.26e+03)."""
    app = UnitsChartApp(Settings(data="scaled", standardize=True, learning_rate=0.3), 15)
    assert snap_compare(app, terminal_size=SIZE, run_before=settle)


def test_l1_surface_with_its_creases(snap_compare) -> None:
    """The outliers preset with the L1 loss: a creased surface, ◆ its numerical minimum near W 2, b 1."""
    app = ChartApp(Settings(data="outliers", loss="l1", learning_rate=0.05), 60)
    assert snap_compare(app, terminal_size=SIZE, run_before=settle)


# ---------------------------------------------------------------- behaviour
async def test_next_view_goes_round_the_views() -> None:
    app = ChartApp(Settings(), 5)
    async with app.run_test(size=SIZE) as pilot:
        chart = app.query_one(CostChart)
        seen = []
        for _ in range(len(VIEWS) + 1):
            seen.append(chart.view)
            chart.next_view()
            await pilot.pause()
        assert seen == [*VIEWS, VIEWS[0]]
        assert chart.border_subtitle == "cost per epoch · v: data and fit"


async def test_steady_frames_reuse_the_map_and_the_peek() -> None:
    app = ChartApp(Settings(), 5)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        chart = app.query_one(CostChart)
        peeks = []
        peek = app.leader.peek
        app.leader.peek = lambda: peeks.append(1) or peek()
        builds = chart.surface_cache.builds
        for _ in range(3):
            chart.show(app.race)
        await pilot.pause()
        assert peeks == [] and chart.surface_cache.builds == builds
        app.leader.step()
        chart.show(app.race)
        assert peeks == [1] and chart.surface_cache.builds == builds


async def test_reset_view_ranges_the_next_frame_afresh() -> None:
    app = ChartApp(Settings(), 5)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        chart = app.query_one(CostChart)
        app.race.restart(Run(app.leader.settings.with_changes(init_w=10.0, init_b=-5.0)))
        chart.reset_view()
        chart.show(app.race)
        assert chart.view_range.contains(10.0, -5.0)


async def test_an_empty_history_and_a_tiny_size_are_fine() -> None:
    app = ChartApp(Settings(), 0)
    async with app.run_test(size=(12, 5)) as pilot:
        await pilot.pause()
        chart = app.query_one(CostChart)
        for _ in VIEWS:
            chart.next_view()
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert chart.view_range.contains(0.0, 0.0)


async def test_the_view_follows_the_run_frame_by_frame() -> None:
    """Issue 12: zero_grad off on the line data, shown after each of 150 epochs: the point and
    the end of its next step always in view, the view re-ranged in a few frames only."""
    app = ChartApp(Settings(zero_grad=False), 0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        chart = app.query_one(CostChart)
        ranges = []
        for _ in range(150):
            app.leader.step()
            chart.show(app.race)
            peeked = app.leader.peek()
            assert chart.view_range.contains(app.leader.w, app.leader.b)
            assert chart.view_range.contains(peeked.w_next, peeked.b_next)
            ranges.append((chart.view_range.w, chart.view_range.b))
        assert len(set(ranges)) <= 6


# ------------------------------------------------------------- the canvas as strips
def _cells(strips) -> list[list[tuple]]:
    """Each cell of each strip: its character, colours, attributes and text offset."""
    rows = []
    for strip in strips:
        row = []
        for segment in strip:
            style = segment.style
            attributes = (style.color, style.bgcolor, style.bold, style.dim, style.italic, style.underline)
            row += [(character, attributes, style.meta.get("offset")) for character in segment.text]
        rows.append(row)
    return rows


async def test_the_canvas_strips_are_what_parsing_plotexts_text_gives() -> None:
    """The chart styles its cells straight from plotext's colours; the cells must be the ones
    Textual would show for plotext's ANSI text, in every view, mini-batch marks included."""
    from rich.text import Text
    from textual.visual import Visual, visualize

    from lrtui.charts.canvas import CellPainting

    for settings, epochs in ((Settings(), 30), (Settings(data="noisy", batch_size=10, shuffle=True), 7)):
        for view in VIEWS:
            app = ChartApp(settings, epochs, view)
            async with app.run_test(size=SIZE) as pilot:
                await pilot.pause()
                chart = app.query_one(CostChart)
                width, height = chart.size
                drawn = Visual.to_strips(chart, chart.render(), width, height, chart.visual_style)
                parsed_text = Text.from_ansi(CellPainting.build(chart.chart_plot))
                parsed = Visual.to_strips(
                    chart, visualize(chart, parsed_text), width, height, chart.visual_style
                )
                assert len(drawn) == height
                assert _cells(drawn) == _cells(parsed), view
