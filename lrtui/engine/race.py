"""Races: up to four runs trained in lockstep on the same data; a single run is a race of one.

The first contender (A) is the run the learner drives; the others (its rivals) follow it
step for step: ``Run.follow_steps`` moves a rival forward, or back in time, until it stands
as far through the epochs as the leader. ``lrtui run`` takes every contender to its end an
epoch at a time (``Race.run_to_end``). Each contender is a full ``Run`` with its own history, so its
numbers are exactly those of a plain torch loop with its settings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from .contenders import (  # noqa: F401  (the race's names, kept here for its callers)
    CONTENDER_KEYS,
    LETTERS,
    MAX_CONTENDERS,
    SHARED_FIELDS,
    contender_settings,
)
from .data import Dataset
from .record import EpochRecord
from .run import Run
from .settings import LOSS_NAMES, OPTIMIZER_NAMES, SCHEDULER_NAMES, Settings, SettingsError, field_text


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
    parts += [
        f"{argument}={_option_text(value)}"
        for argument, value in settings.optimizer_options().items()
        if argument not in ("momentum", "nesterov")
    ]
    if not settings.decay_bias:
        parts.append("b undecayed")
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
        parts.append(f"W₀ {field_text('init_w', settings.init_w)}")
    if settings.init_b is not None and settings.bias and differs("init_b"):
        parts.append(f"b₀ {settings.init_b:g}")
    parts += _loop_words(settings, lambda name: bool(others) and differs(name))
    return " ".join(parts)


def _option_text(value: object) -> str:
    if isinstance(value, tuple):
        return "(" + ", ".join(f"{number:g}" for number in value) + ")"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _loop_words(settings: Settings, differs: Callable[[str], bool]) -> list[str]:
    """The batch size, shuffling and schedule in a few words (nothing for the lessons' loop,
    unless another contender differs in it)."""
    words = []
    if settings.batch_size is not None:
        words.append(f"batch {settings.batch_size}{' shuffled' if settings.shuffle else ''}")
    elif differs("batch_size"):
        words.append("full batch")
    if settings.scheduler != "none":
        arguments = ", ".join(f"{k}={v:g}" for k, v in settings.schedule().items())
        words.append(f"{SCHEDULER_NAMES[settings.scheduler]}({arguments})")
    elif differs("scheduler"):
        words.append("no schedule")
    return words


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
        run.follow_steps(self._steps_for(run))
        return run

    def remove_last(self) -> Run | None:
        return self.runs.pop() if len(self.runs) > 1 else None

    # ------------------------------------------------------------------ running
    def _steps_for(self, run: Run) -> int:
        """Where a rival stands when it has caught up with the leader: as many optimizer steps
        with the full batch; with other batch counts, as far through the epochs (rounded up
        to a whole step of its own)."""
        leader = self.leader
        ours, theirs = leader.batches_per_epoch, run.batches_per_epoch
        return leader.steps if ours == theirs else -(-leader.steps * theirs // ours)

    def _follow(self) -> list[Row]:
        return [
            (run.letter, record) for run in self.rivals for record in run.follow_steps(self._steps_for(run))
        ]

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
        """Every contender to its last epoch or divergence, an epoch at a time (for ``lrtui
        run``): each round is one epoch of every contender still running, in letter order,
        all of its batches with mini-batches, so a race of batch sizes reads epoch by epoch.
        ``on_rows`` gets each round's rows. A contender that stops early leaves the others
        running."""
        epoch = min((run.epoch for run in self.runs if run.running), default=0)  # the one in progress
        while any(run.running for run in self.runs):
            epoch += 1
            rows = [(run.letter, record) for run in self.runs for record in run.run_to(epoch)]
            if rows and on_rows is not None:  # none while the runs still going are ahead
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
        target = leader.last_stable_step()
        if target is None or target >= leader.steps:
            return 0
        before = leader.steps
        leader.undo(before - target)
        self._follow()
        return before - leader.steps

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
            run.follow_steps(self._steps_for(run))

    def resume(self, runs: Sequence[Run]) -> None:
        """Go back to a race set aside by a restart, every run as it stood (undo after a reset)."""
        self.runs = list(runs)

    def apply(self, settings: Settings) -> None:
        """The leader's new settings from its next epoch (not a new problem: see ``restart``);
        the epochs and log interval are shared by every rival."""
        leader = self.leader
        leader.apply(settings)
        for rival in self.rivals:
            shared = with_shared(rival.settings, leader.settings)
            if shared != rival.settings:
                rival.apply(shared)
