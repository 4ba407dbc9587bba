"""Guided lessons: presets, goals checked against plain torch, text in two languages, keys and flags."""

from __future__ import annotations

import sys

import numpy as np
import plain_torch as pt
import pytest
from app_support import log_text, make_app, shown_text
from cli_support import invoke_main

from lrtui.app.widgets.lessons import LessonPicker
from lrtui.engine import Settings, Simulation
from lrtui.engine.run import Run
from lrtui.lessons import (
    LessonError,
    catalog,
    find_lesson,
    goal_met,
    language_from_environment,
    languages,
    lessons,
)

# What each lesson must start from, as the lessons set it up.
PRESETS = {
    "raw-tensors": Settings(data="line", model="raw", learning_rate=0.01, epochs=1000, log_every=100),
    "nn-linear": Settings(
        data="line",
        model="linear",
        seed=1,
        learning_rate=0.01,
        epochs=1000,
        log_every=100,
        print_style="loss",
    ),
    "deeper-look": Settings(
        data="line", bias=False, learning_rate=0.15, epochs=10, log_every=1, print_style="before-step"
    ),
    "zero-grad": Settings(data="line", learning_rate=1e-7, epochs=10, log_every=1),
    "sum-vs-mean": Settings(
        data="double", model="linear", seed=1, learning_rate=0.01, epochs=500, log_every=100
    ),
    "noisy-limit": Settings(
        data="noisy", init_w=10.0, init_b=-5.0, learning_rate=0.1, epochs=1000, log_every=100
    ),
    "mini-batches": Settings(
        data="noisy", init_w=10.0, init_b=-5.0, learning_rate=0.1, batch_size=100, epochs=20, log_every=1
    ),
    "lr-schedule": Settings(
        data="noisy", init_w=10.0, init_b=-5.0, learning_rate=1.0, epochs=100, log_every=10
    ),
    "why-slow": Settings(data="scaled", learning_rate=0.01, epochs=10000, log_every=1000),
    "backward": Settings(data="line", model="raw", learning_rate=0.01, epochs=1000, log_every=100),
    "several-features": Settings(data="scores", learning_rate=1e-5, epochs=20, log_every=1),
    "weight-decay": Settings(data="noisy", optimizer="adam", learning_rate=0.1, epochs=300, log_every=50),
}


def lesson(name: str):
    return find_lesson(name)


def met_at(name: str, epochs: int | None = None, **changes) -> int | None:
    """The first epoch after which the lesson's goal holds, driving the engine as the learner would."""
    chosen = lesson(name)
    run = Run(chosen.settings.with_changes(**changes))
    for _ in range((epochs if epochs is not None else chosen.settings.epochs) + 1):
        if not run.running:
            break
        record = run.step()
        if goal_met(chosen.goal, run):
            return record.epoch
    return None


def test_why_slow_goal_needs_standardized_x_reaching_the_minimum_when_predicted() -> None:
    from lrtui.engine.curvature import curvature_of, predicted_for, start_point

    settings = lesson("why-slow").settings
    raw = Simulation(settings).surface
    assert settings.learning_rate > raw.stability_limit  # the lesson starts past the wall
    assert met_at("why-slow", 300) is None
    assert met_at("why-slow", 300, learning_rate=0.9 * raw.stability_limit) is None  # raw x: crawls
    standardized = settings.with_changes(standardize=True, learning_rate=0.5)
    predicted = predicted_for(Simulation(standardized).surface, standardized, start_point(standardized))
    assert predicted is not None and predicted < 10
    assert met_at("why-slow", 100, standardize=True, learning_rate=0.5) == predicted
    assert met_at("why-slow", 100, standardize=True, learning_rate=0.01) is None  # too slow for 50 epochs
    # the heavy-ball pair of the exercise arrives within its prediction on raw x
    curvature = curvature_of(raw)
    pair = settings.with_changes(momentum=curvature.momentum_beta, learning_rate=curvature.momentum_lr)
    run = Run(pair.with_changes(epochs=600))
    predicted_pair = predicted_for(run.surface, pair, start_point(pair))
    while run.running:
        run.step()
    reached = next(r.epoch for r in run.history if r.cost - raw.optimum.cost <= 1e-6)
    assert predicted_pair is not None and abs(reached - predicted_pair) <= 0.05 * predicted_pair


