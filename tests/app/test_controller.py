"""The RunController, below the App: each action on the engine and what it answers, checked
against plain torch loops and against the race contenders' rule for a change."""

from __future__ import annotations

import sys
from typing import Any

import plain_torch as pt
import pytest
import torch

from lrtui.app.controller import RunController
from lrtui.engine.contenders import CONTENDER_KEYS, contender_settings
from lrtui.engine.race import Race
from lrtui.engine.settings import Settings, SettingsError, parse_field
from lrtui.lessons import find_lesson


def controller(**settings: Any) -> RunController:
    return RunController(Race.of(Settings(**settings)))


def log(control: RunController) -> list[str]:
    return [line.text for line in control.run_log.lines]


def test_the_controller_imports_no_textual() -> None:
    import subprocess

    code = "import sys, lrtui.app.controller; print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_steps_are_the_plain_loops_and_the_log_has_the_lessons_lines() -> None:
    control = controller(data="double", learning_rate=0.1, log_every=1, epochs=5)
    outcome = control.step(3)
    assert [letter for letter, _ in outcome.rows] == ["A", "A", "A"]
    plain = pt.raw_loop(*pt.double_data(), 2, lr=0.1)
    assert [record.cost for _, record in outcome.rows] == [row["cost"] for row in plain]
    assert control.leader.w == plain[-1]["w_next"]
    assert sum("Epoch" in line for line in log(control)) == 3
    assert control.step_epoch().rows  # a whole epoch between epochs
    control.step(100)
    assert control.leader.finished
    assert control.step(1).warning == "All epochs 0..5 are done: raise epochs or press r."


def test_a_diverged_run_takes_no_step_and_undo_goes_back_to_before_it_in_one_press() -> None:
    control = controller(data="noisy", init_w=10, init_b=-5, learning_rate=1.6)
    control.step(100)
    leader = control.leader
    diverged_at = leader.diverged_at
    assert diverged_at is not None
    back = leader.epoch
    assert control.step(1).warning == f"The run diverged at epoch {leader.diverged_at}: press r to reset."
    outcome = control.undo()
    assert outcome.refit_view and outcome.settings_changed and not leader.diverged
    assert log(control)[-1].startswith(f"undo: back {back} epochs from the divergence at epoch {diverged_at}")
    # the log keeps no line past the point it went back to
    assert all(place <= (leader.position, 0) for place, _ in control.run_log.entries)
    assert not any(line.text.startswith("Epoch") for line in control.run_log.lines)  # back before epoch 0


def test_undo_at_the_start_says_why_and_after_a_restart_brings_the_run_before_back() -> None:
    control = controller()
    assert control.undo().warning == "Nothing to undo: no epoch has run yet."
    control.step(4)
    before = control.leader
    outcome = control.reset()
    assert outcome.new_race and outcome.refit_view and control.leader is not before
    assert control.leader.epoch == 0 and log(control)[-1] == "u brings the run before back"
    back = control.undo()
    assert back.new_race and control.leader is before and before.epoch == 4
    assert "undo: back to the run before the restart, after epoch 3 (next epoch 4)" in log(control)
    assert log(control)[-1].startswith("Epoch    0/1000")  # its lines again, after the one saying why


def test_a_bad_value_is_refused_naming_its_field_and_nothing_changes() -> None:
    control = controller()
    control.step(2)
    outcome = control.change_setting("learning_rate", -1.0)
    assert outcome.refused is not None and outcome.refused.field == "learning_rate"
    assert control.leader.settings == Settings() and control.leader.epoch == 2


def test_a_live_change_goes_on_from_the_next_epoch_and_a_new_problem_starts_again() -> None:
    control = controller(data="double")
    control.step(3)
    outcome = control.change_setting("learning_rate", 0.05)
    assert outcome.settings_changed and not outcome.new_race and control.leader.epoch == 3
    assert log(control)[-1] == "from epoch 3: learning rate 0.01 → 0.05"
    outcome = control.change_setting("bias", False)
    assert outcome.new_race and control.leader.epoch == 0 and not control.leader.settings.bias
    assert "a new problem, so the run starts again at epoch 0" in log(control)[-2]
    assert control.change_setting("data", "points.csv").read_data == control.leader.settings.changing(
        data="points.csv"
    )


def test_nesterov_goes_with_sgd_and_momentum_with_the_optimizers_that_take_it() -> None:
    """Issue 25: with --momentum 0.9 --nesterov, `o` (Adagrad) was refused while `a` took it."""
    control = controller(momentum=0.9, nesterov=True)
    outcome = control.change_setting("optimizer", "adagrad")
    assert outcome.refused is None
    settings = control.leader.settings
    assert (settings.optimizer, settings.momentum, settings.nesterov) == ("adagrad", 0.0, False)
    assert contender_settings(Settings(momentum=0.9, nesterov=True), "optimizer=adagrad") == settings
    # rmsprop takes momentum: it stays; Nesterov does not
    control = controller(momentum=0.9, nesterov=True)
    control.change_setting("optimizer", "rmsprop")
    assert (control.leader.settings.momentum, control.leader.settings.nesterov) == (0.9, False)
    # what is given is kept as given, and refused where it does not fit
    with pytest.raises(SettingsError, match="momentum: adam has no momentum"):
        contender_settings(Settings(), "optimizer=adam momentum=0.9")


