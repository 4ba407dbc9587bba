"""A session's torch state: the parameters, their ``.grad`` and the optimizer's state, checked
against what torch itself makes for the run's settings and then set back bit for bit."""

from __future__ import annotations

import inspect
import math
from typing import Any

import torch

from .history import History
from .session_json import SessionError, field_of, read_float, shown, tensor_from_json
from .simulation import Simulation

_PARAMETER_NAMES = ("W", "b")
# Optimizer state that is a running sum or average of squares, never negative.
_SQUARES = frozenset(
    {"exp_avg_sq", "max_exp_avg_sq", "sum", "square_avg", "acc_delta", "row_var", "col_var", "variance"}
)
# L-BFGS's counters, which torch keeps as ints.
_COUNTS = frozenset({"func_evals", "n_iter"})


def restore_trainer(simulation: Simulation, document: dict[str, Any], epoch: int, history: History) -> None:
    """Set the parameters, their ``.grad`` and the optimizer state back from a session, bit for
    bit, after checking each against what torch makes for these settings."""
    trainer = simulation.trainer
    parameters = field_of(document, "parameters", list)
    grads = field_of(document, "grads", list)
    if len(parameters) != len(trainer.params) or len(grads) != len(trainer.params):
        raise SessionError("the saved parameters do not match the settings (bias on or off?)")
    values = []
    for index, (param, saved, grad) in enumerate(zip(trainer.params, parameters, grads, strict=True)):
        where = f"parameter {index} ({_PARAMETER_NAMES[index]})"
        value = _tensor_like(param, saved, where)
        values.append((value, None if grad is None else _tensor_like(param, grad, f"gradient {index}")))
    _check_parameters_follow_history([value for value, _ in values], history)
    restored = _optimizer_state(document, trainer.optimizer, trainer.params, epoch)
    trainer.values = None  # the parameters change under it
    with torch.no_grad():
        for param, (value, grad) in zip(trainer.params, values, strict=True):
            param.copy_(value)
            param.grad = grad
    state_dict = trainer.optimizer.state_dict()
    state_dict["state"] = restored
    try:
        trainer.optimizer.load_state_dict(state_dict)
    except (ValueError, KeyError, RuntimeError) as error:
        raise SessionError(f"the optimizer state does not fit the settings: {error}") from None


def _tensor_like(param: torch.Tensor, saved: Any, where: str) -> torch.Tensor:
    value = tensor_from_json(saved, where)
    if value.shape != param.shape or value.dtype != param.dtype:
        raise SessionError(
            f"{where}: a {_dtype_name(value)} tensor of shape {list(value.shape)},"
            f" expected {_dtype_name(param)} of shape {list(param.shape)}"
        )
    return value


def _dtype_name(tensor: torch.Tensor) -> str:
    return str(tensor.dtype).removeprefix("torch.")


def _check_parameters_follow_history(values: list[torch.Tensor], history: History) -> None:
    """W and b are where the last step in the history left them (or, after a step torch refused,
    where they were; a step that went non-finite may not have moved them)."""
    last = history.last
    if last is None or not (last.finite or last.step_refused):
        return
    for index, (value, expected) in enumerate(
        zip(values, (last.weights("w_next"), last.b_next), strict=False)
    ):
        saved = tuple(value.flatten().tolist())
        if expected is not None and saved != (expected if isinstance(expected, tuple) else (expected,)):
            raise SessionError(
                f"parameter {index} ({_PARAMETER_NAMES[index]}) is {_numbers(saved)}, but the history's"
                f" last step left it at {_numbers(expected)}"
            )


def _numbers(values: tuple[float, ...] | float) -> str:
    if isinstance(values, tuple):
        return f"{values[0]:g}" if len(values) == 1 else f"[{', '.join(f'{v:g}' for v in values)}]"
    return f"{values:g}"


Layout = dict[int, dict[str, tuple[str, ...]]]


def _kind(value: Any, name: str = "") -> tuple[str, ...]:
    if isinstance(value, list):
        return ("list",)
    if isinstance(value, torch.Tensor) and not (name == "t" and value.dim() == 0):
        return ("tensor", _dtype_name(value), str(list(value.shape)))
    return ("number",)  # L-BFGS's step length t is a float or a 0-d tensor, as it comes


def _layout(state: dict[int, dict[str, Any]]) -> Layout:
    """What an optimizer state holds: per parameter, each entry's kind, dtype and shape."""
    return {
        index: {name: _kind(value, name) for name, value in entries.items()}
        for index, entries in state.items()
    }


def _reference_layouts(optimizer: torch.optim.Optimizer, params: list[torch.Tensor]) -> list[Layout]:
    """The states torch makes for this optimizer with these settings: new, and after each of
    a few steps (L-BFGS's grows over its first steps, and stays put if its first gradient is 0).

    Built on copies of the parameters, so the run itself is untouched.
    """
    twins = [torch.zeros_like(param, requires_grad=True) for param in params]
    # The layout does not depend on the learning rate, and Adam's first step at lr > 3.4e37 raises.
    taken = inspect.signature(type(optimizer)).parameters  # AdamW's defaults hold more than it takes
    arguments = {key: value for key, value in optimizer.defaults.items() if key in taken}
    reference = type(optimizer)(twins, **{**arguments, "lr": 1.0})
    layouts = [_layout(reference.state_dict()["state"])]

    def closure() -> float:
        reference.zero_grad()
        cost = sum(((twin - 1) ** 2 * (index + 1)).sum() for index, twin in enumerate(twins))
        assert isinstance(cost, torch.Tensor)
        cost.backward()
        return cost.item()

    if isinstance(reference, torch.optim.LBFGS):
        for twin in twins:
            twin.grad = torch.zeros_like(twin)
        idle = type(optimizer)(twins, **{**arguments, "lr": 1.0})
        idle.step(lambda: 0.0)  # a zero gradient: it counts the evaluation and stops
        layouts.append(_layout(idle.state_dict()["state"]))
        for _ in range(3):
            reference.step(closure)
            layouts.append(_layout(reference.state_dict()["state"]))
        return layouts
    for twin in twins:
        twin.grad = torch.ones_like(twin)
    reference.step()
    return [*layouts, _layout(reference.state_dict()["state"])]


