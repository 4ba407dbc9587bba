"""The curvature on the chart: the principal axes, κ with the predicted and actual epochs in
the notes, the heavy-ball contender (h) and the switch between x' and raw x (t)."""

from __future__ import annotations

import numpy as np
import pytest
from app_support import log_text, make_app, settle

from lrtui.charts.marks import principal_axes
from lrtui.charts.scene import scene_of
from lrtui.charts.titles import curvature_notes, surface_titles
from lrtui.charts.units import in_x_units
from lrtui.engine import Settings
from lrtui.engine.curvature import curvature_of, heavy_ball_changes, predicted_epochs
from lrtui.engine.race import Race, contender_settings
from lrtui.engine.scaling import standardized

SIZE = (120, 40)


def test_the_axes_are_the_hessians_eigenvectors_through_the_optimum() -> None:
    scene = scene_of(Race.of(Settings(data="scaled")))
    axes = principal_axes(scene)
    assert axes is not None
    (w, b), steep, shallow = axes
    optimum = scene.surface.optimum
    assert (w, b) == (optimum.w, optimum.b)
    curvature = curvature_of(scene.surface)
    np.testing.assert_allclose(curvature.hessian @ steep, curvature.lambda_max * np.array(steep), rtol=1e-9)
    np.testing.assert_allclose(
        curvature.hessian @ shallow, curvature.lambda_min * np.array(shallow), atol=1e-9
    )
    assert "steep/shallow axes" in surface_titles(scene)[0]
    # none for L1 (no curvature) and none without bias (a curve, not a surface)
    assert principal_axes(scene_of(Race.of(Settings(data="outliers", loss="l1")))) is None
    assert principal_axes(scene_of(Race.of(Settings(bias=False)))) is None


def test_the_notes_give_kappa_and_the_predicted_and_actual_epochs() -> None:
    race = Race.of(Settings(data="noisy", learning_rate=0.1, epochs=100))
    scene = scene_of(race)
    kappa = curvature_of(scene.surface).condition_number
    predicted = predicted_epochs(scene.surface, 0.1, (0.0, 0.0))
    assert scene.predicted == predicted and scene.reached_at is None
    assert curvature_notes(scene)[0].startswith(f"κ {kappa:.3g} ·")
    assert f"predicted at epoch {predicted}, reached not yet" in curvature_notes(scene)[0]
    race.step(60)
    scene = scene_of(race)
    assert scene.reached_at is not None and abs(scene.reached_at - predicted) <= 2
    assert f"reached {scene.reached_at}" in curvature_notes(scene)[0]


@pytest.mark.parametrize("optimizer", ["adagrad", "rmsprop", "adam"])
def test_adaptive_optimizers_are_told_the_formulas_are_for_sgd(optimizer: str) -> None:
    notes = curvature_notes(scene_of(Race.of(Settings(optimizer=optimizer, learning_rate=0.1))))
    assert "plain and momentum SGD" in notes[0]


def test_the_heavy_ball_contender_runs_the_predicted_pair() -> None:
    race = Race.of(Settings())
    curvature = curvature_of(race.leader.surface)
    changes = heavy_ball_changes(race.leader.surface)
    assert changes is not None
    settings = contender_settings(race.leader.settings, changes)
    assert settings.momentum == pytest.approx(curvature.momentum_beta, rel=1e-3)
    assert settings.learning_rate == pytest.approx(curvature.momentum_lr, rel=1e-3)
    assert heavy_ball_changes(Race.of(Settings(loss="l1")).leader.surface) is None


async def test_h_races_heavy_ball_and_it_arrives_when_predicted() -> None:
    app = make_app(Settings(epochs=200))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("h")
        await settle(pilot)
        assert len(app.race) == 2
        rival = app.race.rivals[0]
        assert rival.settings.momentum > 0
        logged = log_text(app)
        assert "heavy ball at the predicted β and lr" in logged
        predicted = int(logged.split("reach the minimum at epoch ")[1].split()[0])
        app.race.step(100)
        costs = np.frombuffer(rival.history.columns["cost"], dtype=np.float64)
        reached = int(np.flatnonzero(costs - rival.surface.optimum.cost <= 1e-6)[0])
        assert abs(reached - predicted) <= 2


