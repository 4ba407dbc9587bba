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
    LINE_SEARCHES,
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
    REFUSED_OPTIMIZERS,
    SCHEDULE_DEFAULTS,
    SCHEDULER_NAMES,
    SCHEDULERS,
    SettingsError,
    optimizers_taking,
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


def _optional(check: Check) -> Check:
    def optional(field: str, value: object) -> None:
        if value is not None:
            check(field, value)

    return optional


# The optimizers' option checks mirror torch's own (each constructor raises ValueError for these;
# tests/test_optimizers.py compares them with torch's refusals), plus finite numbers.
def _at_least_zero(field: str, value: object) -> None:
    if not 0 <= _number(field, value):
        raise SettingsError(field, f"{label(field)} must be at least 0 (got {value})")


def _finite(field: str, value: object) -> None:
    _number(field, value)


def _zero_to_one(field: str, value: object) -> None:
    if not 0 <= _number(field, value) <= 1:
        raise SettingsError(field, f"{label(field)} must be from 0 to 1 (got {value})")


def _pair(field: str, value: object) -> tuple[float, float]:
    if not isinstance(value, tuple) or len(value) != 2:
        raise SettingsError(field, f"{label(field)} must be two numbers, e.g. {FIELD[field].metavar}")
    return _number(field, value[0]), _number(field, value[1])


def _check_betas(field: str, value: object) -> None:
    for index, beta in enumerate(_pair(field, value)):
        if not 0 <= beta < 1:
            raise SettingsError(field, f"betas: beta{index + 1} must be at least 0 and below 1 (got {beta})")


def _check_etas(field: str, value: object) -> None:
    minus, plus = _pair(field, value)
    if not 0 < minus < 1 < plus:
        raise SettingsError(field, f"etas must be 0 < etaminus < 1 < etaplus (got {minus:g}, {plus:g})")


def _check_pair(field: str, value: object) -> None:
    _pair(field, value)


def _check_count(field: str, value: object) -> None:
    # torch takes any int here; 0 makes L-BFGS do nothing (max_iter) or fail (history_size)
    _check_int(1, MAX_EPOCHS)(field, value)


def _check_optimizer(field: str, value: object) -> None:
    if isinstance(value, str) and value in REFUSED_OPTIMIZERS:
        raise SettingsError(field, f"{value} cannot train W and b: {REFUSED_OPTIMIZERS[value]}")
    _check_choice(OPTIMIZERS)(field, value)


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


def _parse_optional_pair(field: str, text: str) -> tuple[float, float] | None:
    """Two numbers as ``0.9,0.999`` (or ``(0.9, 0.999)``, or with a space between)."""
    stripped = text.strip().strip("()").strip()
    if stripped.lower() in ("", "default", "none"):
        return None
    parts = stripped.replace(",", " ").split()
    if len(parts) != 2:
        raise SettingsError(
            field, f"{label(field)} must be two numbers, e.g. {FIELD[field].metavar} (got {text!r})"
        )
    first, second = (_parse_float(field, part) for part in parts)
    return first, second


def _parse_optional_choice(choices: tuple[str, ...]) -> Parse:
    choice = _parse_choice(choices)

    def parse(field: str, text: str) -> str | None:
        if text.strip().lower() in ("", "default"):
            return None
        return choice(field, text)

    return parse


def _parse_optimizer(field: str, text: str) -> str:
    lowered = text.strip().lower()
    if lowered in REFUSED_OPTIMIZERS:
        return lowered  # refused by its check, with the reason
    return _parse_choice(OPTIMIZERS)(field, text)


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


def _taken_by(option: str) -> str:
    return ", ".join(OPTIMIZER_NAMES[name] for name in optimizers_taking(option))


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
        "optimizer", "optimizer", "optimizer", _parse_optimizer, _check_optimizer,
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
    *(
        SettingField(
            name, text, short, parse, check, "--" + name.replace("_", "-"),
            f"{_taken_by(name)}: {what}", metavar or None, race_keys=(name.replace("_", "-"),),
            placeholder="" if switch is not None else "torch's default", switch=switch,
            default_help="torch's",
        )
        for name, text, short, parse, check, what, metavar, switch in (
            ("dampening", "dampening", "dampening", _parse_optional_float, _optional(_finite),
             "dampening for momentum", "D", None),
            ("weight_decay", "weight decay", "wt decay", _parse_optional_float, _optional(_at_least_zero),
             "weight_decay, the L2 penalty (AdamW: decoupled)", "L", None),
            ("betas", "betas", "betas", _parse_optional_pair, _optional(_check_betas),
             "the averages' decay rates beta1,beta2", "B1,B2", None),
            ("eps", "eps", "eps", _parse_optional_float, _optional(_at_least_zero),
             "added to the denominator", "E", None),
            ("amsgrad", "amsgrad", "amsgrad", _parse_bool, _check_bool,
             "the AMSGrad variant (the largest exp_avg_sq so far)", "", True),
            ("alpha", "alpha", "alpha", _parse_optional_float, _optional(_finite),
             "RMSprop: the smoothing constant; ASGD: the power for eta's update", "A", None),
            ("centered", "centered", "centered", _parse_bool, _check_bool,
             "centered RMSprop (the gradient's variance)", "", True),
            ("rho", "rho", "rho", _parse_optional_float, _optional(_zero_to_one),
             "the running averages' decay, 0 <= rho <= 1", "R", None),
            ("lr_decay", "lr_decay", "lr_decay", _parse_optional_float, _optional(_at_least_zero),
             "learning rate decay", "D", None),
            ("momentum_decay", "momentum_decay", "mom decay", _parse_optional_float, _optional(_at_least_zero),
             "momentum_decay (psi)", "D", None),
            ("decoupled_weight_decay", "decoupled_weight_decay", "decoupled", _parse_bool, _check_bool,
             "decay W and b directly (as AdamW), not through the gradient", "", True),
            ("etas", "etas", "etas", _parse_optional_pair, _optional(_check_etas),
             "etaminus,etaplus, 0 < etaminus < 1 < etaplus", "E1,E2", None),
            ("step_sizes", "step_sizes", "steps min", _parse_optional_pair, _optional(_check_pair),
             "the smallest and largest step size", "MIN,MAX", None),
            ("lambd", "lambd", "lambd", _parse_optional_float, _optional(_finite),
             "the decay term", "L", None),
            ("t0", "t0", "t0", _parse_optional_float, _optional(_finite),
             "the point at which to start averaging", "T", None),
            ("max_iter", "max_iter", "max_iter", _parse_optional_int, _optional(_check_count),
             "iterations per optimizer.step(closure)", "N", None),
            ("history_size", "history_size", "history", _parse_optional_int, _optional(_check_count),
             "how many past steps it remembers", "N", None),
            ("line_search", "line search", "line srch", _parse_optional_choice(LINE_SEARCHES),
             _optional(_check_choice(LINE_SEARCHES)), "line_search_fn, strong_wolfe or none", "FN", None),
        )
    ),
    SettingField(
        "decay_bias", "decay bias", "decay b", _parse_bool, _check_bool, "--decay-bias",
        "on: weight decay on W and b, as torch does; off: two parameter groups, b's with weight_decay 0",
        "on|off", race_keys=("decay-bias",), choices=(("on", True), ("off", False)),
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
