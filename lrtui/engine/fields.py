"""The one registry of lrtui's settings: how each is labelled, parsed from typed text and checked.

Every setting is declared once in ``FIELDS``: its label, how typed text is parsed, how a
value is checked, its command-line flag and help, the keys a race contender types for it,
whether changing it makes a new problem, and how the parameter panel shows it. The parser
(CLI flags, the app's fields, race contenders, saved sessions) and the panel read it; the
defaults live only on ``Settings``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .choices import (
    FLOAT32_MAX,
    LOSS_NAMES,
    LOSS_REDUCTIONS,
    LOSSES,
    MAX_EPOCHS,
    MAX_NUMBER_LENGTH,
    MAX_SEED,
    MODELS,
    OPTIMIZER_NAMES,
    OPTIMIZERS,
    PRESETS,
    PRINT_STYLES,
    SCHEDULE_DEFAULTS,
    SCHEDULER_NAMES,
    SCHEDULERS,
    SettingsError,
)


def field_text(name: str, value: Any) -> str:
    """How a setting's value is written where a person types it (an input, a flag's value)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}" if abs(value) >= 1e-4 or value == 0 else repr(value)
    if isinstance(value, tuple):  # initial W with k features
        return ",".join(field_text(name, item) for item in value)
    return str(value)


# ------------------------------------------------------------------- checks
Check = Callable[[str, Any], None]
Parse = Callable[[str, str], Any]


def _check_choice(choices: tuple[str, ...]) -> Check:
    def check(field: str, value: object) -> None:
        if value not in choices:
            raise SettingsError(field, f"{label(field)} must be one of {', '.join(choices)} (got {value!r})")

    return check


