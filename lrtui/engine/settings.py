"""The one validated description of a training run.

Each setting is declared once in ``fields.FIELDS`` (label, parser, check, flag, race keys,
panel row); its default lives only here, on ``Settings``. Nothing else in lrtui validates
settings. The choices and the registry are re-exported from here, where callers look for them.
"""

from __future__ import annotations

from dataclasses import MISSING, asdict, dataclass, fields, replace
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
    MOMENTUM_OPTIMIZERS,
    OPTIMIZER_NAMES,
    OPTIMIZER_OPTIONS,
    OPTIMIZERS,
    OPTION_SETTINGS,
    PRESETS,
    SCHEDULE_DEFAULTS,
    SCHEDULE_PARAMETERS,
    SCHEDULER_NAMES,
    SCHEDULERS,
    TORCH_OPTION_ARGUMENTS,
    TORCH_SCHEDULE_ARGUMENTS,
    SettingsError,
)
from .fields import (
    FIELD,
    FIELDS,
    PROBLEM_FIELDS,
    SettingField,
    check_field,
    field_text,
    label,
    parse_field,
)

# Callers import the choices and the registry from here, with the settings themselves.
__all__ = [
    "FIELD",
    "FIELDS",
    "FLOAT32_MAX",
    "LOSSES",
    "LOSS_NAMES",
    "LOSS_REDUCTIONS",
    "MAX_EPOCHS",
    "MAX_NUMBER_LENGTH",
    "MAX_SEED",
    "MODELS",
    "MOMENTUM_OPTIMIZERS",
    "OPTIMIZERS",
    "OPTIMIZER_NAMES",
    "OPTIMIZER_OPTIONS",
    "OPTION_SETTINGS",
    "PRESETS",
    "PROBLEM_FIELDS",
    "SCHEDULERS",
    "SCHEDULER_NAMES",
    "SCHEDULE_DEFAULTS",
    "SCHEDULE_PARAMETERS",
    "SettingField",
    "Settings",
    "SettingsError",
    "TORCH_SCHEDULE_ARGUMENTS",
    "check_field",
    "default",
    "field_text",
    "flag_help",
    "label",
    "model_text",
    "parse_field",
]


@dataclass(frozen=True)
class Settings:
    data: str = "line"
    model: str = "raw"
    bias: bool = True
    optimizer: str = "sgd"
    learning_rate: float = 0.01
    momentum: float = 0.0
    nesterov: bool = False
    # The optimizers' options: None (or off) leaves torch's own default, never copied here.
    dampening: float | None = None
    weight_decay: float | None = None
    betas: tuple[float, float] | None = None
    eps: float | None = None
    amsgrad: bool = False
    alpha: float | None = None
    centered: bool = False
    rho: float | None = None
    lr_decay: float | None = None
    momentum_decay: float | None = None
    decoupled_weight_decay: bool = False
    etas: tuple[float, float] | None = None
    step_sizes: tuple[float, float] | None = None
    lambd: float | None = None
    t0: float | None = None
    max_iter: int | None = None
    history_size: int | None = None
    line_search: str | None = None
    decay_bias: bool = True  # off: b in a parameter group of its own with weight_decay 0
    init_w: float | tuple[float, ...] | None = None  # a tuple: W's k values
    init_b: float | None = None
    loss_reduction: str = "mean"
    zero_grad: bool = True
    seed: int = 1
    epochs: int = 1000
    log_every: int = 100
    batch_size: int | None = None  # None: the full batch, no DataLoader
    shuffle: bool = False
    scheduler: str = "none"
    step_size: int | None = None  # None: SCHEDULE_DEFAULTS
    gamma: float | None = None
    t_max: int | None = None
    loss: str = "mse"
    huber_delta: float = 1.0
    standardize: bool = False
    print_style: str = "after-step"  # PRINT_STYLES: where the log line stands, what it prints

    def __post_init__(self) -> None:
        if isinstance(self.init_w, list):  # read from JSON
            object.__setattr__(self, "init_w", tuple(self.init_w))
        for f in fields(self):
            check_field(f.name, getattr(self, f.name))
        _check_batches_and_schedule(self)
        if self.nesterov:
            if self.optimizer != "sgd":
                raise SettingsError("nesterov", "Nesterov momentum is an option of SGD only")
            if self.momentum <= 0:
                raise SettingsError("nesterov", "Nesterov momentum needs a momentum above 0")
        if self.momentum and not self.momentum_applies:
            takes = " and ".join(name for name in OPTIMIZERS if name in MOMENTUM_OPTIMIZERS)
            raise SettingsError("momentum", f"{self.optimizer} has no momentum; it applies to {takes}")
        _check_options(self)

    def with_changes(self, **changes: Any) -> Settings:
        """A copy with exactly these fields changed; raises SettingsError if the result is
        invalid. A learner's change goes through ``changing``, which adds what it drags along."""
        return replace(self, **changes)

    def changing(self, **changes: Any) -> Settings:
        """The settings after a learner's change (the panel, a key, a race contender): the
        fields given, and what no longer fits goes back to unset. A scheduler's parameters
        go with it, shuffle with the batches, and an optimizer's options (Nesterov, momentum,
        betas, ...) with an optimizer that does not take them. What is given is kept as given (and refused if it does not fit).
        The one rule for a change; ``is_new_problem`` says whether the run starts again."""
        dragged: dict[str, Any] = {}
        scheduler = changes.get("scheduler", self.scheduler)
        for name, schedulers in SCHEDULE_PARAMETERS.items():
            if scheduler not in schedulers and getattr(self, name) is not None:
                dragged[name] = None
        if changes.get("batch_size", self.batch_size) is None and self.shuffle:
            dragged["shuffle"] = False
        optimizer = changes.get("optimizer", self.optimizer)
        if optimizer != "sgd" and self.nesterov:
            dragged["nesterov"] = False
        if optimizer not in MOMENTUM_OPTIMIZERS and self.momentum:
            dragged["momentum"] = 0.0
        for name in OPTION_SETTINGS:
            if name not in OPTIMIZER_OPTIONS.get(optimizer, ()) and getattr(self, name) != default(name):
                dragged[name] = default(name)
        if not self.decay_bias and (
            "weight_decay" not in OPTIMIZER_OPTIONS.get(optimizer, ()) or not changes.get("bias", self.bias)
        ):
            dragged["decay_bias"] = True
        return replace(self, **{**dragged, **changes})

    def is_new_problem(self, other: Settings) -> bool:
        """True when going from these settings to ``other`` makes a new problem (other data, model
        or starting point): the run starts again at epoch 0 instead of going on."""
        return any(getattr(self, name) != getattr(other, name) for name in PROBLEM_FIELDS)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Settings:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise SettingsError(unknown[0], f"unknown setting {unknown[0]!r}")
        # JSON has no tuples: a pair of numbers comes back as a list
        values = {
            name: tuple(value) if name in PAIR_SETTINGS and isinstance(value, list) else value
            for name, value in values.items()
        }
        return cls(**values)

    def changed_fields(self, other: Settings) -> list[str]:
        return [f.name for f in fields(self) if getattr(self, f.name) != getattr(other, f.name)]

    @property
    def momentum_applies(self) -> bool:
        return self.optimizer in MOMENTUM_OPTIMIZERS

    @property
    def mini_batches(self) -> bool:
        """True when the epoch goes through a DataLoader in batches (``batch_size`` set)."""
        return self.batch_size is not None

    def optimizer_options(self) -> dict[str, Any]:
        """The options given to the optimizer's constructor as torch names them, besides lr: only
        those set, so that torch's own defaults hold for the rest (line_search none is given as
        line_search_fn=None)."""
        options: dict[str, Any] = {}
        for name in OPTIMIZER_OPTIONS[self.optimizer]:
            value = getattr(self, name)
            if value == default(name):
                continue
            if name == "line_search" and value == "none":
                value = None
            options[TORCH_OPTION_ARGUMENTS.get(name, name)] = value
        return options

    def schedule(self) -> dict[str, float | int]:
        """The chosen scheduler's parameters as torch names them (defaults filled in); empty
        without a schedule."""
        if self.scheduler == "none":
            return {}
        values = dict(SCHEDULE_DEFAULTS[self.scheduler])
        for name in values:
            given = getattr(self, name)
            if given is not None:
                values[name] = given
        return {TORCH_SCHEDULE_ARGUMENTS[name]: value for name, value in values.items()}


