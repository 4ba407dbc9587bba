"""The one validated description of a training run.

Every front end (CLI flags, the app's input fields, saved sessions) turns text
into values through ``parse_field`` and builds a ``Settings`` whose constructor
checks the combination. Nothing else in lrtui validates settings.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

PRESETS: tuple[str, ...] = ("line", "double", "noisy")
MODELS: tuple[str, ...] = ("raw", "linear")
OPTIMIZERS: tuple[str, ...] = ("sgd", "adagrad", "rmsprop", "adam")
OPTIMIZER_NAMES: dict[str, str] = {
    "sgd": "SGD",
    "adagrad": "Adagrad",
    "rmsprop": "RMSprop",
    "adam": "Adam",
}
LOSS_REDUCTIONS: tuple[str, ...] = ("mean", "sum")
# Optimizers whose torch constructor takes a ``momentum`` argument.
MOMENTUM_OPTIMIZERS: frozenset[str] = frozenset({"sgd", "rmsprop"})

MAX_EPOCHS = 10**9
FLOAT32_MAX = 3.4028234663852886e38  # torch.finfo(torch.float32).max; W and b are float32
MAX_SEED = 2**63 - 1
# Digits beyond this are a typo, not precision a float32 run can use.
MAX_NUMBER_LENGTH = 40

# Settings that define a new problem: changing one starts the run again.
PROBLEM_FIELDS: frozenset[str] = frozenset({"data", "model", "bias", "init_w", "init_b", "seed"})


LABELS: dict[str, str] = {
    "learning_rate": "learning rate",
    "init_w": "initial W",
    "init_b": "initial b",
    "loss_reduction": "loss reduction",
    "zero_grad": "zero_grad",
    "log_every": "log every",
}


def label(field: str) -> str:
    """The setting's name as a person reads it."""
    return LABELS.get(field, field)


