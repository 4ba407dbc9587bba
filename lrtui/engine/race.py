"""Races: up to four configurations trained in lockstep on the same data.

The first contender is the run the learner drives; the others (its rivals) follow it
epoch for epoch: ``follow(epoch)`` steps a rival forward, or back in time, until it
stands at the same epoch. Each rival is a full ``Simulation`` with its own history, so
its numbers are exactly those of a plain torch loop with its settings.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from .history import History
from .settings import OPTIMIZER_NAMES, Settings, SettingsError, parse_field
from .simulation import EpochRecord, Simulation

MAX_CONTENDERS = 4
LETTERS = "ABCD"

# What a contender may set for itself, by the name a learner types (the CLI flag without --).
CONTENDER_KEYS: dict[str, str] = {
    "optimizer": "optimizer",
    "lr": "learning_rate",
    "learning-rate": "learning_rate",
    "momentum": "momentum",
    "nesterov": "nesterov",
    "zero-grad": "zero_grad",
    "loss-reduction": "loss_reduction",
    "model": "model",
    "init-w": "init_w",
    "init-b": "init_b",
    "seed": "seed",
}
# Every contender trains on the same problem for the same number of epochs.
SHARED_FIELDS: tuple[str, ...] = ("data", "bias", "epochs", "log_every")


def contender_settings(base: Settings, text: str) -> Settings:
    """The settings of a contender written as changes to ``base``, e.g. ``optimizer=adam lr=0.1``.

    Raises SettingsError naming the key that cannot be used."""
    changes: dict[str, object] = {}
    for item in re.split(r"[\s,]+", text.strip()):
        if not item:
            continue
        key, equals, value = item.partition("=")
        key = key.strip().lower().replace("_", "-").lstrip("-")
        if key in ("data", "bias", "no-bias", "epochs", "log-every"):
            raise SettingsError(
                "compare", f"{key} is shared by every contender: set it once for the whole race"
            )
        if key not in CONTENDER_KEYS:
            raise SettingsError(
                "compare", f"unknown key {key!r}: use {', '.join(CONTENDER_KEYS)} (as key=value)"
            )
        if not equals:
            raise SettingsError("compare", f"{key} needs a value, as {key}=...")
        name = CONTENDER_KEYS[key]
        try:
            changes[name] = parse_field(name, value)
        except SettingsError as error:
            raise SettingsError("compare", f"{key}: {error.message}") from None
    if not changes:
        raise SettingsError("compare", "say what this contender changes, e.g. optimizer=adam lr=0.1")
    if changes.get("optimizer", base.optimizer) != "sgd" and "nesterov" not in changes:
        changes["nesterov"] = False  # Nesterov belongs to SGD; switching away drops it
    try:
        settings = base.with_changes(**changes)
    except SettingsError as error:
        raise SettingsError("compare", error.message) from None
    if changes.get("momentum") and not settings.momentum_applies:
        raise SettingsError(
            "compare", f"momentum: {settings.optimizer} has no momentum; it applies to sgd and rmsprop"
        )
    return settings


def describe(settings: Settings, others: Sequence[Settings] = ()) -> str:
    """A contender in a few words: optimizer, learning rate and what else sets it apart.
    Among ``others`` (the whole race), what every contender shares is left out."""
    race = [settings, *others]

    def differs(name: str) -> bool:
        return not others or any(getattr(s, name) != getattr(settings, name) for s in race)

    parts = [OPTIMIZER_NAMES[settings.optimizer], f"lr {settings.learning_rate:g}"]
    if settings.momentum and settings.momentum_applies:
        parts.append(f"momentum {settings.momentum:g}")
    if settings.nesterov:
        parts.append("Nesterov")
    if not settings.zero_grad:
        parts.append("zero_grad off")
    if differs("loss_reduction") and (others or settings.loss_reduction == "sum"):
        parts.append(f"{settings.loss_reduction} loss")
    if settings.model == "linear" and (differs("model") or differs("seed")):
        parts.append(f"nn.Linear seed {settings.seed}")
    if settings.init_w is not None and differs("init_w"):
        parts.append(f"W₀ {settings.init_w:g}")
    if settings.init_b is not None and settings.bias and differs("init_b"):
        parts.append(f"b₀ {settings.init_b:g}")
    return " ".join(parts)


def labels(race: Sequence[Settings]) -> list[str]:
    """Each contender described by what sets it apart from the others."""
    return [describe(settings, race[:i] + race[i + 1 :]) for i, settings in enumerate(race)]


def with_shared(settings: Settings, leader: Settings) -> Settings:
    """A rival's settings with the race's shared fields taken from the leader."""
    return settings.with_changes(**{name: getattr(leader, name) for name in SHARED_FIELDS})


def _on_leaders_data(settings: Settings, leader: Simulation) -> Simulation:
    return Simulation(with_shared(settings, leader.settings), dataset=leader.dataset)


@dataclass
class Rival:
    """A contender that follows the leader's epoch."""

    letter: str
    simulation: Simulation
    history: History = field(default_factory=History)

    @property
    def settings(self) -> Settings:
        return self.simulation.settings

    def follow(self, epoch: int) -> list[EpochRecord]:
        """Step forward (or back) to ``epoch``; stops early at divergence or the last epoch.
        Returns the epochs run forward."""
        simulation = self.simulation
        while simulation.epoch > epoch and simulation.step_back():
            self.history.truncate(simulation.epoch)
        records = []
        while simulation.epoch < epoch and not simulation.finished and not simulation.diverged:
            record = simulation.step()
            self.history.append(record)
            records.append(record)
        return records


