"""The choices a setting can take, the limits a value must keep, and the error a bad value raises."""

from __future__ import annotations

PRESETS: tuple[str, ...] = ("line", "double", "noisy", "outliers", "scaled", "scores")
MODELS: tuple[str, ...] = ("raw", "linear")
# Every dense optimizer of torch.optim, under its torch name in lower case; the first four in
# the order the `o` key has always cycled through them.
OPTIMIZERS: tuple[str, ...] = (
    "sgd", "adagrad", "rmsprop", "adam", "adamw", "adadelta", "adamax", "nadam", "radam",
    "asgd", "rprop", "adafactor", "lbfgs",
)  # fmt: skip
OPTIMIZER_NAMES: dict[str, str] = {
    "sgd": "SGD",
    "adagrad": "Adagrad",
    "rmsprop": "RMSprop",
    "adam": "Adam",
    "adamw": "AdamW",
    "adadelta": "Adadelta",
    "adamax": "Adamax",
    "nadam": "NAdam",
    "radam": "RAdam",
    "asgd": "ASGD",
    "rprop": "Rprop",
    "adafactor": "Adafactor",
    "lbfgs": "LBFGS",
}
# torch.optim's optimizers that cannot train W and b, and why.
REFUSED_OPTIMIZERS: dict[str, str] = {
    "sparseadam": "SparseAdam takes sparse gradients only (nn.Embedding(sparse=True)); W and b have dense ones",
    "muon": "Muon updates 2-D weight matrices only, W and b here are a single number each",
}
# The options each optimizer's torch constructor takes, as lrtui's settings (besides lr).
OPTIMIZER_OPTIONS: dict[str, tuple[str, ...]] = {
    "sgd": ("momentum", "dampening", "nesterov", "weight_decay"),
    "adagrad": ("lr_decay", "weight_decay", "eps"),
    "rmsprop": ("alpha", "eps", "weight_decay", "momentum", "centered"),
    "adam": ("betas", "eps", "weight_decay", "amsgrad", "decoupled_weight_decay"),
    "adamw": ("betas", "eps", "weight_decay", "amsgrad"),
    "adadelta": ("rho", "eps", "weight_decay"),
    "adamax": ("betas", "eps", "weight_decay"),
    "nadam": ("betas", "eps", "weight_decay", "momentum_decay", "decoupled_weight_decay"),
    "radam": ("betas", "eps", "weight_decay", "decoupled_weight_decay"),
    "asgd": ("lambd", "alpha", "t0", "weight_decay"),
    "rprop": ("etas", "step_sizes"),
    "adafactor": ("weight_decay",),
    "lbfgs": ("max_iter", "history_size", "line_search"),
}
# Every option setting, in the order the panel and --help show them.
OPTION_SETTINGS: tuple[str, ...] = (
    "momentum", "nesterov", "dampening", "weight_decay", "betas", "eps", "amsgrad", "alpha", "centered",
    "rho", "lr_decay", "momentum_decay", "decoupled_weight_decay", "etas", "step_sizes", "lambd", "t0",
    "max_iter", "history_size", "line_search",
)  # fmt: skip
# The torch argument of an option whose name differs from the setting's.
TORCH_OPTION_ARGUMENTS: dict[str, str] = {"line_search": "line_search_fn"}
LINE_SEARCHES: tuple[str, ...] = ("strong_wolfe", "none")
LOSS_REDUCTIONS: tuple[str, ...] = ("mean", "sum")
SCHEDULERS: tuple[str, ...] = ("none", "step", "exponential", "cosine")
SCHEDULER_NAMES: dict[str, str] = {
    "step": "StepLR",
    "exponential": "ExponentialLR",
    "cosine": "CosineAnnealingLR",
}
# What a schedule uses when its parameter is not given (torch's own default where it has one).
SCHEDULE_DEFAULTS: dict[str, dict[str, float | int]] = {
    "step": {"step_size": 100, "gamma": 0.1},
    "exponential": {"gamma": 0.99},
    "cosine": {"t_max": 100},
}
# The schedule parameters, the schedulers that take each, and the torch argument it is.
SCHEDULE_PARAMETERS: dict[str, tuple[str, ...]] = {
    "step_size": ("step",),
    "gamma": ("step", "exponential"),
    "t_max": ("cosine",),
}
TORCH_SCHEDULE_ARGUMENTS: dict[str, str] = {"step_size": "step_size", "gamma": "gamma", "t_max": "T_max"}
LOSSES: tuple[str, ...] = ("mse", "l1", "huber")
LOSS_NAMES: dict[str, str] = {"mse": "MSE", "l1": "L1", "huber": "Huber"}
# Optimizers whose torch constructor takes a ``momentum`` argument.
MOMENTUM_OPTIMIZERS: frozenset[str] = frozenset(
    name for name in OPTIMIZERS if "momentum" in OPTIMIZER_OPTIONS[name]
)

MAX_EPOCHS = 10**9
FLOAT32_MAX = 3.4028234663852886e38  # torch.finfo(torch.float32).max; W and b are float32
MAX_SEED = 2**63 - 1
# Digits beyond this are a typo, not precision a float32 run can use.
MAX_NUMBER_LENGTH = 40

# The run's speed in epochs per second (the app's and `lrtui serve`'s --speed); 0 is as fast as it goes.
FULL_SPEED = 0
SPEEDS: tuple[int, ...] = (1, 2, 5, 10, 30, 100, 300, 1000, FULL_SPEED)
DEFAULT_SPEED = 10


def optimizers_taking(option: str) -> list[str]:
    """The optimizers whose constructor takes this option, in OPTIMIZERS' order."""
    return [name for name in OPTIMIZERS if option in OPTIMIZER_OPTIONS[name]]


def speed_label(speed: int) -> str:
    return "full speed" if speed == FULL_SPEED else f"{speed} epoch/s" if speed == 1 else f"{speed} epochs/s"


class SettingsError(ValueError):
    """A value that cannot be used, with the setting it belongs to."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message

    def __str__(self) -> str:
        return self.message


# Where the log line stands in the loop and what it prints (--print), as the lessons print it:
# after-step is Lab 2's line (W and b after optimizer.step()), before-step Lab 3's (W before the
# step, with the cost at that W), loss the nn.Module lesson's f-string of the loss alone.
PRINT_STYLES = ("after-step", "before-step", "loss")