def _number(field: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SettingsError(field, f"{label(field)} must be a number")
    if not math.isfinite(value):
        raise SettingsError(field, f"{label(field)} must be a finite number (got {value})")
    return value


def _check_learning_rate(field: str, value: object) -> None:
    rate = _number(field, value)
    if rate <= 0:
        raise SettingsError(field, f"learning rate must be a positive number (got {value})")
    if rate > FLOAT32_MAX:
        # torch.optim hands -lr to float32 kernels as alpha; a larger one raises inside step()
        raise SettingsError(field, f"learning rate must fit in float32, at most 3.4e38 (got {value})")


def _check_momentum(field: str, value: object) -> None:
    if not 0 <= _number(field, value) < 1:
        raise SettingsError(field, f"momentum must be at least 0 and below 1 (got {value})")


def _check_int(low: int, high: int) -> Check:
    def check(field: str, value: object) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise SettingsError(field, f"{label(field)} must be a whole number")
        if not low <= value <= high:
            raise SettingsError(field, f"{label(field)} must be between {low} and {high} (got {value})")

    return check


def _check_data(field: str, value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise SettingsError(field, f"data must be one of {', '.join(PRESETS)} or a CSV file path")


def _check_huber_delta(field: str, value: object) -> None:
    delta = _number(field, value)
    if not 0 < delta <= FLOAT32_MAX:
        raise SettingsError(field, f"Huber delta must be a positive float32 number (got {value})")


def _check_bool(field: str, value: object) -> None:
    if not isinstance(value, bool):
        raise SettingsError(field, f"{label(field)} must be on or off")


def _check_optional_int(low: int, high: int) -> Check:
    whole = _check_int(low, high)

    def check(field: str, value: object) -> None:
        if value is not None:
            whole(field, value)

    return check


def _check_gamma(field: str, value: object) -> None:
    if value is not None and not 0 < _number(field, value) <= 1:
        raise SettingsError(field, f"gamma must be above 0 and at most 1 (got {value})")


def _check_initial_value(field: str, value: object) -> None:
    if value is not None and abs(_number(field, value)) > FLOAT32_MAX:
        raise SettingsError(field, f"{label(field)} must fit in float32, within ±3.4e38 (got {value})")


MAX_WEIGHTS = 16  # data.MAX_FEATURES, which this module cannot import (it needs torch)


def _check_initial_weights(field: str, value: object) -> None:
    """One number for all of W, or a tuple of W's k numbers (whether k fits the data is told
    when the data is read: ``trainer.initial_weights``)."""
    if isinstance(value, tuple):
        if not 2 <= len(value) <= MAX_WEIGHTS:
            raise SettingsError(
                field, f"{label(field)} takes one value or 2 to {MAX_WEIGHTS}, comma-separated"
            )
        for item in value:
            _check_initial_value(field, item)
    else:
        _check_initial_value(field, value)


# ------------------------------------------------------------------ parsers
def _checked_length(field: str, text: str, kind: str) -> str:
    text = text.strip()
    if not text:
        raise SettingsError(field, f"{label(field)} is empty: type {kind}")
    if len(text) > MAX_NUMBER_LENGTH:
        raise SettingsError(field, f"{label(field)} has too many digits ({len(text)} characters)")
    return text


def _parse_float(field: str, text: str) -> float:
    text = _checked_length(field, text, "a number")
    try:
        value = float(text)
    except ValueError:
        raise SettingsError(field, f"{label(field)} must be a number (got {text!r})") from None
    if not math.isfinite(value):
        raise SettingsError(field, f"{label(field)} must be a finite number (got {text!r})")
    return value


def _parse_int(field: str, text: str) -> int:
    text = _checked_length(field, text, "a whole number")
    try:
        return int(text)
    except ValueError:
        raise SettingsError(field, f"{label(field)} must be a whole number (got {text!r})") from None


def _parse_optional_float(field: str, text: str) -> float | None:
    if text.strip().lower() in ("", "default", "none"):
        return None
    return _parse_float(field, text)


def _parse_initial_weights(field: str, text: str) -> float | tuple[float, ...] | None:
    """``0.5`` (all of W) or ``0.1,0.2,0.3`` (W's k values in order)."""
    if "," not in text:
        return _parse_optional_float(field, text)
    return tuple(_parse_float(field, part) for part in text.split(","))


def _parse_optional_int(field: str, text: str) -> int | None:
    if text.strip().lower() in ("", "default", "none"):
        return None
    return _parse_int(field, text)


def _parse_batch_size(field: str, text: str) -> int | None:
    if text.strip().lower() in ("", "full", "none"):
        return None
    return _parse_int(field, text)


def _parse_bool(field: str, text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("on", "true", "yes", "1"):
        return True
    if lowered in ("off", "false", "no", "0"):
        return False
    raise SettingsError(field, f"{label(field)} must be on or off (got {text!r})")


def _parse_choice(choices: tuple[str, ...]) -> Parse:
    def parse(field: str, text: str) -> str:
        lowered = text.strip().lower()
        if lowered not in choices:
            raise SettingsError(field, f"{label(field)} must be one of {', '.join(choices)} (got {text!r})")
        return lowered

    return parse


def _parse_data(field: str, text: str) -> str:
    text = text.strip()
    _check_data(field, text)
    return text


# ----------------------------------------------------------------- registry
@dataclass(frozen=True)
class SettingField:
    """Everything lrtui knows about one setting, in one place."""

    name: str  # the Settings field
    label: str  # as a person reads it in messages
    short: str  # the parameter panel's row label
    parse: Parse
    check: Check
    flag: str  # the command-line flag
    help: str  # the flag's help, without the default (read from Settings)
    metavar: str | None = None
    switch: bool | None = None  # a flag without a value that sets the field to this
    race_keys: tuple[str, ...] = ()  # what a contender types; none: shared by the whole race
    problem: bool = False  # changing it makes a new problem: the run starts again
    choices: tuple[tuple[str, Any], ...] = ()  # the panel's (shown, value) options
    placeholder: str = ""
    default_help: str = ""  # for a default that is not one value (None: torch decides)
    panel: bool = True  # a row in the app's parameter panel

    @property
    def kind(self) -> str:
        """How the panel edits it: ``switch``, ``select`` or ``input``."""
        if self.choices:
            return "select"
        return "switch" if self.switch is not None else "input"


FIELDS: tuple[SettingField, ...] = (
    SettingField(
        "data", "data", "data", _parse_data, _check_data, "--data",
        f"{', '.join(PRESETS)} or a CSV file whose header names y and the features (x,y for one)", "DATA",
        problem=True, placeholder="line, double, noisy or file.csv",
    ),
    SettingField(
        "model", "model", "model", _parse_choice(MODELS), _check_choice(MODELS), "--model",
        f"{' or '.join(MODELS)}: raw W and b tensors, or nn.Linear(1, 1)", "MODEL",
        race_keys=("model",), problem=True, choices=(("raw W, b", "raw"), ("nn.Linear", "linear")),
    ),
    SettingField(
        "bias", "bias", "bias", _parse_bool, _check_bool, "--no-bias", "fit H(x) = W*x with no b",
        switch=False, problem=True,
    ),
    SettingField(
        "optimizer", "optimizer", "optimizer", _parse_choice(OPTIMIZERS), _check_choice(OPTIMIZERS),
        "--optimizer", f"one of {', '.join(OPTIMIZERS)} from torch.optim", "NAME",
        race_keys=("optimizer",), choices=tuple((name, key) for key, name in OPTIMIZER_NAMES.items()),
    ),
    SettingField(
        "learning_rate", "learning rate", "lr", _parse_float, _check_learning_rate, "--lr",
        "learning rate, a positive number", "LR", race_keys=("lr", "learning-rate"),
    ),
    SettingField(
        "momentum", "momentum", "momentum", _parse_float, _check_momentum, "--momentum",
        "momentum for sgd and rmsprop, 0 <= m < 1", "M", race_keys=("momentum",),
    ),
    SettingField(
        "nesterov", "nesterov", "nesterov", _parse_bool, _check_bool, "--nesterov",
        "Nesterov momentum (sgd with --momentum above 0)", switch=True, race_keys=("nesterov",),
    ),
    SettingField(
        "init_w", "initial W", "init W", _parse_initial_weights, _check_initial_weights, "--init-w",
        "initial W: one value, or k comma-separated values with k features", "W", race_keys=("init-w",), problem=True, placeholder="default",
        default_help="0 for raw, torch's init for linear",
    ),
    SettingField(
        "init_b", "initial b", "init b", _parse_optional_float, _check_initial_value, "--init-b",
        "initial b", "B", race_keys=("init-b",), problem=True, placeholder="default",
        default_help="0 for raw, torch's init for linear",
    ),
    SettingField(
        "loss_reduction", "loss reduction", "reduction", _parse_choice(LOSS_REDUCTIONS),
        _check_choice(LOSS_REDUCTIONS), "--loss-reduction",
        f"{' or '.join(LOSS_REDUCTIONS)} of the points' losses (squared errors for mse)", "R", race_keys=("loss-reduction",),
        choices=tuple((r, r) for r in LOSS_REDUCTIONS),  # of whichever loss (the loss fn row)
    ),
    SettingField(
        "zero_grad", "zero_grad", "zero_grad", _parse_bool, _check_bool, "--no-zero-grad",
        "skip optimizer.zero_grad(): .grad accumulates across epochs", switch=False,
        race_keys=("zero-grad",),
    ),
    SettingField(
        "seed", "seed", "seed", _parse_int, _check_int(0, MAX_SEED), "--seed",
        "torch.manual_seed before nn.Linear is created", "SEED", race_keys=("seed",), problem=True,
    ),
    SettingField(
        "epochs", "epochs", "epochs", _parse_int, _check_int(0, MAX_EPOCHS), "--epochs",
        "run epochs 0..N, as range(N + 1) in the lessons", "N",
    ),
    SettingField(
        "log_every", "log every", "log every", _parse_int, _check_int(1, MAX_EPOCHS), "--log-every",
        "log every K epochs", "K",
    ),
    SettingField(
        "batch_size", "batch size", "batch", _parse_batch_size, _check_optional_int(1, MAX_EPOCHS),
        "--batch-size", "mini-batches of B points through a DataLoader (B >= n: one batch of all)",
        "B", race_keys=("batch-size",), problem=True, placeholder="full batch",
        default_help="the full batch, no DataLoader",
    ),
    SettingField(
        "shuffle", "shuffle", "shuffle", _parse_bool, _check_bool, "--shuffle",
        "DataLoader(shuffle=True): new batches every epoch, from a generator seeded with --seed",
        switch=True, race_keys=("shuffle",), problem=True,
    ),
    SettingField(
        "scheduler", "scheduler", "schedule", _parse_choice(SCHEDULERS), _check_choice(SCHEDULERS),
        "--scheduler", "torch.optim.lr_scheduler stepped once per epoch", "NAME",
        race_keys=("scheduler",), problem=True,
        choices=(("none", "none"), *((name, key) for key, name in SCHEDULER_NAMES.items())),
    ),
    SettingField(
        "step_size", "step size", "step size", _parse_optional_int, _check_optional_int(1, MAX_EPOCHS),
        "--step-size", "StepLR: multiply the lr by gamma every N epochs", "N",
        race_keys=("step-size",), problem=True, placeholder="default",
        default_help=str(SCHEDULE_DEFAULTS["step"]["step_size"]),
    ),
    SettingField(
        "gamma", "gamma", "gamma", _parse_optional_float, _check_gamma, "--gamma",
        "StepLR and ExponentialLR: the factor, 0 < G <= 1", "G", race_keys=("gamma",), problem=True,
        placeholder="default",
        default_help=f"{SCHEDULE_DEFAULTS['step']['gamma']} for step, "
        f"{SCHEDULE_DEFAULTS['exponential']['gamma']} for exponential",
    ),
    SettingField(
        "t_max", "T_max", "T_max", _parse_optional_int, _check_optional_int(1, MAX_EPOCHS), "--t-max",
        "CosineAnnealingLR: epochs from the lr down to 0", "N", race_keys=("t-max",), problem=True,
        placeholder="default", default_help=str(SCHEDULE_DEFAULTS["cosine"]["t_max"]),
    ),
    SettingField(
        "loss", "loss", "loss fn", _parse_choice(LOSSES), _check_choice(LOSSES), "--loss",
        "mse (squared errors), l1 (absolute errors) or huber (squared near 0, absolute past delta)",
        "LOSS", race_keys=("loss",), choices=tuple((name, key) for key, name in LOSS_NAMES.items()),
    ),
    SettingField(
        "huber_delta", "Huber delta", "delta", _parse_float, _check_huber_delta, "--huber-delta",
        "where the Huber loss turns from squared to absolute errors", "D", race_keys=("huber-delta",),
    ),
    SettingField(
        "standardize", "standardize", "scale x", _parse_bool, _check_bool, "--standardize",
        "train on x' = (x - x.mean()) / x.std(); W and b are also shown in x's own units",
        switch=True, problem=True,
    ),
    SettingField(
        "print_style", "print style", "print", _parse_choice(PRINT_STYLES), _check_choice(PRINT_STYLES),
        "--print", "where the log line stands and what it prints: after-step (Lab 2: W and b after"
        " optimizer.step()), before-step (Lab 3: W before the step, with the cost at that W) or loss"
        " (the nn.Module lesson: Epoch: N | Loss: the loss's full float)", "STYLE", panel=False,
    ),
)  # fmt: skip
FIELD: dict[str, SettingField] = {field.name: field for field in FIELDS}
# Settings that define a new problem: changing one starts the run again.
PROBLEM_FIELDS: frozenset[str] = frozenset(field.name for field in FIELDS if field.problem)


def label(field: str) -> str:
    """The setting's name as a person reads it."""
    known = FIELD.get(field)
    return known.label if known is not None else field


def _field(name: str) -> SettingField:
    try:
        return FIELD[name]
    except KeyError:
        raise SettingsError(name, f"unknown setting {name!r}") from None


def check_field(name: str, value: Any) -> None:
    """Check one setting on its own; the combination is checked by ``Settings``."""
    _field(name).check(name, value)


def parse_field(name: str, text: str) -> Any:
    """Turn typed text into a checked value for ``name``; raises SettingsError with the reason."""
    field = _field(name)
    value = field.parse(name, text)
    field.check(name, value)
    return value
