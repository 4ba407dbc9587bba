"""The chart drawing functions: the steady view, thinning, what is handed to plotext, and the
text ``lrtui run --plot`` prints. Arrows are checked against ``Simulation.peek()``, never
against a step worked out here."""

from __future__ import annotations

import ast
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import lrtui.charts
from lrtui.charts import (
    COLOR,
    FRESH_HEADS,
    MONO,
    NOW,
    OPTIMUM,
    STEP_HEADS,
    SurfaceCache,
    Track,
    ViewRange,
    clip_segment,
    diverged_titles,
    draw_view,
    frame,
    new_figure,
    render_for_terminal,
    scene_of,
    thin_indices,
)
from lrtui.engine import EpochRecord, Settings, Simulation
from lrtui.engine.history import History
from lrtui.engine.race import Race
from lrtui.engine.run import Run


def run(settings: Settings, epochs: int) -> tuple[Simulation, History]:
    simulation = Simulation(settings)
    history = History()
    history.extend(simulation.run(epochs))
    return simulation, history


def race_of(simulation: Simulation, history: History) -> Race:
    """A race of one run made of this simulation and this (possibly hand-made) history."""
    return Race(Run(simulation.settings, simulation=simulation, history=history))


def scene_for(simulation: Simulation, history: History):
    return scene_of(race_of(simulation, history))


class RecordingPlt:
    """Stands in for plotext: keeps every call, and checks that only finite numbers reach it."""

    def __init__(self, can_paint: bool = True) -> None:
        self.calls: list[tuple[str, tuple, dict]] = []
        self.painter = None
        if can_paint:
            self.paint_cells = self._paint_cells

    def _paint_cells(self, painter) -> None:
        self.painter = painter

    def __getattr__(self, name: str):
        if name.startswith("_") or name == "paint_cells":
            raise AttributeError(name)

        def record(*args, **kwargs) -> None:
            if name in ("plot", "scatter"):
                for values in args:
                    assert all(math.isfinite(value) for value in values), f"{name} got {values}"
            self.calls.append((name, args, kwargs))

        return record

    def named(self, name: str) -> list[tuple[tuple, dict]]:
        return [(args, kwargs) for called, args, kwargs in self.calls if called == name]

    def text(self, name: str) -> str:
        return " ".join(str(args[0]) for args, _ in self.named(name))

    def lines(self, color) -> list[tuple[list[float], list[float]]]:
        return [args for args, kwargs in self.named("plot") if kwargs.get("color") == color]

    def marks(self, markers: str) -> list[tuple[float, float, str]]:
        return [
            (args[0][0], args[1][0], kwargs["marker"])
            for args, kwargs in self.named("scatter")
            if kwargs.get("marker") in markers
        ]


def draw(simulation: Simulation, history: History, view_name: str = "surface", **kwargs) -> RecordingPlt:
    plt = RecordingPlt(**kwargs)
    draw_view(plt, view_name, scene_for(simulation, history), ViewRange(), 100, 32, COLOR, SurfaceCache())
    return plt