def test_in_x_units_maps_the_path_onto_raw_x() -> None:
    race = Race.of(Settings(data="scaled", standardize=True, learning_rate=0.3))
    race.step(5)
    scene = scene_of(race)
    raw = in_x_units(scene)
    scaling = standardized(race.leader.dataset).scaling
    assert (raw.w, raw.b) == scaling.original(scene.w, scene.b)
    np.testing.assert_array_equal(raw.track.w, scene.track.w / scaling.std)
    assert raw.surface.sums == race.leader.dataset.sums  # the raw x's cost
    assert (
        curvature_of(raw.surface).condition_number > 1000 > 1.1 > curvature_of(scene.surface).condition_number
    )
    # the point in x's units sits on raw x's surface at the same cost as on x'
    assert raw.surface.cost(raw.w, raw.b) == pytest.approx(scene.surface.cost(scene.w, scene.b), rel=1e-5)


async def test_t_switches_the_surface_of_a_standardized_run() -> None:
    app = make_app(Settings(data="scaled", standardize=True, learning_rate=0.3))
    async with app.run_test(size=SIZE) as pilot:
        chart = app.run_screen.chart
        assert not chart.scene().raw_x
        await pilot.press("t")
        await settle(pilot)
        assert chart.scene().raw_x
        await pilot.press("t")
        await settle(pilot)
        assert not chart.scene().raw_x


async def test_t_without_standardize_says_what_it_is_for() -> None:
    app = make_app(Settings())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("t")
        await settle(pilot)
        assert not app.run_screen.chart.scene().raw_x
        assert any("--standardize" in str(n.message) for n in app._notifications)


def test_the_axes_are_named_whole_where_the_path_runs_along_them() -> None:
    """Gradient descent runs along the steep axis first: the names are drawn over the path, so
    the path does not leave a stray letter or two of "steep"."""
    from lrtui.charts import ViewRange, build_chart

    race = Race.of(Settings(learning_rate=1.0, epochs=100))  # diverges along the steep axis
    race.step(100)
    text = build_chart("surface", scene_of(race), ViewRange(), 110, 30, color=False)
    assert "steep" in text and "shallow" in text
    # nor a rival's path, nor the letter repeated along it ("stbep")
    base = Settings(data="noisy", batch_size=10, shuffle=True, learning_rate=0.1)
    race = Race.of(base, [contender_settings(base, "batch-size=50")])
    race.step(10)
    for width in range(60, 130, 6):
        assert "steep" in build_chart("surface", scene_of(race), ViewRange(), width, 20, color=False), width


@pytest.mark.parametrize("span", [(0.0, 1.0), (2.6, 4.55), (-1.3e20, 2.5e19), (3.0, 4.5)])
def test_a_name_on_the_chart_takes_one_cell_a_letter(span: tuple[float, float]) -> None:
    """Each letter one cell after the last, at any width and wherever the name starts (each
    letter snapped on its own could skip a cell: "ste ep")."""
    import plotext

    from lrtui.charts.canvas import new_figure
    from lrtui.charts.geometry import frame, setup_axes
    from lrtui.charts.marks import write_along

    low, high = span
    for width in range(50, 130, 3):
        figure = new_figure(width, 20)
        chart = frame(width, 20, span, (0.0, 1.0))
        setup_axes(figure, chart, width, "W", "b", [], ["names"])
        for row in range(8):
            write_along(
                figure, chart, "steep", low + (high - low) * (0.05 + 0.09 * row), 0.1 + 0.1 * row, "white"
            )
        assert plotext.uncolorize(figure.build()).count("steep") == 8, width
