"""Races: up to four runs trained in lockstep on the same data; a single run is a race of one.

The first contender (A) is the run the learner drives; the others (its rivals) follow it
epoch for epoch: ``Run.follow(epoch)`` steps a rival forward, or back in time, until it
stands at the same epoch. Each contender is a full ``Run`` with its own history, so its
numbers are exactly those of a plain torch loop with its settings.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence

from .data import Dataset
from .run import Run
from .settings import FIELDS, LOSS_NAMES, OPTIMIZER_NAMES, Settings, SettingsError, parse_field
from .trainer import EpochRecord

MAX_CONTENDERS = 4
LETTERS = "ABCD"

# What a contender may set for itself, by the name a learner types (the CLI flag without --).
CONTENDER_KEYS: dict[str, str] = {key: field.name for field in FIELDS for key in field.race_keys}
# Every contender trains on the same problem for the same number of epochs.
SHARED_FIELDS: tuple[str, ...] = tuple(field.name for field in FIELDS if not field.race_keys)
# What a learner may type for a shared field, to be told it is shared.
_SHARED_KEYS = frozenset(
    key
    for field in FIELDS
    if not field.race_keys
    for key in (field.flag.lstrip("-"), field.name.replace("_", "-"))
)


def contender_settings(base: Settings, text: str) -> Settings:
    """The settings of a contender written as changes to ``base``, e.g. ``optimizer=adam lr=0.1``.

    Raises SettingsError naming the key that cannot be used."""
    changes: dict[str, object] = {}
    for item in re.split(r"[\s,]+", text.strip()):
        if not item:
            continue
        key, equals, value = item.partition("=")
        key = key.strip().lower().replace("_", "-").lstrip("-")
        if key in _SHARED_KEYS:
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
    if differs("loss") and (others or settings.loss != "mse"):
        parts.append(f"{LOSS_NAMES[settings.loss]} loss")
    if settings.loss == "huber" and differs("huber_delta"):
        parts.append(f"δ {settings.huber_delta:g}")
    if settings.model == "linear" and (differs("model") or differs("seed")):
        parts.append(f"nn.Linear seed {settings.seed}")
    if settings.init_w is not None and differs("init_w"):
        parts.append(f"W₀ {settings.init_w:g}")
    if settings.init_b is not None and settings.bias and differs("init_b"):
        parts.append(f"b₀ {settings.init_b:g}")
    return " ".join(parts)


def labels(race: Sequence[Settings]) -> list[str]:
    """Each contender described by what sets it apart from the others."""
    listed = list(race)
    return [describe(settings, listed[:i] + listed[i + 1 :]) for i, settings in enumerate(listed)]


def with_shared(settings: Settings, leader: Settings) -> Settings:
    """A rival's settings with the race's shared fields taken from the leader."""
    return settings.with_changes(**{name: getattr(leader, name) for name in SHARED_FIELDS})


Row = tuple[str, EpochRecord]  # a contender's letter and one epoch it ran


class Race:
    """Runs trained in lockstep on the same data: the first (A) is the one the learner
    drives, the others follow its epoch. A single run is a race of one."""

    def __init__(self, leader: Run) -> None:
        self.runs: list[Run] = [leader]

    @classmethod
    def of(
        cls, settings: Settings, contenders: Sequence[Settings] = (), dataset: Dataset | None = None
    ) -> Race:
        """A race of ``settings`` and one run per contender, all on the first one's data."""
        race = cls(Run(settings, dataset))
        for contender in contenders:
            race.add(contender)
        return race

    @property
    def leader(self) -> Run:
        return self.runs[0]

    @property
    def rivals(self) -> list[Run]:
        return self.runs[1:]

    def __len__(self) -> int:
        return len(self.runs)

    def __iter__(self) -> Iterator[Run]:
        return iter(self.runs)

    @property
    def full(self) -> bool:
        return len(self.runs) >= MAX_CONTENDERS

    def labels(self) -> list[str]:
        """What sets each contender apart, A's first."""
        return labels([run.settings for run in self.runs])

    # --------------------------------------------------------------- contenders
    def _on_leaders_data(self, settings: Settings, letter: str) -> Run:
        leader = self.leader
        return Run(with_shared(settings, leader.settings), leader.dataset, letter)

    def add(self, settings: Settings) -> Run:
        """A new contender on the leader's data, brought to the leader's epoch."""
        if self.full:
            raise SettingsError("compare", f"a race has at most {MAX_CONTENDERS} contenders")
        run = self._on_leaders_data(settings, LETTERS[len(self.runs)])
        self.runs.append(run)
        run.follow(self.leader.epoch)
        return run

    def remove_last(self) -> Run | None:
        return self.runs.pop() if len(self.runs) > 1 else None

    # ------------------------------------------------------------------ running
    def _follow(self) -> list[Row]:
        epoch = self.leader.epoch
        return [(run.letter, record) for run in self.rivals for record in run.follow(epoch)]

    def step(self, count: int = 1) -> list[Row]:
        """Up to ``count`` epochs of the leader (fewer if it stops), each rival following;
        every epoch run, in order of epoch then letter."""
        rows: list[Row] = []
        leader = self.runs[0]
        racing = len(self.runs) > 1  # the common case, a single run, skips the following
        for _ in range(count):
            if not leader.running:
                break
            rows.append((leader.letter, leader.step()))
            if racing:
                rows += self._follow()
        return rows

    def phase_step(self) -> list[Row]:
        """The leader's next phase; when it ends an epoch, the rivals follow."""
        record = self.leader.phase_step()
        return [] if record is None else [(self.leader.letter, record), *self._follow()]

    def run_to_end(self, on_rows: Callable[[list[Row]], None] | None = None) -> None:
        """Every contender to its last epoch or divergence, one epoch of each in turn (for
        ``lrtui run``); ``on_rows`` gets each round's rows. A contender that stops early
        leaves the others running."""
        while any(run.running for run in self.runs):
            rows = [(run.letter, run.step()) for run in self.runs if run.running]
            if on_rows is not None:
                on_rows(rows)

    def undo(self) -> bool:
        """The leader one epoch back, the rivals with it; False if the leader cannot go back."""
        if not self.leader.undo():
            return False
        self._follow()
        return True

    def undo_to_stable(self) -> int:
        """A leader that diverged goes back, in one move, to before its last stable epoch
        (``Run.last_stable_epoch``), the rivals with it. Returns how many epochs it stepped
        back: 0 if it has not diverged or cannot go back."""
        leader = self.leader
        target = leader.last_stable_epoch()
        if target is None or target >= leader.epoch:
            return 0
        before = leader.epoch
        leader.undo(before - target)
        self._follow()
        return before - leader.epoch

    # ----------------------------------------------------------------- changing
    def restart(self, leader: Run) -> None:
        """Start over with ``leader`` (a fresh run, a lesson's, or one loaded from a session):
        every rival starts again on its data and is brought to its epoch."""
        leader.letter = self.runs[0].letter
        rivals = self.rivals
        self.runs = [leader]
        for rival in rivals:
            run = self._on_leaders_data(rival.settings, rival.letter)
            self.runs.append(run)
            run.follow(leader.epoch)

    def apply(self, settings: Settings) -> None:
        """The leader's new settings from its next epoch (not a new problem: see ``restart``);
        the epochs and log interval are shared by every rival."""
        leader = self.leader
        leader.apply(settings)
        for rival in self.rivals:
            shared = with_shared(rival.settings, leader.settings)
            if shared != rival.settings:
                rival.apply(shared)