def test_several_features_goal_needs_standardized_scores_and_a_large_lr() -> None:
    settings = lesson("several-features").settings
    raw = Simulation(settings).surface
    assert settings.learning_rate < raw.stability_limit < 5e-5  # the lesson's lr is below the wall
    assert met_at("several-features") is None  # Lab 4-1 as it is: 1.6 after 20 epochs
    assert met_at("several-features", learning_rate=5e-5) is None  # past the limit: diverges
    assert met_at("several-features", standardize=True, learning_rate=0.05) is None  # too slow
    epoch = met_at("several-features", standardize=True, learning_rate=0.2)
    plain = pt.features_loop(*pt.scores_data(), 20, standardize=True, lr=0.2)
    first = next(record["epoch"] for record in plain if record["cost"] < 0.3)
    assert epoch == first <= 20
    assert pt.features_loop(*pt.scores_data(), 20)[-1]["cost"] > 1.0


# ------------------------------------------------------------------------ the catalog
def test_every_lesson_has_its_preset_and_words_in_english_and_korean() -> None:
    assert languages() == ["en", "ko"]
    english, korean = lessons("en"), lessons("ko")
    assert [item.id for item in english] == list(PRESETS) == [item.id for item in korean]
    for en, ko in zip(english, korean, strict=True):
        assert en.settings == PRESETS[en.id] == ko.settings
        assert all(en.text[key].strip() and ko.text[key].strip() for key in catalog.TEXT_KEYS)
        assert en.title != ko.title and any(
            "\uac00" <= ch <= "\ud7a3" for ch in ko.title + ko.text["explanation"]
        )


def test_a_translation_without_some_keys_falls_back_to_english(monkeypatch: pytest.MonkeyPatch) -> None:
    partial = '[ui]\ngoal = "But"\n[zero-grad]\ntitle = "Pourquoi zero_grad"\n'
    real = catalog._package_text
    monkeypatch.setattr(catalog, "languages", lambda: ["en", "ko", "xx"])
    monkeypatch.setattr(
        catalog, "_package_text", lambda name: partial if name == "text/xx.toml" else real(name)
    )
    catalog._texts.cache_clear()
    try:
        chosen = find_lesson("zero-grad", "xx")
        assert chosen.title == "Pourquoi zero_grad"
        assert chosen.text["exercise"] == find_lesson("zero-grad", "en").text["exercise"]
        assert catalog.ui_text("xx", "goal") == "But" and catalog.ui_text("xx", "open") == "not met yet"
    finally:
        catalog._texts.cache_clear()


def test_lessons_are_found_by_number_or_name_and_refused_otherwise() -> None:
    assert find_lesson("3").id == "deeper-look" and find_lesson("deeper-look").number == 3
    with pytest.raises(LessonError, match="no lesson '99'"):
        find_lesson("99")
    with pytest.raises(LessonError, match="no lessons in language 'fr'"):
        lessons("fr")


@pytest.mark.parametrize(
    ("environ", "code"),
    [
        ({"LANG": "ko_KR.UTF-8"}, "ko"),
        ({"LC_ALL": "fr_FR.UTF-8", "LANG": "ko_KR"}, "en"),
        ({}, "en"),
        ({"LANG": "C.UTF-8"}, "en"),
    ],
)
def test_the_language_comes_from_the_environment(environ: dict[str, str], code: str) -> None:
    assert language_from_environment(environ) == code


# --------------------------------------------------------------------------- the goals
def test_raw_tensors_goal_is_the_lessons_last_line() -> None:
    plain = pt.raw_loop(*pt.line_data(), 1000)
    assert plain[1000]["cost"] < 0.0002  # and the goal asks for all 1000 epochs
    assert met_at("raw-tensors") == 1000
    assert met_at("raw-tensors", epochs=999) is None