class Race:
    """The rivals of one leading run (up to three: four contenders in all)."""

    def __init__(self) -> None:
        self.rivals: list[Rival] = []

    def __len__(self) -> int:
        return len(self.rivals)

    def __iter__(self) -> Iterator[Rival]:
        return iter(self.rivals)

    @property
    def full(self) -> bool:
        return len(self.rivals) >= MAX_CONTENDERS - 1

    def add(self, settings: Settings, leader: Simulation) -> Rival:
        """A new rival on the leader's data, brought to the leader's epoch."""
        if self.full:
            raise SettingsError("compare", f"a race has at most {MAX_CONTENDERS} contenders")
        rival = Rival(LETTERS[len(self.rivals) + 1], _on_leaders_data(settings, leader))
        self.rivals.append(rival)
        rival.follow(leader.epoch)
        return rival

    def labels(self, leader: Settings) -> list[str]:
        """What sets each contender apart, the leader's first."""
        return labels([leader, *(rival.settings for rival in self.rivals)])

    def remove_last(self) -> Rival | None:
        return self.rivals.pop() if self.rivals else None

    def follow(self, leader: Simulation) -> list[tuple[Rival, list[EpochRecord]]]:
        """Bring every rival to the leader's epoch; what each ran forward."""
        return [(rival, rival.follow(leader.epoch)) for rival in self.rivals]

    def restart(self, leader: Simulation) -> None:
        """The leader's problem changed (data, bias, epochs...): every rival starts again on it."""
        for rival in self.rivals:
            rival.simulation = _on_leaders_data(rival.settings, leader)
            rival.history = History()

    def share(self, leader: Simulation) -> None:
        """The leader's epochs or log interval changed: every rival takes them too."""
        for rival in self.rivals:
            shared = with_shared(rival.settings, leader.settings)
            if shared != rival.settings:
                rival.simulation.apply(shared)

    def reset(self) -> None:
        for rival in self.rivals:
            rival.simulation.reset()
            rival.history.clear()


def lockstep(
    contenders: list[Simulation],
    on_records: Callable[[int, list[EpochRecord | None]], None] | None = None,
) -> None:
    """Run every contender to its last epoch, one epoch of each in turn (for ``lrtui run --compare``).
    ``on_records(epoch, records)`` gets each epoch's records, None for a contender that has stopped."""
    epoch = 0
    while True:
        records: list[EpochRecord | None] = []
        for simulation in contenders:
            running = not simulation.finished and not simulation.diverged
            records.append(simulation.step() if running else None)
        if all(record is None for record in records):
            return
        if on_records is not None:
            on_records(epoch, records)
        epoch += 1