# ------------------------------------------------------------------ the view
class TestViewRange:
    def test_fits_the_points_with_a_margin(self) -> None:
        view = ViewRange(margin=0.1)
        view.fit([0.0, 1.0], [0.0, 2.0])
        assert view.w[0] < 0.0 and view.w[1] > 1.0
        assert view.b[0] < 0.0 and view.b[1] > 2.0
        assert view.b == pytest.approx((-0.2, 2.2))

    def test_stays_put_while_the_point_is_inside(self) -> None:
        view = ViewRange()
        assert view.update((0.0, 0.0), [0.0, 1.0], [0.0, 1.0])
        before = (view.w, view.b)
        for w, b in [(0.5, 0.5), (1.0, 1.0), (0.01, 0.99)]:
            assert not view.update((w, b), [w - 100, w + 100], [b, b])
            assert (view.w, view.b) == before

    def test_re_ranges_when_the_point_leaves(self) -> None:
        view = ViewRange()
        view.update((0.0, 0.0), [0.0, 1.0], [0.0, 1.0])
        assert view.update((5.0, -3.0), [0.0, 1.0, 5.0], [0.0, 1.0, -3.0])
        assert view.contains(5.0, -3.0) and view.contains(0.0, 1.0)

    def test_reset_forgets_the_range(self) -> None:
        view = ViewRange()
        view.update((0.0, 0.0), [0.0, 1.0], [0.0, 1.0])
        view.reset()
        assert view.needs_update(0.5, 0.5)
        assert view.update((10.0, 10.0), [10.0, 11.0], [10.0, 11.0])
        assert not view.contains(0.0, 0.0)

    def test_ignores_non_finite_points(self) -> None:
        view = ViewRange()
        view.update((0.0, 0.0), [0.0, math.nan, 1.0, math.inf], [0.0, -math.inf, 1.0, None])
        assert all(map(math.isfinite, (*view.w, *view.b)))
        before = (view.w, view.b)
        for current in [(math.nan, 0.0), (math.inf, 1.0), (0.0, -math.inf)]:
            assert not view.update(current, [1e30], [1e30])
        assert (view.w, view.b) == before

    def test_only_non_finite_points_give_a_default_range(self) -> None:
        view = ViewRange()
        view.update((math.nan, math.nan), [math.inf], [math.nan])
        assert view.w == (-1.0, 1.0) and view.b == (-1.0, 1.0)

    def test_one_point_still_gets_room_around_it(self) -> None:
        view = ViewRange()
        view.update((2.0, None), [2.0], None)
        assert view.b is None
        assert view.w[0] < 2.0 < view.w[1]

    def test_the_surface_view_holds_start_optimum_and_next_step(self) -> None:
        simulation, history = run(Settings(), 5)
        plt = RecordingPlt()
        view = ViewRange()
        draw_view(plt, "surface", scene_for(simulation, history), view, 100, 32)
        peeked = simulation.peek()
        optimum = simulation.surface.optimum
        for w, b in [(0.0, 0.0), (optimum.w, optimum.b), (peeked.w_next, peeked.b_next)]:
            assert view.contains(w, b)

    def test_a_run_moves_the_view_only_when_the_point_leaves_it(self) -> None:
        simulation, history = run(Settings(), 0)
        view = ViewRange()
        changes = 0
        for _ in range(300):
            before = (view.w, view.b)
            was_inside = view.contains(simulation.w, simulation.b)
            draw_view(RecordingPlt(), "surface", scene_for(simulation, history), view, 100, 32)
            if (view.w, view.b) != before:
                changes += 1
                assert not was_inside
            assert view.contains(simulation.w, simulation.b)
            history.extend(simulation.run(1))
        assert changes <= 3

    def test_the_view_holds_an_epoch_thinned_out_of_the_track(self) -> None:
        simulation, history = run(Settings(), 1_500)
        drawn = set(Track.of(history).epochs.tolist())
        left_out = next(i for i in range(len(history)) if history.record(i).epoch not in drawn)
        far = History()
        for i in range(len(history)):
            record = history.record(i)
            far.append(replace(record, w=40.0, b=-30.0) if i == left_out else record)
        assert 40.0 not in Track.of(far).w.tolist()
        view = ViewRange()
        draw_view(RecordingPlt(), "surface", scene_for(simulation, history), view, 100, 32)
        assert not view.contains(40.0, -30.0)
        view = ViewRange()
        draw_view(RecordingPlt(), "surface", scene_for(simulation, far), view, 100, 32)
        assert view.contains(40.0, -30.0)

    def test_the_track_bounds_are_those_of_every_finite_start(self) -> None:
        simulation, history = run(Settings(), 1_000)
        records = [history.record(i) for i in range(len(history))]
        broken = History()
        for i, record in enumerate(records):
            broken.append(replace(record, w=math.nan, b=-math.inf) if i in (0, 500) else record)
        kept = [record for i, record in enumerate(records) if i not in (0, 500)]
        track = Track.of(broken)
        assert track.w_bounds == (min(r.w for r in kept), max(r.w for r in kept))
        assert track.b_bounds == (min(r.b for r in kept), max(r.b for r in kept))
        assert Track.of(History()).w_bounds is None
        nothing_finite = History()
        nothing_finite.append(replace(records[0], w=math.inf, b=math.nan))
        assert Track.of(nothing_finite).w_bounds is None and Track.of(nothing_finite).b_bounds is None