def test_nn_linear_goal() -> None:
    plain = pt.linear_loop(*pt.line_data(), 1000, seed=1)
    assert plain[1000]["cost"] < 0.0001
    assert met_at("nn-linear") == 1000


def test_deeper_look_goal_is_met_when_w_settles_at_one() -> None:
    plain = pt.raw_loop(*pt.line_data(), 10, lr=0.15, bias=False)
    assert plain[0]["grad_w"] == pytest.approx(-28 / 3)  # the hand-written gradient
    assert abs(plain[9]["w_next"] - 1) <= 0.001  # after the lesson's 10 epochs (0..9)
    assert met_at("deeper-look") == 9
    assert met_at("deeper-look", epochs=8) is None


def test_zero_grad_goal_needs_zero_grad_off() -> None:
    assert met_at("zero-grad") is None
    grads = [r["grad_w"] for r in pt.raw_loop(*pt.line_data(), 3, lr=1e-7, zero_grad=False)]
    assert grads[2] / grads[0] == pytest.approx(3, rel=1e-4)
    assert met_at("zero-grad", zero_grad=False) == 2


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, None),  # the mean: nothing to find yet
        ({"loss_reduction": "sum"}, None),  # the same lr: three times the steps
        ({"loss_reduction": "sum", "learning_rate": 0.01 / 3}, 100),
        ({"loss_reduction": "sum", "learning_rate": 0.003333}, 100),  # as a learner types it
        ({"loss_reduction": "sum", "learning_rate": 0.004}, None),
    ],
)
def test_sum_vs_mean_goal(changes: dict, expected: int | None) -> None:
    mean = pt.linear_loop(*pt.double_data(), 100, seed=1, lr=0.01)
    total = pt.linear_loop(
        *pt.double_data(), 100, seed=1, lr=changes.get("learning_rate", 0.01), reduction="sum"
    )
    same = abs(mean[100]["w_next"] - total[100]["w_next"]) <= 0.001
    assert (expected is not None) == (same and changes.get("loss_reduction") == "sum")
    assert met_at("sum-vs-mean", epochs=120, **changes) == expected


def test_noisy_limit_goal_needs_a_learning_rate_near_the_limit() -> None:
    limit = Simulation(PRESETS["noisy-limit"]).surface.stability_limit
    assert met_at("noisy-limit") is None  # lr 0.1 converges, far below the limit
    assert met_at("noisy-limit", learning_rate=0.8) is not None and 0.8 >= 0.9 * limit
    assert met_at("noisy-limit", learning_rate=1.6) is None  # diverges


# ----------------------------------------------------------------------------- the app
async def test_l_picks_a_lesson_and_the_app_says_when_its_goal_is_met() -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("N", "l")
        assert isinstance(app.screen, LessonPicker)
        await pilot.press("down", "down", "down", "enter")
        await pilot.pause()
        assert app.lesson.id == "zero-grad" and app.leader.settings == PRESETS["zero-grad"]
        assert app.leader.epoch == 0 and len(app.leader.history) == 0
        box = shown_text(app.run_screen.lesson_box)
        assert "Goal: with zero_grad off" in box and "not met yet" in box
        assert "cost.backward() adds the new gradient" in log_text(app)
        await pilot.press("n", "n", "n")
        assert "not met yet" in shown_text(app.run_screen.lesson_box)  # zero_grad is still on
        await pilot.press("r", "z", "n", "n")
        assert "not met yet" in shown_text(app.run_screen.lesson_box)
        await pilot.press("n")
        assert "✓ met at epoch 2" in shown_text(app.run_screen.lesson_box)
        assert "Three epochs of gradient piled up" in log_text(app)
        await pilot.press("L")
        assert not app.run_screen.lesson_box.has_class("-shown") and app.lesson is None
        await pilot.press("n")
        assert app.leader.epoch == 4


async def test_escape_leaves_the_lesson_picker_without_a_lesson() -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("l", "escape")
        await pilot.pause()
        assert app.lesson is None and not isinstance(app.screen, LessonPicker)
        await pilot.press("n")
        assert app.leader.epoch == 1