class SettingsError(ValueError):
    """A value that cannot be used, with the setting it belongs to."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Settings:
    data: str = "line"
    model: str = "raw"
    bias: bool = True
    optimizer: str = "sgd"
    learning_rate: float = 0.01
    momentum: float = 0.0
    nesterov: bool = False
    init_w: float | None = None
    init_b: float | None = None
    loss_reduction: str = "mean"
    zero_grad: bool = True
    seed: int = 1
    epochs: int = 1000
    log_every: int = 100

    def __post_init__(self) -> None:
        for f in fields(self):
            check_field(f.name, getattr(self, f.name))
        if self.nesterov:
            if self.optimizer != "sgd":
                raise SettingsError("nesterov", "Nesterov momentum is an option of SGD only")
            if self.momentum <= 0:
                raise SettingsError("nesterov", "Nesterov momentum needs a momentum above 0")

    def with_changes(self, **changes: Any) -> Settings:
        """A copy with some fields changed; raises SettingsError if the result is invalid."""
        return replace(self, **changes)

    def with_text(self, field: str, text: str) -> Settings:
        """A copy with one field set from what a person typed."""
        return self.with_changes(**{field: parse_field(field, text)})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Settings:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise SettingsError(unknown[0], f"unknown setting {unknown[0]!r}")
        return cls(**values)

    def changed_fields(self, other: Settings) -> list[str]:
        return [f.name for f in fields(self) if getattr(self, f.name) != getattr(other, f.name)]

    @property
    def momentum_applies(self) -> bool:
        return self.optimizer in MOMENTUM_OPTIMIZERS


def _choice(field: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise SettingsError(field, f"{label(field)} must be one of {', '.join(choices)} (got {value!r})")


def _check_finite(field: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SettingsError(field, f"{label(field)} must be a number")
    if not math.isfinite(value):
        raise SettingsError(field, f"{label(field)} must be a finite number (got {value})")


def _check_learning_rate(value: object) -> None:
    _check_finite("learning_rate", value)
    if value <= 0:  # type: ignore[operator]
        raise SettingsError("learning_rate", f"learning rate must be a positive number (got {value})")
    if value > FLOAT32_MAX:  # type: ignore[operator]
        # torch.optim hands -lr to float32 kernels as alpha; a larger one raises inside step()
        raise SettingsError(
            "learning_rate", f"learning rate must fit in float32, at most 3.4e38 (got {value})"
        )


def _check_momentum(value: object) -> None:
    _check_finite("momentum", value)
    if not 0 <= value < 1:  # type: ignore[operator]
        raise SettingsError("momentum", f"momentum must be at least 0 and below 1 (got {value})")


def _check_int(field: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SettingsError(field, f"{label(field)} must be a whole number")
    if not low <= value <= high:
        raise SettingsError(field, f"{label(field)} must be between {low} and {high} (got {value})")


def _check_data(field: str, value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise SettingsError(field, f"data must be one of {', '.join(PRESETS)} or a CSV file path")


def _check_bool(field: str, value: object) -> None:
    if not isinstance(value, bool):
        raise SettingsError(field, f"{label(field)} must be on or off")


def _check_initial_value(field: str, value: object) -> None:
    if value is not None:
        _check_finite(field, value)
        if abs(value) > FLOAT32_MAX:  # type: ignore[arg-type]
            raise SettingsError(field, f"{label(field)} must fit in float32, within ±3.4e38 (got {value})")


def _choice_check(choices: tuple[str, ...]) -> Callable[[str, object], None]:
    return lambda field, value: _choice(field, value, choices)


def _int_check(low: int, high: int) -> Callable[[str, object], None]:
    return lambda field, value: _check_int(field, value, low, high)


_CHECKS: dict[str, Callable[[str, Any], None]] = {
    "data": _check_data,
    "model": _choice_check(MODELS),
    "bias": _check_bool,
    "optimizer": _choice_check(OPTIMIZERS),
    "learning_rate": lambda field, value: _check_learning_rate(value),
    "momentum": lambda field, value: _check_momentum(value),
    "nesterov": _check_bool,
    "init_w": _check_initial_value,
    "init_b": _check_initial_value,
    "loss_reduction": _choice_check(LOSS_REDUCTIONS),
    "zero_grad": _check_bool,
    "seed": _int_check(0, MAX_SEED),
    "epochs": _int_check(0, MAX_EPOCHS),
    "log_every": _int_check(1, MAX_EPOCHS),
}


def _parse_float(field: str, text: str) -> float:
    text = text.strip()
    if not text:
        raise SettingsError(field, f"{label(field)} is empty: type a number")
    if len(text) > MAX_NUMBER_LENGTH:
        raise SettingsError(field, f"{label(field)} has too many digits ({len(text)} characters)")
    try:
        value = float(text)
    except ValueError:
        raise SettingsError(field, f"{label(field)} must be a number (got {text!r})") from None
    if not math.isfinite(value):
        raise SettingsError(field, f"{label(field)} must be a finite number (got {text!r})")
    return value


def _parse_int(field: str, text: str) -> int:
    text = text.strip()
    if not text:
        raise SettingsError(field, f"{label(field)} is empty: type a whole number")
    if len(text) > MAX_NUMBER_LENGTH:
        raise SettingsError(field, f"{label(field)} has too many digits ({len(text)} characters)")
    try:
        return int(text)
    except ValueError:
        raise SettingsError(field, f"{label(field)} must be a whole number (got {text!r})") from None


def _parse_optional_float(field: str, text: str) -> float | None:
    if text.strip().lower() in ("", "default", "none"):
        return None
    return _parse_float(field, text)


def _parse_bool(field: str, text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("on", "true", "yes", "1"):
        return True
    if lowered in ("off", "false", "no", "0"):
        return False
    raise SettingsError(field, f"{label(field)} must be on or off (got {text!r})")


def _parse_choice(choices: tuple[str, ...]) -> Callable[[str, str], str]:
    def parse(field: str, text: str) -> str:
        lowered = text.strip().lower()
        if lowered not in choices:
            raise SettingsError(field, f"{label(field)} must be one of {', '.join(choices)} (got {text!r})")
        return lowered

    return parse


def _parse_data(field: str, text: str) -> str:
    text = text.strip()
    if not text:
        raise SettingsError(field, f"data must be one of {', '.join(PRESETS)} or a CSV file path")
    return text


_PARSERS: dict[str, Callable[[str, str], Any]] = {
    "data": _parse_data,
    "model": _parse_choice(MODELS),
    "bias": _parse_bool,
    "optimizer": _parse_choice(OPTIMIZERS),
    "learning_rate": _parse_float,
    "momentum": _parse_float,
    "nesterov": _parse_bool,
    "init_w": _parse_optional_float,
    "init_b": _parse_optional_float,
    "loss_reduction": _parse_choice(LOSS_REDUCTIONS),
    "zero_grad": _parse_bool,
    "seed": _parse_int,
    "epochs": _parse_int,
    "log_every": _parse_int,
}


def check_field(field: str, value: Any) -> None:
    """Check one setting on its own; the combination is checked by ``Settings``."""
    try:
        check = _CHECKS[field]
    except KeyError:
        raise SettingsError(field, f"unknown setting {field!r}") from None
    check(field, value)


def parse_field(field: str, text: str) -> Any:
    """Turn typed text into a checked value for ``field``; raises SettingsError with the reason."""
    try:
        parser = _PARSERS[field]
    except KeyError:
        raise SettingsError(field, f"unknown setting {field!r}") from None
    value = parser(field, text)
    check_field(field, value)
    return value