# ------------------------------------------------------------------ thinning
class TestThinning:
    def test_few_points_are_all_kept(self) -> None:
        assert thin_indices(5, limit=10).tolist() == [0, 1, 2, 3, 4]
        assert thin_indices(0).tolist() == []

    def test_long_runs_keep_first_last_and_recent_points(self) -> None:
        kept = thin_indices(10_001, limit=400, recent=100)
        assert len(kept) <= 400
        assert kept[0] == 0 and kept[-1] == 10_000
        assert kept[-100:].tolist() == list(range(9_901, 10_001))
        assert np.all(np.diff(kept) > 0)

    def test_a_long_path_is_drawn_thinned_with_its_ends_exact(self) -> None:
        simulation, history = run(Settings(), 1_500)
        plt = draw(simulation, history)
        (ws, bs), *_ = plt.lines(COLOR.map_path)
        assert len(ws) <= 400
        assert (ws[0], bs[0]) == (history.record(0).w, history.record(0).b)
        assert (ws[-1], bs[-1]) == (simulation.w, simulation.b)


# ------------------------------------------------------------------- arrows
class TestArrows:
    def test_the_step_arrow_ends_where_peek_lands(self) -> None:
        simulation, history = run(Settings(learning_rate=0.05), 3)
        peeked = simulation.peek()
        plt = draw(simulation, history)
        [(ws, bs)] = plt.lines(COLOR.map_step)
        assert (ws[0], bs[0]) == (simulation.w, simulation.b)
        assert (ws[-1], bs[-1]) == (peeked.w_next, peeked.b_next)
        assert [marker for *_, marker in plt.marks(STEP_HEADS)]

    def test_before_the_first_epoch_the_arrow_starts_at_the_start(self) -> None:
        simulation, history = run(Settings(init_w=-1.0, init_b=2.0, learning_rate=0.05), 0)
        peeked = simulation.peek()
        plt = draw(simulation, history)
        [(ws, bs)] = plt.lines(COLOR.map_step)
        assert (ws, bs) == ([-1.0, peeked.w_next], [2.0, peeked.b_next])
        [(w, b, _)] = plt.marks(NOW)
        assert (w, b) == pytest.approx((-1.0, 2.0), abs=0.1)  # in its cell (see test_markers_share_...)
        assert not plt.lines(COLOR.map_path)  # no path yet

    @pytest.mark.parametrize("optimizer", ["adam", "rmsprop"])
    def test_other_optimizers_show_their_actual_update(self, optimizer: str) -> None:
        simulation, history = run(Settings(optimizer=optimizer, learning_rate=0.1), 4)
        peeked = simulation.peek()
        [(ws, bs)] = draw(simulation, history).lines(COLOR.map_step)
        assert (ws[-1], bs[-1]) == (peeked.w_next, peeked.b_next)

    def test_zero_grad_off_adds_the_fresh_gradient_arrow(self) -> None:
        simulation, history = run(Settings(zero_grad=False, learning_rate=0.01), 6)
        peeked = simulation.peek()
        plt = draw(simulation, history)
        [(step_w, step_b)] = plt.lines(COLOR.map_step)
        [(fresh_w, fresh_b)] = plt.lines(COLOR.map_fresh)
        assert (step_w[-1], step_b[-1]) == (peeked.w_next, peeked.b_next)
        lr = peeked.learning_rate
        assert fresh_w[-1] == pytest.approx(peeked.w - lr * peeked.fresh_grad_w)
        assert fresh_b[-1] == pytest.approx(peeked.b - lr * peeked.fresh_grad_b)
        labels = [kwargs.get("label") for _, kwargs in plt.named("plot")]
        assert "step with the accumulated .grad" in labels
        assert "-lr × fresh gradient (this epoch)" in labels
        assert plt.marks(FRESH_HEADS)
        # the accumulated step outgrows this epoch's own gradient
        assert abs(step_w[-1] - step_w[0]) > abs(fresh_w[-1] - fresh_w[0])

    def test_without_bias_the_arrow_lands_on_the_curve_and_the_tangent_has_the_gradient(self) -> None:
        simulation, history = run(Settings(bias=False, learning_rate=0.15), 2)
        peeked = simulation.peek()
        surface = simulation.surface
        plt = draw(simulation, history)
        [(ws, costs)] = plt.lines(COLOR.step)
        assert (ws[0], costs[0]) == (peeked.w, peeked.cost)
        assert (ws[-1], costs[-1]) == (peeked.w_next, surface.cost(peeked.w_next))
        [(tangent_w, tangent_cost)] = plt.lines(COLOR.tangent)
        slope = (tangent_cost[1] - tangent_cost[0]) / (tangent_w[1] - tangent_w[0])
        assert slope == pytest.approx(peeked.fresh_grad_w)
        [(earlier_w, earlier_cost)] = [
            args for args, kwargs in plt.named("scatter") if kwargs.get("color") == COLOR.path
        ]
        assert earlier_w == pytest.approx([0.0, history.record(1).w], abs=0.05)
        assert earlier_cost == pytest.approx([history.record(0).cost, history.record(1).cost], abs=0.3)

    def test_a_short_step_still_shows_its_direction(self) -> None:
        simulation, history = run(Settings(), 300)
        plt = draw(simulation, history)
        [(x, y, head)] = plt.marks(STEP_HEADS)
        assert (x, y) != (simulation.w, simulation.b)

    def test_arrows_are_clipped_to_the_view(self) -> None:
        chart = frame(100, 32, (0.0, 1.0), (0.0, 1.0))
        assert clip_segment((0.5, 0.5), (0.7, 0.8), chart) == ((0.5, 0.5), (0.7, 0.8))
        assert clip_segment((0.5, 0.5), (1.5, 0.5), chart) == ((0.5, 0.5), (1.0, 0.5))
        assert clip_segment((2.0, 2.0), (3.0, 3.0), chart) is None
        assert clip_segment((0.5, 0.5), (math.nan, 0.5), chart) is None