def _optimizer_state(
    document: dict[str, Any], optimizer: torch.optim.Optimizer, params: list[torch.Tensor], epoch: int
) -> dict[int, dict[str, Any]]:
    saved_state = field_of(document, "optimizer", dict).get("state", {})
    if not isinstance(saved_state, dict):
        raise SessionError("malformed optimizer state")
    restored: dict[int, dict[str, Any]] = {}
    for key, entries in saved_state.items():
        if not key.isdigit() or int(key) >= len(params) or not isinstance(entries, dict):
            raise SessionError(f"malformed optimizer state for parameter {shown(key)}")
        restored[int(key)] = {
            name: _state_entry(value, f"optimizer state {name} of parameter {key}", name in _COUNTS)
            for name, value in entries.items()
        }
    layouts = _reference_layouts(optimizer, params)
    layout = _layout(restored)
    if layout not in layouts:
        raise SessionError(
            _layout_difference(type(optimizer).__name__, layout, layouts[-1] if layout else layouts[0])
        )
    if isinstance(optimizer, torch.optim.LBFGS):
        _check_lbfgs_history(restored, optimizer, params)
    steps_so_far = torch.tensor(float(epoch), dtype=torch.float32).item()  # torch counts in float32
    for key, entries in restored.items():
        for name, value in entries.items():
            where = f"optimizer state {name} of parameter {key}"
            numbers = value.flatten().tolist() if isinstance(value, torch.Tensor) else [value]
            if name == "step" and not all(
                math.isfinite(n) and n == int(n) and 0 <= n <= steps_so_far for n in numbers
            ):
                raise SessionError(
                    f"{where}: {numbers[0]:g} is not a step count from 0 to the epoch ({epoch})"
                )
            if name in _SQUARES and any(n < 0 for n in numbers):
                raise SessionError(f"{where}: a sum of squares cannot be negative")
    return restored


def _state_entry(value: Any, where: str, count: bool) -> Any:
    if isinstance(value, dict):
        return tensor_from_json(value, where)
    if isinstance(value, list):
        return [
            None if item is None else tensor_from_json(item, f"{where} [{i}]") for i, item in enumerate(value)
        ]
    number = read_float(value, where)
    if count:
        if number != int(number) or number < 0:
            raise SessionError(f"{where}: {number:g} is not a count")
        return int(number)
    return number


def _check_lbfgs_history(
    restored: dict[int, dict[str, Any]], optimizer: torch.optim.Optimizer, params: list[torch.Tensor]
) -> None:
    """L-BFGS's history: as many directions as steps and ρs (at most history_size), each a float32
    vector over all the parameters' numbers (ρ a number), and its scratch list ``al``."""
    state = restored.get(0, {})
    if "old_dirs" not in state:
        return
    size = optimizer.defaults["history_size"]
    flat = [sum(param.numel() for param in params)]
    lists = {name: state[name] for name in ("old_dirs", "old_stps", "ro")}
    if len({len(items) for items in lists.values()}) != 1 or len(state["old_dirs"]) > size:
        raise SessionError(
            f"optimizer state: L-BFGS's old_dirs, old_stps and ro differ in length or pass {size}"
        )
    shapes = {"old_dirs": flat, "old_stps": flat, "ro": []}
    for name, items in lists.items():
        for item in items:
            if item is None or item.dtype != torch.float32 or list(item.shape) != shapes[name]:
                raise SessionError(
                    f"optimizer state {name}: expected float32 tensors of shape {shapes[name]}"
                )
    al = state.get("al")
    if al is not None and (
        len(al) != size or any(a is not None and (a.dtype != torch.float32 or a.dim() != 0) for a in al)
    ):
        raise SessionError(f"optimizer state al: expected {size} numbers (or none yet)")


def _layout_difference(optimizer: str, layout: Layout, expected: Layout) -> str:
    """One line saying where a saved optimizer state differs from the one torch makes."""
    if set(layout) != set(expected):
        return (
            f"optimizer state: {optimizer} keeps state for parameters {sorted(expected) or 'none'},"
            f" the file has {sorted(layout) or 'none'}"
        )
    for index, entries in expected.items():
        if set(layout[index]) != set(entries):
            return (
                f"optimizer state of parameter {index}: {optimizer} keeps {', '.join(sorted(entries))},"
                f" the file has {', '.join(sorted(layout[index])) or 'nothing'}"
            )
        for name, kind in entries.items():
            if layout[index][name] != kind:
                return (
                    f"optimizer state {name} of parameter {index}: expected {_kind_text(kind)},"
                    f" got {_kind_text(layout[index][name])}"
                )
    return f"optimizer state does not fit {optimizer}"


def _kind_text(kind: tuple[str, ...]) -> str:
    if kind[0] == "list":
        return "a list"
    return "a number" if kind[0] == "number" else f"a {kind[1]} tensor of shape {kind[2]}"