def _check_batches_and_schedule(settings: Settings) -> None:
    """A DataLoader option needs a batch size, a schedule parameter its scheduler."""
    if settings.shuffle and settings.batch_size is None:
        raise SettingsError("shuffle", "shuffle is a DataLoader option: it needs a batch size")
    for name, schedulers in SCHEDULE_PARAMETERS.items():
        if getattr(settings, name) is not None and settings.scheduler not in schedulers:
            takes = " or ".join(SCHEDULER_NAMES[s] for s in schedulers)
            needs = " or ".join(schedulers)
            raise SettingsError(name, f"{label(name)} is a setting of {takes}: it needs scheduler {needs}")


PAIR_SETTINGS: frozenset[str] = frozenset({"betas", "etas", "step_sizes"})


def _check_options(settings: Settings) -> None:
    """An option only for an optimizer that takes it, and torch's rules that join two settings."""
    takes = OPTIMIZER_OPTIONS[settings.optimizer]
    for name in OPTION_SETTINGS:
        if name in ("momentum", "nesterov") or name in takes or getattr(settings, name) == default(name):
            continue
        names = ", ".join(OPTIMIZER_NAMES[o] for o in OPTIMIZERS if name in OPTIMIZER_OPTIONS[o])
        raise SettingsError(
            name, f"{OPTIMIZER_NAMES[settings.optimizer]} has no {label(name)}; it is an option of {names}"
        )
    if settings.optimizer == "rmsprop" and settings.alpha is not None and settings.alpha < 0:
        raise SettingsError("alpha", f"RMSprop's alpha must be at least 0 (got {settings.alpha:g})")
    if not settings.decay_bias:
        if "weight_decay" not in takes:
            raise SettingsError(
                "decay_bias", f"{OPTIMIZER_NAMES[settings.optimizer]} has no weight decay to leave b out of"
            )
        if not settings.bias:
            raise SettingsError("decay_bias", "decay bias off needs a b: the model has no bias")
    if settings.nesterov and settings.dampening:
        raise SettingsError("dampening", "Nesterov momentum needs zero dampening (torch's rule)")


def default(name: str) -> Any:
    """The value a setting has when nobody sets it (read from ``Settings``)."""
    return next(f.default for f in fields(Settings) if f.name == name and f.default is not MISSING)


def model_text(settings: Settings) -> str:
    """The model in a few words: ``nn.Linear``, ``raw W, b`` or ``raw W``."""
    if settings.model == "linear":
        return "nn.Linear"
    return "raw W, b" if settings.bias else "raw W"


def flag_help(field: SettingField) -> str:
    """A flag's help with its default, read from ``Settings``."""
    if field.switch is not None:
        return field.help
    given = field.default_help or field_text(field.name, default(field.name))
    return f"{field.help} (default {given})"
