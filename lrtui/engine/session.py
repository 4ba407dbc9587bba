"""Sessions: settings, history and the exact torch state of a run, as versioned JSON.

Loading rebuilds the run from plain data (no pickle, no eval): the settings go through
their usual validation, the parameters, their ``.grad`` and the optimizer's state are
set back bit for bit, so stepping on after a load gives the numbers an uninterrupted
run would have given. Writes go to a temporary file that is then renamed over the
target, so a crash mid-write leaves the previous file intact.
"""

from __future__ import annotations

import json
import os
import stat
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from . import data as data_module
from .data import MAX_FEATURES, DataError, Dataset
from .files import write_atomically
from .history import VECTOR_COLUMNS, History
from .record import EpochRecord
from .run import Run
from .session_json import (
    MAX_BYTES,
    SessionError,
    field_of,
    json_number,
    read_float,
    read_whole,
    tensor_to_json,
)
from .session_loop import batches_done, check_history_order, history_batches, loop_dict, restore_loop
from .session_trainer import restore_trainer
from .settings import FIELD, MAX_EPOCHS, PRESETS, Settings, SettingsError, parse_field
from .simulation import Simulation

FORMAT = "lrtui-session"
VERSION = 1


# ------------------------------------------------------------------- saving
def _settings_to_json(settings: Settings) -> dict[str, Any]:
    """The settings as saved: a CSV path made absolute, so the session loads from any folder."""
    values = settings.to_dict()
    if values["data"] not in PRESETS:
        values["data"] = os.path.abspath(values["data"])
    return values


def _state_to_json(value: Any) -> Any:
    """An optimizer state entry: a tensor, a number, or (L-BFGS's history) a list of tensors and Nones."""
    if isinstance(value, list):
        return [None if item is None else tensor_to_json(item) for item in value]
    return tensor_to_json(value) if isinstance(value, torch.Tensor) else json_number(value)


def session_dict(run: Run) -> dict[str, Any]:
    simulation, history = run.simulation, run.history
    trainer = simulation.trainer_between_epochs
    optimizer_state = trainer.optimizer.state_dict()
    return {
        "format": FORMAT,
        "version": VERSION,
        "settings": _settings_to_json(simulation.settings),
        "epoch": simulation.epoch,
        "diverged_at": simulation.diverged_at,
        "parameters": [tensor_to_json(p) for p in trainer.params],
        "grads": [None if p.grad is None else tensor_to_json(p.grad) for p in trainer.params],
        "optimizer": {
            "state": {
                str(index): {key: _state_to_json(value) for key, value in state.items()}
                for index, state in optimizer_state["state"].items()
            },
        },
        "history": {
            "bias": history.bias,
            "epoch": list(history.epochs),
            "step_refused_at": history.refused_at,
            **{name: [json_number(v) for v in column] for name, column in history.columns.items()},
            **_vectors_dict(history),
        },
        **loop_dict(simulation, list(history.batch)),
    }


def save_session(path: str | os.PathLike[str], run: Run) -> None:
    write_atomically(path, session_text(run))


def session_text(run: Run) -> str:
    """The session file's text (what ``save_session`` writes, or a download's content)."""
    return json.dumps(session_dict(run), allow_nan=False)


# ------------------------------------------------------------------ loading
def load_session(path: str | os.PathLike[str]) -> Run:
    """The run saved in ``path``; raises SessionError with the reason, changing nothing."""
    return session_from_file(read_session(path))


@dataclass(frozen=True)
class SessionFile:
    """What loading a session reads from files: the document and the data it trains on. An app
    reads it off its UI thread; ``session_from_file`` then rebuilds the run."""

    path: Path
    document: dict[str, Any]
    dataset: Dataset


def read_session(
    path: str | os.PathLike[str], data_path: Callable[[str], str] | None = None, *, quote: bool = True
) -> SessionFile:
    """Read the session in ``path`` and its data, or raise SessionError saying why not.

    ``data_path`` maps the data file the session names to the one to read, or refuses it with a
    ValueError (a served app reads only from its data folder); ``quote`` as for ``data.load``.
    """
    path = Path(path)
    document = _read_document(path)
    try:
        settings = _checked_settings(document)
        data = settings.data
        if data_path is not None and data not in PRESETS:
            data = document["settings"]["data"] = data_path(data)
        dataset = data_module.load(data, quote=quote)
    except SessionError as error:
        raise SessionError(f"{path}: {error}") from None
    except (ValueError, OSError) as error:  # the data cannot be read (DataError) or may not be (data_path)
        raise SessionError(f"{path}: the session's data cannot be loaded: {error}") from None
    return SessionFile(path, document, dataset)


