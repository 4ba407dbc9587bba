"""Sessions: settings, history and the exact torch state of a run, as versioned JSON.

Loading rebuilds the run from plain data (no pickle, no eval): the settings go through
their usual validation, the parameters, their ``.grad`` and the optimizer's state are
set back bit for bit, so stepping on after a load gives the numbers an uninterrupted
run would have given. Writes go to a temporary file that is then renamed over the
target, so a crash mid-write leaves the previous file intact.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import torch

from . import data as data_module
from .data import DataError
from .files import write_atomically
from .history import History
from .run import Run
from .settings import Settings, SettingsError
from .simulation import Simulation

FORMAT = "lrtui-session"
VERSION = 1
MAX_BYTES = 512 * 1024 * 1024


class SessionError(ValueError):
    """A session file that cannot be used, and why."""


# ------------------------------------------------------------------ numbers
def _number(value: float) -> float | str:
    """JSON has no infinity or NaN; those are written as strings."""
    return value if math.isfinite(value) else repr(value)


def _float(value: Any, where: str) -> float:
    if isinstance(value, bool):
        raise SessionError(f"{where}: expected a number, got {value!r}")
    if isinstance(value, (int, float)):
        return float(value)
    if value in ("inf", "-inf", "nan"):
        return float(value)
    raise SessionError(f"{where}: expected a number, got {value!r}")


def _tensor_to_json(tensor: torch.Tensor) -> dict[str, Any]:
    return {
        "dtype": str(tensor.dtype).removeprefix("torch."),
        "shape": list(tensor.shape),
        "values": [_number(v) for v in tensor.detach().flatten().tolist()],
    }


_DTYPES = {"float32": torch.float32, "float64": torch.float64, "int64": torch.int64}


def _tensor_from_json(value: Any, where: str) -> torch.Tensor:
    if not isinstance(value, dict) or set(value) != {"dtype", "shape", "values"}:
        raise SessionError(f"{where}: not a tensor record")
    dtype = _DTYPES.get(value["dtype"])
    if dtype is None:
        raise SessionError(f"{where}: unsupported dtype {value['dtype']!r}")
    shape = value["shape"]
    values = value["values"]
    if not isinstance(shape, list) or not all(isinstance(n, int) and n >= 0 for n in shape):
        raise SessionError(f"{where}: bad shape {shape!r}")
    if not isinstance(values, list) or len(values) != math.prod(shape):
        raise SessionError(
            f"{where}: {len(values) if isinstance(values, list) else 'no'} values for shape {shape}"
        )
    return torch.tensor([_float(v, where) for v in values], dtype=dtype).reshape(shape)


# ------------------------------------------------------------------- saving
def session_dict(run: Run) -> dict[str, Any]:
    simulation, history = run.simulation, run.history
    trainer = simulation.trainer_between_epochs
    optimizer_state = trainer.optimizer.state_dict()
    return {
        "format": FORMAT,
        "version": VERSION,
        "settings": simulation.settings.to_dict(),
        "epoch": simulation.epoch,
        "diverged_at": simulation.diverged_at,
        "parameters": [_tensor_to_json(p) for p in trainer.params],
        "grads": [None if p.grad is None else _tensor_to_json(p.grad) for p in trainer.params],
        "optimizer": {
            "state": {
                str(index): {
                    key: _tensor_to_json(value) if isinstance(value, torch.Tensor) else _number(value)
                    for key, value in state.items()
                }
                for index, state in optimizer_state["state"].items()
            },
        },
        "history": {
            "bias": history.bias,
            "epoch": list(history.epochs),
            **{name: [_number(v) for v in column] for name, column in history.columns.items()},
        },
    }


def save_session(path: str | os.PathLike[str], run: Run) -> None:
    write_atomically(path, json.dumps(session_dict(run), allow_nan=False))


# ------------------------------------------------------------------ loading
def load_session(path: str | os.PathLike[str]) -> Run:
    """The run saved in ``path``; raises SessionError with the reason, changing nothing."""
    path = Path(path)
    try:
        if path.is_dir():
            raise SessionError(f"{path}: is a directory, not a session file")
        if path.stat().st_size > MAX_BYTES:
            raise SessionError(f"{path}: too large for a session file")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SessionError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise SessionError(f"{path}: not a session file (not UTF-8 text)") from None
    except OSError as error:
        raise SessionError(f"{path}: cannot be read ({error.strerror})") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise SessionError(
            f"{path}: corrupt or truncated (JSON error at line {error.lineno}, column {error.colno})"
        ) from None
    try:
        return session_from_dict(document)
    except SessionError as error:
        raise SessionError(f"{path}: {error}") from None


def session_from_dict(document: Any) -> Run:
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise SessionError("not an lrtui session file")
    version = document.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise SessionError("the session has no version number")
    if version > VERSION:
        raise SessionError(
            f"written by a newer lrtui (session version {version}); this one reads version {VERSION}"
        )
    if version < 1:
        raise SessionError(f"unknown session version {version}")
    try:
        settings = Settings.from_dict(_field(document, "settings", dict))
    except (SettingsError, TypeError) as error:
        raise SessionError(f"bad settings: {error}") from None
    try:
        dataset = data_module.load(settings.data)
    except DataError as error:
        raise SessionError(f"the session's data cannot be loaded: {error}") from None
    simulation = Simulation(settings, dataset)
    _restore_trainer(simulation, document)
    epoch = _field(document, "epoch", int)
    if epoch < 0:
        raise SessionError("epoch must not be negative")
    diverged_at = document.get("diverged_at")
    if diverged_at is not None and not isinstance(diverged_at, int):
        raise SessionError("diverged_at must be an epoch number or null")
    history = _history(_field(document, "history", dict))
    if history.bias is not None and history.bias != settings.bias:
        raise SessionError("the history's bias does not match the settings")
    if len(history) and history.epochs[-1] != epoch - 1:
        raise SessionError("the history does not end at the session's epoch")
    simulation.resume_at(epoch, history.last, diverged_at)
    return Run(settings, simulation=simulation, history=history)


def _field(document: dict[str, Any], name: str, kind: type) -> Any:
    value = document.get(name)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise SessionError(f"missing or malformed {name!r}")
    return value


def _restore_trainer(simulation: Simulation, document: dict[str, Any]) -> None:
    trainer = simulation.trainer
    parameters = _field(document, "parameters", list)
    grads = _field(document, "grads", list)
    if len(parameters) != len(trainer.params) or len(grads) != len(trainer.params):
        raise SessionError("the saved parameters do not match the settings (bias on or off?)")
    trainer.values = None  # the parameters change under it
    with torch.no_grad():
        for index, (param, saved, grad) in enumerate(zip(trainer.params, parameters, grads, strict=True)):
            value = _tensor_from_json(saved, f"parameter {index}")
            if value.shape != param.shape:
                raise SessionError(
                    f"parameter {index}: shape {list(value.shape)}, expected {list(param.shape)}"
                )
            param.copy_(value)
            param.grad = (
                None if grad is None else _tensor_from_json(grad, f"gradient {index}").reshape(param.shape)
            )
    saved_state = _field(document, "optimizer", dict).get("state", {})
    if not isinstance(saved_state, dict):
        raise SessionError("malformed optimizer state")
    state_dict = trainer.optimizer.state_dict()
    restored: dict[int, dict[str, Any]] = {}
    for key, entries in saved_state.items():
        if not key.isdigit() or int(key) >= len(trainer.params) or not isinstance(entries, dict):
            raise SessionError(f"malformed optimizer state for parameter {key!r}")
        restored[int(key)] = {
            name: _tensor_from_json(value, f"optimizer state {name}")
            if isinstance(value, dict)
            else _float(value, name)
            for name, value in entries.items()
        }
    state_dict["state"] = restored
    try:
        trainer.optimizer.load_state_dict(state_dict)
    except (ValueError, KeyError, RuntimeError) as error:
        raise SessionError(f"the optimizer state does not fit the settings: {error}") from None


def _history(saved: dict[str, Any]) -> History:
    history = History()
    epochs = saved.get("epoch")
    if not isinstance(epochs, list) or not all(
        isinstance(e, int) and not isinstance(e, bool) for e in epochs
    ):
        raise SessionError("malformed history epochs")
    bias = saved.get("bias")
    if bias is not None and not isinstance(bias, bool):
        raise SessionError("malformed history bias")
    history.bias = bias
    history.epochs.extend(epochs)
    for name, column in history.columns.items():
        values = saved.get(name)
        if not isinstance(values, list) or len(values) != len(epochs):
            raise SessionError(f"history column {name!r} is missing or has the wrong length")
        column.extend(_float(v, f"history {name}") for v in values)
    return history