# ---------------------------------------------------------------- robustness
class TestNonFinite:
    def test_a_diverged_run_draws_only_finite_points_and_says_so(self) -> None:
        simulation, history = run(Settings(learning_rate=1.0), 100)
        assert simulation.diverged
        for view_name in ("surface", "cost", "fit"):
            plt = draw(simulation, history, view_name)  # RecordingPlt refuses non-finite numbers
            title = plt.text("title")
            assert f"diverged at epoch {simulation.diverged_at}" in title
            assert "learning rate 1 is above the stability limit 0.18" in title
            assert not plt.marks(STEP_HEADS)

    def test_nan_in_the_history_is_left_out(self) -> None:
        simulation, history = run(Settings(), 3)
        nan = math.nan
        broken = replace(history.record(-1), epoch=3, w=nan, b=nan, cost=nan, w_next=nan, b_next=nan)
        history.append(broken)
        for view_name in ("surface", "cost", "fit"):
            draw(simulation, history, view_name)

    @pytest.mark.parametrize(
        ("settings", "reason"),
        [
            (Settings(zero_grad=False, learning_rate=0.1), "zero_grad is off, so .grad kept growing"),
            (Settings(momentum=0.9, learning_rate=0.1), "momentum added up the steps"),
        ],
    )
    def test_a_divergence_below_the_limit_names_the_likely_reason(
        self, settings: Settings, reason: str
    ) -> None:
        simulation, history = run(settings, 3)
        scene = replace(scene_for(simulation, history), next=None, diverged_at=2)
        titles = diverged_titles(scene)
        assert titles[0] == (
            f"diverged at epoch 2 — learning rate 0.1 is below the stability limit 0.18, but {reason}"
        )
        assert titles[-1] == "diverged at epoch 2"

    def test_render_to_text_survives_every_kind_of_run(self) -> None:
        for settings, epochs in [
            (Settings(learning_rate=1.0), 100),
            (Settings(bias=False, learning_rate=5.0), 100),
            (Settings(data="noisy", optimizer="adam", zero_grad=False), 30),
        ]:
            simulation, history = run(settings, epochs)
            for color in (True, False):
                assert render_for_terminal(race_of(simulation, history), 60, 20, color)