def session_from_file(read: SessionFile) -> Run:
    """The run a session file read by ``read_session`` holds; SessionError if it is not sound."""
    try:
        return session_from_dict(read.document, read.dataset)
    except SessionError as error:
        raise SessionError(f"{read.path}: {error}") from None


def _read_document(path: Path) -> Any:
    """The parsed JSON of a session file, or SessionError saying in one line why not."""
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise SessionError(f"{path}: is a directory, not a session file")
        if not stat.S_ISREG(info.st_mode):  # a named pipe would block the reader forever
            raise SessionError(f"{path}: not a regular file (a pipe or a device), so not a session file")
        if info.st_size > MAX_BYTES:
            raise SessionError(
                f"{path}: {info.st_size:,} bytes, over lrtui's limit of {MAX_BYTES // 2**20} MB for a"
                " session file (the sessions lrtui writes stay under about 35 MB)"
            )
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
    except RecursionError:
        raise SessionError(f"{path}: not a session file (lists or objects nested too deeply)") from None
    except ValueError:  # Python refuses integers of more than 4,300 digits
        raise SessionError(f"{path}: not a session file (a number with thousands of digits)") from None
    _find_data_beside(document, path.parent)
    return document


def _find_data_beside(document: Any, folder: Path) -> None:
    """Sessions written before CSV paths were saved absolute hold the path as typed: if it is not
    found from here, look for it from the session's own folder."""
    settings = document.get("settings") if isinstance(document, dict) else None
    data = settings.get("data") if isinstance(settings, dict) else None
    if not isinstance(data, str) or data in PRESETS or os.path.isabs(data) or os.path.exists(data):
        return
    beside = folder / data
    try:
        found = beside.exists()
    except OSError:  # a name too long for the file system: the data's own check refuses it
        return
    if found and isinstance(settings, dict):
        settings["data"] = str(beside)


def session_from_dict(document: Any, dataset: Dataset | None = None) -> Run:
    """The run a session document holds; its data is loaded unless ``dataset`` is given.

    Whatever goes wrong while torch rebuilds the run is a SessionError: a file the checks
    above missed is refused, never a crash of the app that opened it."""
    try:
        return _session_from_dict(document, dataset)
    except SessionError:
        raise
    except Exception as error:  # noqa: BLE001  # torch's own refusals: OverflowError, RuntimeError, ...
        raise SessionError(f"the run cannot be rebuilt from it ({type(error).__name__}: {error})") from None


def _session_from_dict(document: Any, dataset: Dataset | None) -> Run:
    settings = _checked_settings(document)
    if dataset is None:
        try:
            dataset = data_module.load(settings.data)
        except DataError as error:
            raise SessionError(f"the session's data cannot be loaded: {error}") from None
    simulation = Simulation(settings, dataset)
    done, count = batches_done(document, settings, dataset.size)
    epoch, diverged_at = _epochs(document, done)
    history = _history(
        field_of(document, "history", dict), settings, epoch, diverged_at, (document, done, count)
    )
    if len(history) and history.features != dataset.features:
        raise SessionError(
            f"the history has {history.features} weights a step, the data {dataset.features} features"
        )
    restore_trainer(simulation, document, epoch * count + done, history)
    restore_loop(simulation, document)
    simulation.resume_at(epoch, history.last, diverged_at)
    return Run(settings, simulation=simulation, history=history)


def _checked_settings(document: Any) -> Settings:
    """The settings of something that says it is a session of a version this lrtui reads."""
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
    return _settings(document)


def _settings(document: dict[str, Any]) -> Settings:
    saved = field_of(document, "settings", dict)
    try:
        return Settings.from_dict({name: _as_typed(name, value) for name, value in saved.items()})
    except (SettingsError, TypeError, ValueError, OverflowError) as error:
        raise SessionError(f"bad settings: {error}") from None


