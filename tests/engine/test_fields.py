"""The settings registry: one entry per setting, and everything generated from it agrees."""

from __future__ import annotations

from dataclasses import fields

import pytest

from lrtui.app.widgets.parameters import ROWS
from lrtui.cli.commands import run_parser
from lrtui.engine import Settings, SettingsError, parse_field
from lrtui.engine.race import CONTENDER_KEYS, SHARED_FIELDS, contender_settings
from lrtui.engine.settings import FIELDS, PROBLEM_FIELDS, default, field_text, label


def test_every_setting_has_exactly_one_entry_in_order() -> None:
    assert [field.name for field in FIELDS] == [f.name for f in fields(Settings)]


def test_the_panel_has_a_row_per_setting_and_the_speed() -> None:
    assert [row.name for row in ROWS] == [*(field.name for field in FIELDS if field.panel), "speed"]
    assert [field.name for field in FIELDS if not field.panel] == ["print_style"]  # the log's, not the run's


def test_cli_help_reads_defaults_from_settings() -> None:
    help_text = " ".join(run_parser().format_help().split())
    for field in FIELDS:
        assert field.flag in help_text
        if field.switch is None and not field.default_help:
            assert f"(default {field_text(field.name, default(field.name))})" in help_text


def test_every_flag_sets_its_field() -> None:
    values = {"data": "noisy", "model": "linear", "optimizer": "rmsprop", "learning_rate": "0.5"}
    values |= {"momentum": "0.5", "init_w": "2", "init_b": "-1", "loss_reduction": "sum", "seed": "7"}
    values |= {"epochs": "9", "log_every": "3"}
    values |= {"batch_size": "10", "scheduler": "step", "step_size": "5", "gamma": "0.5", "t_max": "7"}
    values |= {"loss": "huber", "huber_delta": "0.5"}  # issue 14
    values |= {"print_style": "before-step"}  # issue 26
    values |= {"dampening": "0.1", "weight_decay": "0.01", "betas": "0.8,0.9", "eps": "1e-6", "alpha": "0.9"}
    values |= {"rho": "0.8", "lr_decay": "0.1", "momentum_decay": "0.01", "etas": "0.4,1.3", "lambd": "1e-3"}
    values |= {"step_sizes": "1e-6,10", "t0": "10", "max_iter": "5", "history_size": "3"}
    values |= {"line_search": "strong_wolfe", "decay_bias": "off"}  # issue 30
    argv: list[str] = []
    for field in FIELDS:
        argv += [field.flag] if field.switch is not None else [field.flag, values[field.name]]
    args = run_parser().parse_args([a for a in argv if a != "--nesterov"])
    for field in FIELDS:
        if field.name != "nesterov":
            given = getattr(args, field.name)
            expected = field.switch if field.switch is not None else values[field.name]
            assert given == expected, field.name


def test_race_keys_and_shared_fields_come_from_the_registry() -> None:
    assert set(CONTENDER_KEYS.values()) | set(SHARED_FIELDS) == {f.name for f in fields(Settings)}
    assert set(SHARED_FIELDS) == {"data", "bias", "epochs", "log_every", "standardize", "print_style"}
    assert contender_settings(Settings(), "learning-rate=0.2 init-w=3").init_w == 3.0
    with pytest.raises(SettingsError, match="shared by every contender"):
        contender_settings(Settings(), "log-every=5")


def test_problem_fields_restart_the_run() -> None:
    assert PROBLEM_FIELDS == {"data", "model", "bias", "init_w", "init_b", "seed", "standardize"} | {
        "batch_size",
        "shuffle",
        "scheduler",
        "step_size",
        "gamma",
        "t_max",
    }


@pytest.mark.parametrize("field", [f.name for f in FIELDS])
def test_the_written_default_parses_back(field: str) -> None:
    value = default(field)
    if value is not None:
        assert parse_field(field, field_text(field, value)) == value
    assert label(field)
