"""What a session keeps of the loop around the optimizer: the DataLoader's generator and how far
through its epoch it is, the batch of each history record, and the learning-rate scheduler's
state with the lr it has set. Written only for runs with mini-batches or a schedule, so the
sessions of full-batch runs stay as they were; every value is checked on loading."""

from __future__ import annotations

from typing import Any

import torch

from .batches import batch_count, make_scheduler
from .session_json import SessionError, json_number, read_float, read_whole, shown
from .settings import MAX_EPOCHS, Settings
from .simulation import Simulation

KEY = "loop"


def loop_dict(simulation: Simulation, history_batches: list[int]) -> dict[str, Any]:
    """The session's ``loop`` entry (nothing for a full-batch run without a schedule)."""
    trainer = simulation.trainer_between_epochs
    loop: dict[str, Any] = {}
    if trainer.feed is not None:
        state, done = trainer.feed.state()
        loop |= {"batch": done, "generator": _hex(state), "history_batch": history_batches}
        if not done and trainer.feed.previous_state is not None:
            loop["previous_generator"] = _hex(trainer.feed.previous_state)
    if trainer.scheduler is not None:
        scheduler = {
            key: [json_number(v) for v in value] if isinstance(value, list) else _number(value)
            for key, value in trainer.scheduler.state_dict().items()
        }
        loop |= {"scheduler": scheduler, "lr": json_number(trainer.optimizer.param_groups[0]["lr"])}
    return {KEY: loop} if loop else {}


def _hex(state: torch.Tensor) -> str:
    return bytes(state.tolist()).hex()


def _number(value: Any) -> Any:
    return value if isinstance(value, (bool, int)) else json_number(value)


def _loop(document: dict[str, Any], settings: Settings) -> dict[str, Any]:
    loop = document.get(KEY, {})
    if not isinstance(loop, dict):
        raise SessionError(f"malformed {KEY!r}")
    if settings.mini_batches != ("batch" in loop) or (settings.scheduler != "none") != ("scheduler" in loop):
        raise SessionError(f"the session's {KEY!r} does not match its batch size and scheduler settings")
    return loop


def batches_done(document: dict[str, Any], settings: Settings, points: int) -> tuple[int, int]:
    """(batches of the epoch in progress done, batches per epoch): (0, 1) with the full batch."""
    loop = _loop(document, settings)
    if settings.batch_size is None:
        return 0, 1
    count = batch_count(points, settings.batch_size)
    return read_whole(loop.get("batch"), f"{KEY} batch", 0, count - 1), count


def history_batches(document: dict[str, Any], settings: Settings, records: int, count: int) -> list[int]:
    """The batch number of each history record (all 0 with the full batch)."""
    if settings.batch_size is None:
        return [0] * records
    saved = _loop(document, settings).get("history_batch")
    if not isinstance(saved, list) or len(saved) != records:
        raise SessionError(f"{KEY} history_batch is missing or has the wrong length")
    return [read_whole(value, f"{KEY} history_batch", 1, count) for value in saved]


def check_history_order(epochs: list[int], batches: list[int], epoch: int, done: int, count: int) -> None:
    """Records come in order of (epoch, batch) and end just before the next step to run."""
    previous = (-1, 0)
    for position, here in enumerate(zip(epochs, batches, strict=True)):
        if here <= previous:
            raise SessionError(f"history record {position}: epoch {here[0]} batch {here[1]} comes too early")
        previous = here
    end = (epoch, done) if done else (epoch - 1, count)
    if epochs and previous != end:
        raise SessionError(
            f"the history does not end where the session is: it ends at epoch {previous[0]} batch"
            f" {previous[1]}, the session is at epoch {epoch} with {done} batches done"
        )


def restore_loop(simulation: Simulation, document: dict[str, Any]) -> None:
    """Put the generator and the scheduler back as the session holds them."""
    trainer, settings = simulation.trainer, simulation.settings
    loop = _loop(document, settings)
    if trainer.feed is not None:
        done = read_whole(loop.get("batch"), f"{KEY} batch", 0, MAX_EPOCHS)
        reference = trainer.feed.state()[0]
        previous = loop.get("previous_generator")
        if previous is not None:
            previous = _generator_state(previous, reference, "previous_generator")
        trainer.feed.restore(_generator_state(loop.get("generator"), reference), done, previous)
    if trainer.scheduler is not None:
        _restore_scheduler(trainer, settings, loop)


def _generator_state(saved: Any, reference: torch.Tensor, name: str = "generator") -> torch.Tensor:
    where = f"{KEY} {name}"
    try:
        state = bytes.fromhex(saved) if isinstance(saved, str) else None
    except ValueError:
        state = None
    if state is None or len(state) != reference.numel():
        raise SessionError(f"{where}: not the state of a torch.Generator ({reference.numel()} bytes as hex)")
    tensor = torch.tensor(list(state), dtype=torch.uint8)
    try:
        torch.Generator().set_state(tensor)
    except RuntimeError as error:
        raise SessionError(f"{where}: torch refuses it ({error})") from None
    return tensor


def _restore_scheduler(trainer: Any, settings: Settings, loop: dict[str, Any]) -> None:
    reference = make_scheduler(settings, torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0))
    assert reference is not None
    expected = reference.state_dict()
    saved = loop.get("scheduler")
    if not isinstance(saved, dict) or set(saved) != set(expected):
        raise SessionError(f"{KEY} scheduler: expected {', '.join(sorted(expected))}")
    state: dict[str, Any] = {}
    for key, value in expected.items():
        where = f"{KEY} scheduler {key}"
        given = saved[key]
        if isinstance(value, bool):
            if not isinstance(given, bool):
                raise SessionError(f"{where}: expected true or false, got {shown(given)}")
            state[key] = given
        elif isinstance(value, int):
            state[key] = read_whole(given, where, -1, MAX_EPOCHS + 1)
        elif isinstance(value, list):
            if not isinstance(given, list) or len(given) != len(trainer.optimizer.param_groups):
                raise SessionError(f"{where}: expected a list of one number per parameter group")
            state[key] = [read_float(v, where) for v in given]
        else:
            state[key] = read_float(given, where)
    if state != {**state, **{k: v for k, v in settings.schedule().items() if k in state}}:
        raise SessionError(
            f"{KEY} scheduler: its parameters are not the settings' {settings.scheduler} schedule"
        )
    trainer.scheduler.load_state_dict(state)
    lr = read_float(loop.get("lr"), f"{KEY} lr")
    for group in trainer.optimizer.param_groups:
        group["lr"] = lr