def _as_typed(name: str, value: Any) -> Any:
    """A saved number as its flag would read it (``parse_field`` on its text), so a session
    holds nothing a flag refuses: 10**19 as a learning rate is the float 1e19, not a Python
    int that overflows inside torch."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    if isinstance(value, int):
        read_float(value, f"settings {name}")  # beyond any float: refused here, by name
    field = FIELD.get(name)
    if field is None or field.kind != "input" or name == "data":
        return value
    return parse_field(name, repr(value))


def _epochs(document: dict[str, Any], done: int = 0) -> tuple[int, int | None]:
    """The next epoch to run (or the one in progress, with ``done`` of its batches done) and the
    epoch the run diverged at (None if it did not)."""
    epoch = read_whole(document.get("epoch"), "epoch", 0, MAX_EPOCHS + 1)
    diverged_at = document.get("diverged_at")
    if diverged_at is None:
        return epoch, None
    diverged_at = read_whole(diverged_at, "diverged_at", 0, MAX_EPOCHS)
    last = epoch if done else epoch - 1
    if diverged_at != last:
        raise SessionError(
            f"diverged_at: a run stops at the epoch it diverged at, so {diverged_at} must be"
            f" {last} (the last epoch run)"
        )
    return epoch, diverged_at


def _history(
    saved: dict[str, Any],
    settings: Settings,
    epoch: int,
    diverged_at: int | None,
    loop: tuple[dict[str, Any], int, int] | None = None,
) -> History:
    history = History()
    epochs = saved.get("epoch")
    if not isinstance(epochs, list):
        raise SessionError("malformed history epochs")
    if not epochs and epoch > 0:
        raise SessionError(f"the history is empty but the session is at epoch {epoch}")
    previous = -1
    for position, value in enumerate(epochs):
        number = read_whole(value, f"history epoch {position}", 0, MAX_EPOCHS)
        if number <= previous and not settings.mini_batches:
            raise SessionError(f"history epoch {position}: {number} does not come after {previous}")
        previous = number
    if loop is not None and settings.mini_batches:
        document, done, count = loop
        batches = history_batches(document, settings, len(epochs), count)
        check_history_order(epochs, batches, epoch, done, count)
        history.batch.extend(batches)
        history.batches = count
    elif epochs and epochs[-1] != epoch - 1:
        raise SessionError(
            f"the history does not end at the session's epoch: it ends at {epochs[-1]}, the session is"
            f" at epoch {epoch}"
        )
    bias = saved.get("bias")
    if bias is not None and not isinstance(bias, bool):
        raise SessionError("malformed history bias")
    if epochs and bias != settings.bias:
        raise SessionError("the history's bias does not match the settings")
    history.bias = bias
    history.epochs.extend(epochs)
    if not settings.mini_batches:
        history.batch.extend([0] * len(epochs))
    for name, column in history.columns.items():
        values = saved.get(name)
        if not isinstance(values, list) or len(values) != len(epochs):
            raise SessionError(f"history column {name!r} is missing or has the wrong length")
        column.extend(read_float(v, f"history {name}") for v in values)
    _read_vectors(history, saved, len(epochs))
    history.refused_at = _refused_at(saved, diverged_at)
    _check_divergence(history, diverged_at)
    return history


def _vectors_dict(history: History) -> dict[str, Any]:
    """With k features, k and W's four columns (k numbers a step, one after the other)."""
    if not history.vectors:
        return {}
    vectors = {name: [json_number(v) for v in column] for name, column in history.vectors.items()}
    return {"features": history.features, **vectors}


def _read_vectors(history: History, saved: dict[str, Any], steps: int) -> None:
    features = saved.get("features", 1)
    history.features = read_whole(features, "history features", 1, MAX_FEATURES)
    if history.features == 1:
        return
    for name in VECTOR_COLUMNS:
        values = saved.get(name)
        if not isinstance(values, list) or len(values) != steps * history.features:
            raise SessionError(f"history column {name!r} is missing or has the wrong length")
        history.vectors[name] = array("d", (read_float(v, f"history {name}") for v in values))


def _refused_at(saved: dict[str, Any], diverged_at: int | None) -> int | None:
    """The epoch whose step torch refused (sessions written before it was kept have none): only
    the epoch the run diverged at can be one."""
    refused_at = saved.get("step_refused_at")
    if refused_at is None:
        return None
    refused_at = read_whole(refused_at, "history step_refused_at", 0, MAX_EPOCHS)
    if refused_at != diverged_at:
        raise SessionError(
            f"history step_refused_at: a refused step ends the run, so epoch {refused_at} must be the"
            f" epoch the run diverged at ({'none' if diverged_at is None else diverged_at})"
        )
    return refused_at


def _check_divergence(history: History, diverged_at: int | None) -> None:
    """A run stops at its first epoch with a non-finite number: only the last record may have one,
    and it has one exactly when the session says the run diverged."""
    names = ("cost", "grad_w", "w_next", "grad_b", "b_next") if history.bias else ("cost", "grad_w", "w_next")
    for name in names:
        column = np.frombuffer(history.columns[name], dtype=np.float64)[:-1]
        bad = np.flatnonzero(~np.isfinite(column))
        if bad.size:
            raise SessionError(f"history epoch {history.epochs[bad[0]]} is not finite, yet the run went on")
    last: EpochRecord | None = history.last
    if last is None:
        return
    if diverged_at is None and not last.finite:
        raise SessionError(
            f"history epoch {last.epoch} is not finite, but the session says it did not diverge"
        )
    if diverged_at is not None and last.finite:
        raise SessionError(
            f"diverged_at: the session says epoch {diverged_at} diverged, but its numbers are finite"
        )
