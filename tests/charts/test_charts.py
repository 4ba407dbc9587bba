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
    build_chart,
    clip_segment,
    diverged_titles,
    draw_view,
    frame,
    new_figure,
    render_for_terminal,
    scene_of,
    thin_indices,
)
from lrtui.charts.geometry import Frame
from lrtui.charts.marks import (
    FIT_LINE,
    FRESH_LINE,
    LEAST_SQUARES_LINE,
    PATH_LINE,
    RIVAL_LINE,
    STEP_LINE,
    TANGENT_LINE,
    dash_dots,
)
from lrtui.charts.palette import DIVERGED, SOLID
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

    def dots(self, color) -> tuple[list[float], list[float]]:
        """The braille dots of the one dashed or dotted line drawn in this colour."""
        [(xs, ys)] = [
            args
            for args, kwargs in self.named("scatter")
            if kwargs.get("color") == color and kwargs.get("marker") == "braille"
        ]
        return xs, ys

    def marks(self, markers: str) -> list[tuple[float, float, str]]:
        return [
            (args[0][0], args[1][0], kwargs["marker"])
            for args, kwargs in self.named("scatter")
            if kwargs.get("marker") in markers
        ]


def points(ws: list[float], bs: list[float | None] | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Points as ``ViewRange.keep`` takes them (None stands for a missing b)."""
    as_floats = lambda values: np.array([math.nan if v is None else v for v in values], dtype=float)  # noqa: E731
    return as_floats(ws), None if bs is None else as_floats(bs)


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

    def test_stays_put_while_the_points_that_must_show_are_inside(self) -> None:
        view = ViewRange()
        assert view.keep(points([0.0], [0.0]), points([0.0, 1.0], [0.0, 1.0]))
        before = (view.w, view.b)
        for w, b in [(0.5, 0.5), (1.0, 1.0), (0.01, 0.99)]:
            assert not view.keep(points([w], [b]), points([w - 100, w + 100], [b, b]))
            assert (view.w, view.b) == before

    def test_widens_with_room_ahead_on_the_side_a_point_left_by(self) -> None:
        view = ViewRange(margin=0.1, lead=0.5)
        view.w, view.b = (0.0, 1.0), (0.0, 1.0)
        assert view.keep(points([0.9, 1.5], [0.5, 0.5]), points([0.2, 1.5], [0.5, 0.5]))
        assert view.b == (0.0, 1.0)  # nothing left it across b
        low, high = view.w
        assert low == 0.0  # never narrower, and no jump on the other side
        wanted_high = 0.85 + 0.65 * 1.2  # the held points with the margin
        assert high == pytest.approx(wanted_high + 0.5 * wanted_high)
        assert view.contains(1.5, 0.5) and view.contains(0.0, 0.0)

    def test_re_ranges_when_the_next_step_would_leave(self) -> None:
        view = ViewRange()
        view.keep(points([0.0], [0.0]), points([0.0, 1.0], [0.0, 1.0]))
        assert view.keep(points([0.5, 5.0], [0.5, -3.0]), points([0.0, 1.0, 5.0], [0.0, 1.0, -3.0]))
        assert view.contains(5.0, -3.0) and view.contains(0.0, 1.0)

    def test_reset_forgets_the_range(self) -> None:
        view = ViewRange()
        view.keep(points([0.0], [0.0]), points([0.0, 1.0], [0.0, 1.0]))
        view.reset()
        assert view.keep(points([10.0], [10.0]), points([10.0, 11.0], [10.0, 11.0]))
        assert not view.contains(0.0, 0.0)

    def test_ignores_non_finite_points(self) -> None:
        view = ViewRange()
        view.keep(points([0.0], [0.0]), points([0.0, math.nan, 1.0, math.inf], [0.0, -math.inf, 1.0, None]))
        assert all(map(math.isfinite, (*view.w, *view.b)))
        before = (view.w, view.b)
        for w, b in [(math.nan, 0.0), (math.inf, 1.0), (0.0, -math.inf)]:
            assert not view.keep(points([w], [b]), points([1e30], [1e30]))
        assert (view.w, view.b) == before

    def test_only_non_finite_points_give_a_default_range(self) -> None:
        view = ViewRange()
        view.keep(points([math.nan], [math.nan]), points([math.inf], [math.nan]))
        assert view.w == (-1.0, 1.0) and view.b == (-1.0, 1.0)

    def test_one_point_still_gets_room_around_it(self) -> None:
        view = ViewRange()
        view.keep(points([2.0]), points([2.0]))
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

    @pytest.mark.parametrize(
        "settings",
        [
            Settings(data="noisy", init_w=10.0, init_b=-5.0, learning_rate=0.1, zero_grad=False),
            Settings(zero_grad=False),
            Settings(zero_grad=False, learning_rate=0.05),
            Settings(zero_grad=False, learning_rate=0.1),
            Settings(),
            Settings(momentum=0.9, learning_rate=0.1),
            Settings(bias=False, learning_rate=0.15, zero_grad=False),
        ],
    )
    def test_frame_by_frame_the_point_and_its_next_step_stay_in_a_steady_view(self, settings) -> None:
        """Drawn after every epoch of 200: the current point and the end of the step about to be
        taken are always inside, and the view re-ranges in a handful of frames only, each
        time because one of them would have left it."""
        simulation, history = run(settings, 0)
        view = ViewRange()
        changes = []
        for epoch in range(200):
            peeked = simulation.peek()
            must = [(simulation.w, simulation.b), (peeked.w_next, peeked.b_next)]
            before = (view.w, view.b)
            would_leave = not all(view.contains(w, b) for w, b in must)
            draw_view(RecordingPlt(), "surface", scene_for(simulation, history), view, 100, 32)
            if (view.w, view.b) != before:
                changes.append(epoch)
                assert would_leave
            for w, b in must:
                assert view.contains(w, b), (epoch, w, b, view.w, view.b)
            history.extend(simulation.run(1))
        assert changes[0] == 0 and len(changes) <= 6, changes

    def test_a_run_blowing_up_is_followed_without_re_ranging_every_frame(self) -> None:
        """lr 0.25 on the line data (limit 0.18): each step 1.8 times longer than the one before."""
        simulation, history = run(Settings(learning_rate=0.25), 0)
        view = ViewRange()
        changes = frames = 0
        while not simulation.diverged:
            peeked = simulation.peek()
            before = (view.w, view.b)
            draw_view(RecordingPlt(), "surface", scene_for(simulation, history), view, 100, 32)
            changes += (view.w, view.b) != before
            frames += 1
            for w, b in [(simulation.w, simulation.b), (peeked.w_next, peeked.b_next)]:
                assert not (math.isfinite(w) and math.isfinite(b)) or view.contains(w, b)
            history.extend(simulation.run(1))
        assert frames > 50 and changes <= frames / 2

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
        simulation, history = run(Settings(zero_grad=False, learning_rate=0.01), 2)
        peeked = simulation.peek()
        plt = draw(simulation, history)
        [(step_w, step_b)] = plt.lines(COLOR.map_step)  # solid: one line
        assert (step_w[0], step_b[0]) == (simulation.w, simulation.b)
        assert (step_w[-1], step_b[-1]) == (peeked.w_next, peeked.b_next)
        dots_w, dots_b = plt.dots(COLOR.map_fresh)
        lr = peeked.learning_rate
        fresh = (peeked.w - lr * peeked.fresh_grad_w, peeked.b - lr * peeked.fresh_grad_b)
        assert (dots_w[0], dots_b[0]) == pytest.approx(fresh)  # dashed from the head: a dash reaches it
        for w, b in zip(dots_w, dots_b, strict=True):  # on the segment from the point to -lr x gradient
            across = (w - simulation.w) * (fresh[1] - simulation.b) - (b - simulation.b) * (
                fresh[0] - simulation.w
            )
            assert across == pytest.approx(0.0, abs=1e-9)
        gaps = np.abs(np.diff(dots_w))
        assert gaps.max() > 2 * gaps.min()  # dashed: the dots of a dash, then a gap
        [(*_, step_head)] = plt.marks(STEP_HEADS)
        [(*_, fresh_head)] = plt.marks(FRESH_HEADS)
        assert step_head != fresh_head
        # the accumulated step outgrows this epoch's own gradient
        assert abs(step_w[-1] - step_w[0]) > abs(fresh[0] - simulation.w)

    def test_two_short_arrows_the_same_way_keep_both_heads(self) -> None:
        """As in lesson 4 (lr 1e-7): both arrows are far shorter than a cell and point the same
        way; the longer one's head (the accumulated .grad's) goes one cell further out."""
        simulation, history = run(Settings(zero_grad=False, learning_rate=1e-7), 2)
        plt = draw(simulation, history)
        [(step_x, step_y, _)] = plt.marks(STEP_HEADS)
        [(fresh_x, fresh_y, _)] = plt.marks(FRESH_HEADS)
        assert (step_x, step_y) != (fresh_x, fresh_y)
        assert step_x - simulation.w > fresh_x - simulation.w > 0

    def test_without_bias_the_arrow_lands_on_the_curve_and_the_tangent_has_the_gradient(self) -> None:
        simulation, history = run(Settings(bias=False, learning_rate=0.15), 2)
        peeked = simulation.peek()
        surface = simulation.surface
        plt = draw(simulation, history)
        [(ws, costs)] = plt.lines(COLOR.step)
        assert (ws[0], costs[0]) == (peeked.w, peeked.cost)
        assert (ws[-1], costs[-1]) == (peeked.w_next, surface.cost(peeked.w_next))
        assert not plt.lines(COLOR.tangent)  # dotted
        tangent_w, tangent_cost = plt.dots(COLOR.tangent)
        slope = (tangent_cost[-1] - tangent_cost[0]) / (tangent_w[-1] - tangent_w[0])
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
        ("settings", "title"),
        [
            (Settings(zero_grad=False, learning_rate=0.1), "zero_grad is off, so .grad kept growing"),
            (
                Settings(learning_rate=0.1),
                "learning rate 0.1 is below the stability limit 0.18, but W and b had already grown huge",
            ),
            (
                Settings(momentum=0.9, learning_rate=0.1),
                "learning rate 0.1 is below the stability limit 0.343, but W, b or the momentum had already "
                "grown huge",
            ),
            (
                Settings(momentum=0.9, learning_rate=0.4),
                "learning rate 0.4 is above 0.343, the stability limit of SGD momentum 0.9",
            ),  # fmt: skip
            (
                Settings(optimizer="adam", learning_rate=0.1),
                "Adam's steps grow with lr, and lr 0.1 is too large here",
            ),
        ],
    )
    def test_a_divergence_names_the_likely_reason_and_only_the_limit_that_applies(
        self, settings: Settings, title: str
    ) -> None:
        simulation, history = run(settings, 3)
        scene = replace(scene_for(simulation, history), next=None, diverged_at=2)
        titles = diverged_titles(scene)
        assert titles[0] == f"diverged at epoch 2 — {title}"
        assert titles[-1] == "diverged at epoch 2"
        if settings.optimizer == "adam" or not settings.zero_grad:
            assert not any("limit" in text for text in titles)

    def test_render_to_text_survives_every_kind_of_run(self) -> None:
        for settings, epochs in [
            (Settings(learning_rate=1.0), 100),
            (Settings(bias=False, learning_rate=5.0), 100),
            (Settings(data="noisy", optimizer="adam", zero_grad=False), 30),
        ]:
            simulation, history = run(settings, epochs)
            for color in (True, False):
                assert render_for_terminal(race_of(simulation, history), 60, 20, color)


# ------------------------------------------------------- keys and monochrome
NOISY_CIRCLING = Settings(data="noisy", init_w=10.0, init_b=-5.0, learning_rate=0.1, zero_grad=False)


def a_race(epochs: int = 20) -> Race:
    race = Race.of(NOISY_CIRCLING.with_changes(zero_grad=True))
    race.add(NOISY_CIRCLING.with_changes(optimizer="adam", zero_grad=True))
    race.add(NOISY_CIRCLING)
    race.step(epochs)
    return race


def plot_rows(text: str) -> list[str]:
    """The rows of a built chart between the top and the bottom of its box."""
    lines = text.splitlines()
    top = next(i for i, line in enumerate(lines) if "┌" in line)
    bottom = next(i for i, line in enumerate(lines) if "└" in line)
    return lines[top + 1 : bottom]


class TestKeysAndMonochrome:
    @pytest.mark.parametrize("view_name", ["surface", "cost", "fit"])
    @pytest.mark.parametrize("race_of", ["one", "three", "no bias"])
    def test_no_chart_hands_plotext_a_label_for_a_legend_over_the_plot(self, view_name, race_of) -> None:
        if race_of == "three":
            race = a_race()
        else:
            race = Race.of(NOISY_CIRCLING.with_changes(bias=race_of == "one"))
            race.step(9)
        plt = RecordingPlt()
        draw_view(plt, view_name, scene_of(race), ViewRange(), 100, 32, COLOR, SurfaceCache())
        assert plt.calls and not [kwargs for _, _, kwargs in plt.calls if "label" in kwargs]

    @pytest.mark.parametrize("size", [(100, 32), (60, 16), (44, 12)])
    def test_the_arrows_key_is_in_the_title_line_and_nothing_written_over_the_plot(self, size) -> None:
        race = Race.of(NOISY_CIRCLING)
        race.step(9)
        text = build_chart("surface", scene_of(race), ViewRange(), *size, color=False)
        title = text.splitlines()[0]
        assert STEP_HEADS[0] in title and f"╌{FRESH_HEADS[0]}" in title and "fresh" in title
        for row in plot_rows(text):
            assert not any(word in row for word in ("fresh", "grad", "step", "optimum", "now"))

    def test_without_colour_each_mark_has_its_own_glyph(self) -> None:
        """The issue's frame: noisy data, zero_grad off, epoch 9, drawn with the MONO palette."""
        race = Race.of(NOISY_CIRCLING)
        race.step(9)
        text = build_chart("surface", scene_of(race), ViewRange(), 100, 32, color=False)
        inside = "\n".join(plot_rows(text))
        step = [head for head in STEP_HEADS if head in inside]
        fresh = [head for head in FRESH_HEADS if head in inside]
        assert NOW in inside and OPTIMUM in inside and len(step) == 1 and len(fresh) == 1
        glyph_sets = [
            {NOW},
            {OPTIMUM},
            {DIVERGED},
            set(STEP_HEADS),
            set(FRESH_HEADS),
            set(MONO.level_marks) - {" "},
        ]
        for index, glyphs in enumerate(glyph_sets):
            assert all(glyphs.isdisjoint(others) for others in glyph_sets[index + 1 :])
        # and each of them is keyed in the title
        title = text.splitlines()[0]
        assert all(glyph in title for glyph in (NOW, OPTIMUM, STEP_HEADS[0], FRESH_HEADS[0]))

    def test_without_colour_a_race_labels_each_rival_path_with_its_letter(self) -> None:
        text = build_chart("surface", scene_of(a_race()), ViewRange(), 100, 32, color=False)
        inside = "\n".join(plot_rows(text))
        assert NOW in inside
        for letter in "BC":
            assert letter in inside and letter.lower() in inside

    def test_without_colour_a_divergence_marks_the_last_finite_point(self) -> None:
        race = Race.of(Settings(learning_rate=1.0))
        race.step(100)
        text = build_chart("surface", scene_of(race), ViewRange(), 100, 32, color=False)
        assert DIVERGED in "\n".join(plot_rows(text)) and NOW not in text

    def test_the_lines_of_a_chart_differ_in_style_where_colour_would_tell_them_apart(self) -> None:
        assert STEP_LINE != FRESH_LINE  # the two arrows of zero_grad off (with different heads too)
        assert PATH_LINE != RIVAL_LINE  # the run being driven, the others (lettered too)
        assert TANGENT_LINE != SOLID  # against the curve J(W)
        assert FIT_LINE != LEAST_SQUARES_LINE and RIVAL_LINE not in (FIT_LINE, LEAST_SQUARES_LINE)
        assert set(STEP_HEADS).isdisjoint(FRESH_HEADS)

    def test_dashes_follow_the_pattern_along_the_line_as_it_looks(self) -> None:
        chart = Frame((0.0, 100.0), (0.0, 20.0), ([], []), ([], []), cols=101, rows=21)  # a unit a cell
        across, _ = dash_dots([0.0, 10.0], [0.0, 0.0], chart, (2.0, 1.5))  # dots half a column apart
        assert across == [0.0, 0.5, 1.0, 1.5, 3.5, 4.0, 4.5, 5.0, 7.0, 7.5, 8.0, 8.5]
        _, upward = dash_dots([0.0, 0.0], [0.0, 3.0], chart, (2.0, 1.5))  # a row is two columns tall
        assert upward == pytest.approx([0.0, 0.25, 0.5, 0.75, 1.75, 2.0, 2.25, 2.5])
        dotted, _ = dash_dots([0.0, 10.0], [0.0, 0.0], chart, (0.5, 1.5))
        assert dotted == [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]


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

    def test_zero_grad_off_names_both_arrows_in_the_title(self) -> None:
        simulation, history = run(Settings(zero_grad=False), 5)
        text = render_for_terminal(race_of(simulation, history), 100, 40, color=False)
        [title] = [line for line in text.splitlines() if "fresh gradient" in line]
        assert f"{STEP_HEADS[0]} step with .grad  ╌{FRESH_HEADS[0]} fresh gradient" in title
        assert "cost J(W, b)" in title

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
LAYERS = ("palette", "canvas", "scene", "units", "slices", "geometry", "marks", "titles", "views")


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