# ------------------------------------------------------------- plotext itself
class TestPlotext:
    def test_the_predicted_canvas_is_the_one_plotext_uses(self) -> None:
        simulation, history = run(Settings(), 10)
        for width, height in [(100, 32), (47, 13), (120, 40)]:
            figure = new_figure(width, height)
            draw_view(figure, "surface", scene_for(simulation, history), ViewRange(), width, height, MONO)
            figure.build()
            matrix = figure.monitor.matrix
            view = ViewRange()
            draw_view(RecordingPlt(), "surface", scene_for(simulation, history), view, width, height)
            chart = frame(width, height, view.w, view.b)
            assert (len(matrix.Cols_canvas), len(matrix.Rows_canvas)) == (chart.cols, chart.rows)

    def test_markers_share_the_cell_of_a_braille_line_through_their_point(self) -> None:
        rng = np.random.default_rng(0)
        chart = frame(60, 20, (-1.0, 3.0), (0.0, 2.0))
        xs, ys = rng.uniform(-1, 3, 300).tolist(), rng.uniform(0, 2, 300).tolist()
        cells = []
        for draw_point in (
            lambda plt: plt.scatter(xs, ys, marker="braille"),
            lambda plt: plt.scatter(*chart.snap(xs, ys), marker="x"),
        ):
            figure = new_figure(60, 20)
            figure.xlim(*chart.x)
            figure.ylim(*chart.y)
            figure.xticks(*chart.x_ticks)
            figure.yticks(*chart.y_ticks)
            figure.title("t")
            figure.xlabel("x")
            draw_point(figure)
            figure.build()
            matrix = figure.monitor.matrix
            cells.append(
                {
                    (col, row)
                    for row in matrix.Rows_canvas
                    for col in matrix.Cols_canvas
                    if matrix.marker[row][col] != " "
                }
            )
        assert cells[0] == cells[1]

    def test_the_map_is_painted_on_every_canvas_cell(self) -> None:
        simulation, history = run(Settings(), 10)
        figure = new_figure(100, 32)
        draw_view(figure, "surface", scene_for(simulation, history), ViewRange(), 100, 32, COLOR)
        figure.build()
        matrix = figure.monitor.matrix
        painted = {matrix.background[row][col] for row in matrix.Rows_canvas for col in matrix.Cols_canvas}
        assert painted <= set(COLOR.levels) and len(painted) >= 5

    def test_the_optimum_sits_on_the_lowest_level(self) -> None:
        simulation, history = run(Settings(data="noisy"), 10)
        figure = new_figure(100, 32)
        draw_view(figure, "surface", scene_for(simulation, history), ViewRange(), 100, 32, COLOR)
        figure.build()
        matrix = figure.monitor.matrix
        [(row, col)] = [
            (row, col)
            for row in matrix.Rows_canvas
            for col in matrix.Cols_canvas
            if matrix.marker[row][col] == OPTIMUM
        ]
        assert matrix.background[row][col] == COLOR.levels[0]

    def test_the_map_is_computed_once_while_range_and_size_stay(self) -> None:
        simulation, history = run(Settings(), 10)
        view, cache = ViewRange(), SurfaceCache()
        for _ in range(3):
            figure = new_figure(100, 32)
            draw_view(figure, "surface", scene_for(simulation, history), view, 100, 32, COLOR, cache)
            figure.build()
            history.extend(simulation.run(1))
        assert cache.builds == 1

    def test_without_painting_the_levels_are_drawn_as_characters(self) -> None:
        simulation, history = run(Settings(), 10)
        plt = draw(simulation, history, can_paint=False)
        level_colors = {
            kwargs["color"] for _, kwargs in plt.named("scatter") if kwargs["color"] in COLOR.levels
        }
        assert len(level_colors) >= 5