# A value of each race key other than the defaults' (as a learner types it).
TYPED = {
    "model": "linear",
    "optimizer": ["adagrad", "rmsprop", "adam", "sgd", "adamw", "rprop", "lbfgs"],
    "learning_rate": "0.05",
    "momentum": "0.5",
    "nesterov": "on",
    "init_w": "2",
    "init_b": "-1",
    "loss_reduction": "sum",
    "zero_grad": "off",
    "seed": "7",
    "batch_size": ["2", "none"],
    "shuffle": "on",
    "scheduler": ["step", "exponential", "cosine", "none"],
    "step_size": "3",
    "gamma": "0.5",
    "t_max": "9",
    "loss": "huber",
    "huber_delta": "2",
    # issue 30: each option, refused by the bases whose optimizer does not take it
    "dampening": "0.1",
    "weight_decay": "0.1",
    "betas": "0.8,0.9",
    "eps": "1e-6",
    "amsgrad": "on",
    "alpha": "0.9",
    "centered": "on",
    "rho": "0.8",
    "lr_decay": "0.1",
    "momentum_decay": "0.1",
    "decoupled_weight_decay": "on",
    "etas": "0.4,1.3",
    "step_sizes": "0.1,2",
    "lambd": "0.1",
    "t0": "10",
    "max_iter": "3",
    "history_size": "3",
    "line_search": "strong_wolfe",
    "decay_bias": "off",
}
BASES = [
    Settings(),
    Settings(momentum=0.9, nesterov=True),
    Settings(optimizer="rmsprop", momentum=0.5),
    Settings(data="noisy", batch_size=10, shuffle=True, scheduler="step", step_size=2, gamma=0.5),
    Settings(data="noisy", scheduler="cosine", t_max=50, loss="huber", huber_delta=0.5),
    Settings(optimizer="adam", betas=(0.8, 0.9), weight_decay=0.1),
]


def test_every_race_key_changes_a_run_and_a_contender_alike() -> None:
    """The panel (the controller) and a contender follow the one rule, ``Settings.changing``:
    for every field a contender may set, from several starting settings, both give the same
    settings, or both refuse."""
    assert set(TYPED) == set(CONTENDER_KEYS.values())
    key_of = {name: key for key, name in reversed(CONTENDER_KEYS.items())}
    checked = 0
    for base in BASES:
        for name, typed in TYPED.items():
            for text in [typed] if isinstance(typed, str) else typed:
                value = parse_field(name, text)
                control = RunController(Race.of(base))
                outcome = control.change_setting(name, value)
                try:
                    contender = contender_settings(base, f"{key_of[name]}={text}")
                except SettingsError as error:
                    assert outcome.refused is not None, (base, name, text, error)
                    continue
                assert outcome.refused is None, (base, name, text, outcome.refused)
                changed = control.leader.settings if outcome.read_data is None else outcome.read_data
                assert changed == contender, (base, name, text)
                checked += 1
    assert checked > 60  # most of them apply


def test_contenders_join_catch_up_and_leave() -> None:
    control = controller(data="double", learning_rate=0.1)
    control.step(5)
    assert control.contender_refusal("lr=-1") is not None
    assert control.contender_refusal("optimizer=adam lr=0.1") is None
    control.add_contender("optimizer=adam lr=0.1")
    rival = control.race.rivals[0]
    assert rival.epoch == 5 and log(control)[-1].startswith("B joins the race: Adam lr 0.1, caught up")
    plain = pt.raw_loop(*pt.double_data(), 4, lr=0.1, optimizer="Adam")
    assert torch.tensor(rival.w).item() == plain[-1]["w_next"]
    for _ in range(2):
        assert control.add_contender("momentum=0.9").warning is None
    assert control.race.full and "at most 4" in (control.add_contender("lr=0.2").warning or "")
    assert control.add_heavy_ball().warning is not None  # full
    for _ in range(3):
        control.remove_contender()
    assert control.remove_contender().warning == "No contender to take out: press a to add one."


def test_heavy_ball_joins_at_the_predicted_pair() -> None:
    control = controller(data="noisy")
    assert control.add_heavy_ball().warning is None
    assert "heavy ball at the predicted β and lr" in log(control)[-1]
    control = controller(data="noisy", loss="l1")
    assert "squared-error" in (control.add_heavy_ball().warning or "")


def test_a_lesson_starts_its_run_and_says_once_when_its_goal_is_met() -> None:
    control = controller()
    lesson = find_lesson("deeper-look", "en")
    outcome = control.start_lesson(lesson)
    assert outcome.new_race and control.lesson is lesson and control.leader.settings == lesson.settings
    met = [control.step(1).goal_met for _ in range(12)]
    assert met.count(True) == 1 and control.goal_met_at == met.index(True)
    assert sum("✓" in line for line in log(control)) == 1
    control.close_lesson()
    assert control.lesson is None


def test_opening_a_session_says_it_was_loaded(tmp_path) -> None:
    from lrtui.engine.session import load_session, save_session

    control = controller(data="double")
    control.step(6)
    save_session(tmp_path / "s.json", control.leader)
    opened = RunController(Race(load_session(tmp_path / "s.json")), session_path="s.json")
    outcome = opened.open()
    assert outcome.new_race and opened.leader.epoch == 6
    assert "loaded s.json: 6 epochs of history, next epoch 6" in log(opened)