async def test_a_lesson_in_korean_from_the_start() -> None:
    from lrtui.app.app import LrtuiApp

    chosen = find_lesson("deeper-look", "ko")
    app = make_app(chosen.settings, lesson=chosen, language="ko")
    assert isinstance(app, LrtuiApp)
    async with app.run_test(size=(120, 40)) as pilot:
        assert "목표" in shown_text(app.run_screen.lesson_box) and "아직" in shown_text(
            app.run_screen.lesson_box
        )
        await pilot.press(*"nnnnnnnnnn")
        assert "✓ 9 에포크에 달성" in shown_text(app.run_screen.lesson_box)
        assert "포물선의 바닥" in log_text(app)


# ----------------------------------------------------------------------------- the CLI
def test_lrtui_lessons_lists_them(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = invoke_main(capsys, "lessons", "--lang", "ko")
    assert code == 0
    lines = out.splitlines()
    assert lines[3].startswith("4  zero-grad") and "zero_grad()가 필요한 이유" in lines[3]
    assert len(lines) == len(PRESETS) + 1  # a line a lesson, then how to start one
    assert lines[-1] == "수업을 시작하려면: lrtui --lesson N"


def test_lrtui_lessons_ends_with_how_to_start_one_in_english_by_default(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = invoke_main(capsys, "lessons", "--lang", "en")
    assert code == 0 and out.splitlines()[-1] == "Start one with: lrtui --lesson N"


@pytest.mark.parametrize(
    ("argv", "flag", "why"),
    [
        (["--lesson", "99"], "--lesson", "no lesson '99'"),
        (["--lesson", "2", "--lr", "0.5"], "--lesson", "drop --lr"),
        (["--lesson", "2", "--load", "x.json"], "--lesson", "drop --load"),
        (["--lang", "fr"], "--lang", "no lessons in 'fr'"),
        (["lessons", "--lang", "xx"], "--lang", "no lessons in 'xx'"),
    ],
)
def test_bad_lesson_flags_exit_2_naming_the_flag(
    capsys: pytest.CaptureFixture[str], argv: list[str], flag: str, why: str
) -> None:
    code, out, err = invoke_main(capsys, *argv)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert f"argument {flag}" in err and why in err


def test_the_lessons_package_never_imports_textual() -> None:
    import subprocess

    code = "import sys, lrtui.lessons; print('textual' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


async def test_a_small_screen_says_where_the_lessons_exercise_is() -> None:
    """Issue 26: at 80x24 a lesson started with l showed neither its exercise nor its goal."""
    from lrtui.app.screen import PANEL_AND_LESSON

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("l", "enter")
        await pilot.pause()
        screen = app.run_screen
        summary = shown_text(screen.query_one("#summary"))
        assert app.lesson is not None and summary.endswith(PANEL_AND_LESSON)
        assert not screen.lesson_box.region.area  # folded away with the panel
        await pilot.press("s")
        await pilot.pause()
        box = screen.lesson_box
        assert box.region.area and app.lesson.text["goal"].split()[0] in shown_text(box)


def test_weight_decay_goal_needs_coupled_decay_settling_at_the_ridge_optimum() -> None:
    """Issue 30: Adam with L2 decay settles at the ridge optimum (numpy's), AdamW does not."""
    x, y = (t.double().numpy().ravel() for t in pt.noisy_data())
    design = np.column_stack([x, np.ones_like(x)])
    ridge = np.linalg.solve(2 / len(x) * design.T @ design + 0.5 * np.eye(2), 2 / len(x) * design.T @ y)
    plain = pt.lesson_loop(*pt.noisy_data(), 200, optimizer="Adam", lr=0.1, options={"weight_decay": 0.5})
    assert abs(plain[200]["w_next"] - ridge[0]) < 1e-3 and abs(plain[200]["b_next"] - ridge[1]) < 1e-3
    assert met_at("weight-decay") is None  # no decay: it settles at the plain optimum
    assert met_at("weight-decay", weight_decay=0.5) == 200
    assert met_at("weight-decay", weight_decay=0.2) is None  # too little decay for the goal
    assert met_at("weight-decay", optimizer="adamw", weight_decay=0.5) is None  # decoupled: elsewhere