# ---------------------------------------------------------------- the CLI text
class TestRenderForTerminal:
    def test_bias_run_shows_cost_then_surface(self) -> None:
        simulation, history = run(Settings(epochs=200), 201)
        text = render_for_terminal(race_of(simulation, history), 100, 40, color=False)
        lines = text.splitlines()
        assert len(lines) == 40 and max(map(len, lines)) <= 100
        assert text.index("cost per epoch (log scale)") < text.index("cost J(W, b)")
        assert f"{NOW} now" in text and f"{OPTIMUM} optimum" in text
        assert "lr 0.01 · plain GD stable below 0.18" in text
        assert "\x1b[" not in text

    def test_colour_is_kept_when_asked(self) -> None:
        simulation, history = run(Settings(), 20)
        assert "\x1b[48;2;" in render_for_terminal(race_of(simulation, history), 80, 30, color=True)

    def test_no_bias_run_shows_the_curve(self) -> None:
        simulation, history = run(Settings(bias=False, learning_rate=0.15), 5)
        text = render_for_terminal(race_of(simulation, history), 100, 40, color=False)
        assert "cost J(W)" in text and "tangent: slope = gradient" in text
        assert "cost J(W, b)" not in text

    def test_diverged_run_names_the_limit(self) -> None:
        simulation, history = run(Settings(learning_rate=1.0), 100)
        text = render_for_terminal(race_of(simulation, history), 100, 40, color=False)
        expected = (
            f"diverged at epoch {simulation.diverged_at} — learning rate 1 is above the stability limit 0.18"
        )
        assert text.count(expected) == 2

    def test_zero_grad_off_names_both_arrows(self) -> None:
        simulation, history = run(Settings(zero_grad=False), 5)
        text = render_for_terminal(race_of(simulation, history), 100, 40, color=False)
        assert "step with the accumulated .grad" in text
        assert "-lr × fresh gradient (this epoch)" in text

    def test_narrow_terminals_keep_the_axis_labels(self) -> None:
        simulation, history = run(Settings(), 20)
        text = render_for_terminal(race_of(simulation, history), 50, 24, color=False)
        last_line = text.splitlines()[-1]
        assert last_line.startswith("b") and " W " in last_line

    def test_an_empty_history_still_draws(self) -> None:
        simulation, history = run(Settings(), 0)
        text = render_for_terminal(race_of(simulation, history), 80, 30, color=False)
        assert "cost J(W, b)" in text and NOW in text


def test_records_made_by_hand_work_too() -> None:
    """History is the only source; a record's optional fields may be None without bias."""
    simulation, history = run(Settings(bias=False), 0)
    history.append(EpochRecord(0, 0.0, None, 4.6, -9.3, None, 0.09, None, -9.3, None, 0.01))
    draw(simulation, history, "surface")
    draw(simulation, history, "cost")


# ------------------------------------------------------------------- layers
LAYERS = ("palette", "canvas", "scene", "geometry", "marks", "titles", "views")


def test_each_charts_module_imports_only_the_layers_below_it() -> None:
    """And only the canvas reaches into plotext's private modules."""
    package = Path(lrtui.charts.__file__).parent
    assert sorted(path.stem for path in package.glob("*.py")) == sorted([*LAYERS, "__init__"])
    for level, layer in enumerate(LAYERS):
        tree = ast.parse((package / f"{layer}.py").read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                assert node.module in LAYERS[:level], f"{layer} imports .{node.module}"
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            if layer != "canvas":
                assert not any(name.startswith("plotext._") for name in names), f"{layer} imports {names}"
