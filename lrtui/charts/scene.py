"""The scene: what the charts show of a run, read from the engine once per frame.

A ``Scene`` holds the settings, the cost surface, the data, where the run stands, the epoch
about to run (from ``Simulation.peek()``) and a ``Track``: the run so far, thinned to at most
``PATH_POINTS`` points because plotext draws one Python step per point. A race adds one
``RivalScene`` per other contender.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..engine import CostSurface, Dataset, EpochRecord, Settings
from ..engine.data import sums_of
from ..engine.history import History
from ..engine.race import Race
from ..engine.run import Run
from ..engine.scaling import scaling_of

PATH_POINTS = 400  # the most trajectory points handed to plotext
RECENT_POINTS = 100  # the last points of a trajectory, always drawn exactly
RIVAL_POINTS = 150  # fewer for a race's other contenders: each costs plotext a whole path


def thin_indices(count: int, limit: int = PATH_POINTS, recent: int = RECENT_POINTS) -> np.ndarray:
    """Which of ``count`` points to draw: all if few, else the first, the last ``recent``
    exactly, and evenly spaced ones in between."""
    if count <= limit:
        return np.arange(count)
    recent = min(recent, limit - 2)
    head = np.linspace(0, count - recent - 1, limit - recent).round().astype(int)
    tail = np.arange(count - recent, count)
    return np.unique(np.concatenate([head, tail]))


def history_values(history: History, name: str, indices: np.ndarray | None = None) -> np.ndarray:
    """One field of every record (or of the records at ``indices``) as float64, read from
    History's column arrays without copying them whole. ``b`` is 0 where a record has none."""
    store = history.epochs if name == "epoch" else history.columns[name]
    if len(store) == 0:
        return np.empty(0)
    view = np.frombuffer(store, dtype=np.int64 if store.typecode == "q" else np.float64)
    values = view[indices] if indices is not None else view.copy()
    del view  # a live view would stop the array from growing
    return values.astype(np.float64)


def finite_bounds(history: History, name: str) -> tuple[float, float] | None:
    """The least and greatest finite value of one field over every record, or None.

    Read in place, without copying the column: it runs for every frame of a long run."""
    store = history.columns[name]
    if len(store) == 0:
        return None
    view = np.frombuffer(store, dtype=np.float64)
    low, high = float(view.min()), float(view.max())
    if not (math.isfinite(low) and math.isfinite(high)):  # a diverged run: leave out nan and inf
        keep = np.isfinite(view)
        low = float(view.min(where=keep, initial=math.inf))
        high = float(view.max(where=keep, initial=-math.inf))
    del view  # a live view would stop the array from growing
    return (low, high) if low <= high else None


@dataclass(frozen=True)
class Track:
    """The run so far, thinned for drawing: each drawn epoch's number, start (W, b) and cost,
    and where the last step landed.

    ``w_bounds`` and ``b_bounds`` are the least and greatest finite W and b the run started an
    epoch from, thinned-out epochs included (None before any finite one): a view that must
    hold the whole path reads them instead of the whole history."""

    epochs: np.ndarray
    w: np.ndarray
    b: np.ndarray
    cost: np.ndarray
    end: tuple[float, float] | None
    w_bounds: tuple[float, float] | None
    b_bounds: tuple[float, float] | None

    @staticmethod
    def of(history: History, limit: int = PATH_POINTS) -> Track:
        """The track of a history, at most ``limit`` points with the end."""
        indices = thin_indices(len(history), limit - 1)  # and one more: where the last step landed
        last = history.last
        end = None if last is None else (last.w_next, last.b_next if last.b_next is not None else 0.0)
        return Track(
            epochs=history_positions(history, indices),
            w=history_values(history, "w", indices),
            b=history_values(history, "b", indices),
            cost=history_values(history, "cost", indices),
            end=end,
            w_bounds=finite_bounds(history, "w"),
            b_bounds=finite_bounds(history, "b"),
        )


@dataclass(frozen=True)
class RivalScene:
    """Another contender of a race: its letter, what it is, its track and where it stands."""

    letter: str
    settings: Settings
    track: Track
    w: float
    b: float | None
    diverged_at: int | None

    @staticmethod
    def of(run: Run) -> RivalScene:
        """A rival run, with a track of at most ``RIVAL_POINTS`` points."""
        track = Track.of(run.history, RIVAL_POINTS)
        return RivalScene(run.letter, run.settings, track, run.w, run.b, run.diverged_at)

    def path(self) -> tuple[list[float], list[float]]:
        """Its trajectory to draw, as ``track_points`` gives it."""
        return track_points(self.track)


@dataclass(frozen=True)
class BatchScene:
    """With mini-batches, the batch the next step trains on: its points, its number, its own
    least-squares optimum (None when it has none, one point or all x equal) and where the
    full data's gradient would take the same start at the same lr (``-lr x gradient``)."""

    xs: list[float]
    ys: list[float]
    number: int
    count: int
    optimum: tuple[float, float] | None
    full_step: tuple[float, float] | None


@dataclass(frozen=True)
class SliceInfo:
    """With k > 1 features, which two parameters the chart's slice is over (its axes), and the
    others' names and values, pinned where the run is now (``slices.slice_scene``)."""

    names: tuple[str, str]
    pinned: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class Scene:
    """What the charts show, read from the engine once per frame."""

    settings: Settings
    surface: CostSurface
    dataset: Dataset
    track: Track
    last: EpochRecord | None  # the last epoch run
    w: float
    b: float | None
    next: EpochRecord | None  # the epoch about to run, from Simulation.peek(); None once finished
    diverged_at: int | None
    rivals: tuple[RivalScene, ...] = ()  # the other contenders of a race
    batch: BatchScene | None = None  # with mini-batches, the next step's batch
    epoch_means: tuple[np.ndarray, np.ndarray] | None = None  # with mini-batches: (epoch, mean cost)
    # the epoch the curvature predicts the cost comes within 1e-6 of the minimum, and the epoch
    # the run got there (None: no prediction applies / not yet)
    predicted: int | None = None
    reached_at: int | None = None
    raw_x: bool = False  # a standardized run drawn in x's own units (charts/units.py)
    finished: bool = False  # the run did its last epoch: no step comes next
    # with k > 1 features: the slice shown (surface is then a FeatureSlice over ``pair``)
    slice: SliceInfo | None = None
    pair: tuple[int, int] | None = None
    full_surface: CostSurface | None = None
    # the optimizer's weight decay and whether it is decoupled (AdamW's); 0: none
    weight_decay: float = 0.0
    decoupled_decay: bool = False

    @property
    def bias(self) -> bool:
        return self.surface.bias

    @property
    def learning_rate(self) -> float:
        """The learning rate of the step shown, or of the epoch that diverged."""
        if self.next is not None:
            return self.next.learning_rate
        return self.last.learning_rate if self.last is not None else self.settings.learning_rate


def scene_of(race: Race, peeked: EpochRecord | None = None) -> Scene:
    """The scene of a race (a single run is a race of one): the leader with its next step, and
    its rivals; ``peeked`` saves a second ``peek()`` when the caller has one. (With k > 1
    features, ``slices.scene_for``.)"""
    leader = race.leader
    if leader.finished:
        peeked = None  # there is no next step to draw
    elif peeked is None and not leader.diverged:
        peeked = leader.peek()
    return Scene(
        settings=leader.settings,
        surface=leader.surface,
        dataset=leader.dataset,
        track=Track.of(leader.history),
        last=leader.history.last,
        w=leader.w,
        b=leader.b,
        next=peeked,
        diverged_at=leader.diverged_at,
        rivals=tuple(RivalScene.of(run) for run in race.rivals),
        batch=batch_scene(leader, peeked),
        epoch_means=epoch_means(leader.history) if leader.settings.mini_batches else None,
        predicted=predicted_of(leader),
        reached_at=reached_at(leader),
        finished=leader.finished,
        weight_decay=leader.simulation.weight_decay()[0],
        decoupled_decay=leader.simulation.weight_decay()[1],
    )


def batch_scene(run: Run, peeked: EpochRecord | None) -> BatchScene | None:
    """The next step's batch, for a run with mini-batches that can step (None otherwise)."""
    upcoming = run.next_batch() if peeked is not None else None
    if upcoming is None or peeked is None:
        return None
    (x, y), number, count = upcoming
    optimum = None
    if run.settings.loss == "mse":  # the closed form is the squared errors'; L1 and Huber have none
        own = CostSurface(sums_of(x, y), run.bias, run.settings.loss_reduction).optimum
        optimum = (own.w, own.b if own.b is not None else 0.0) if own.unique and own.w is not None else None
    b = peeked.b if peeked.b is not None else 0.0
    grad_w, grad_b = run.surface.gradient(peeked.w, b)
    lr = peeked.learning_rate
    full_step = (peeked.w - lr * grad_w, b - lr * (grad_b or 0.0))
    finite_step = all(math.isfinite(v) for v in full_step)
    xs = x.flatten().tolist()
    scaling = scaling_of(run.dataset, run.settings)
    if scaling is not None:  # the batch trains on x'; the fit view draws the points in x's units
        xs = [value * scaling.std + scaling.mean for value in xs]
    return BatchScene(xs, y.flatten().tolist(), number, count, optimum, full_step if finite_step else None)


def epoch_means(history: History, limit: int = PATH_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """Each epoch's mean batch cost (non-finite costs left out), at the middle of the epoch
    (thinned to at most ``limit`` epochs)."""
    if not len(history):
        return np.empty(0), np.empty(0)
    epochs = np.frombuffer(history.epochs, dtype=np.int64).copy()
    costs = np.frombuffer(history.columns["cost"], dtype=np.float64).copy()
    keep = np.isfinite(costs)
    numbers, where = np.unique(epochs[keep], return_inverse=True)
    means = np.bincount(where, weights=costs[keep]) / np.bincount(where)
    middle = numbers + (history.batches - 1) / (2 * history.batches)
    shown = thin_indices(len(numbers), limit)
    return middle[shown].astype(np.float64), means[shown]


def history_positions(history: History, indices: np.ndarray) -> np.ndarray:
    """Where each record's step started, in epochs: its epoch, plus the part of the epoch its
    batch starts at with mini-batches (``report.position``)."""
    epochs = history_values(history, "epoch", indices)
    if history.batches == 1 or not len(history):
        return epochs
    batch = np.frombuffer(history.batch, dtype=np.int64)[indices].astype(np.float64)
    return epochs + np.maximum(batch - 1, 0) / history.batches


_predictions: dict[tuple, int | None] = {}


def predicted_of(run: Run) -> int | None:
    """``predicted_for`` the run's settings from its epoch-0 start, worked out once per problem
    and learning rate (the momentum recurrence can take a moment)."""
    from ..engine.curvature import Start, predicted_for, start_point

    settings, surface = run.settings, run.surface
    history = run.history
    features = run.dataset.features
    start: Start
    if len(history) and history.epochs[0] == 0:
        first = history.record(0)
        start = (first.w if features == 1 else first.weights(), first.b)
    else:
        start = start_point(settings, features)
    key: tuple = (surface.sums, surface.bias, surface.loss_reduction, surface.loss_key, settings, start)
    if features > 1:
        key += (run.dataset,)
    if key not in _predictions:
        if len(_predictions) > 64:
            _predictions.clear()
        _predictions[key] = predicted_for(surface, settings, start)
    return _predictions[key]


def reached_at(run: Run) -> int | None:
    """The first epoch of the run whose cost came within 1e-6 of the minimum, if one has."""
    from ..engine.curvature import actual_epoch

    optimum = run.surface.optimum
    if optimum.cost is None or not len(run.history):
        return None
    costs = np.frombuffer(run.history.columns["cost"], dtype=np.float64)
    epochs = np.frombuffer(run.history.epochs, dtype=np.int64)
    found = actual_epoch(costs, epochs, optimum.cost)
    del costs, epochs  # live views would stop the arrays from growing
    return found


def ridge_optimum(scene: Scene) -> tuple[float, float | None] | None:
    """Where coupled weight decay settles on the squared errors' surface (the ridge solution);
    None without decay, with decoupled decay (it settles elsewhere) or another loss."""
    if scene.weight_decay <= 0 or scene.decoupled_decay or scene.settings.loss != "mse" or scene.raw_x:
        return None
    return scene.surface.ridge_optimum(scene.weight_decay, None if scene.settings.decay_bias else 0.0)


def path_points(scene: Scene) -> tuple[list[float], list[float]]:
    """The trajectory to draw (thinned, finite points only): each epoch's start, then the
    point the last step reached."""
    return track_points(scene.track)


def track_points(track: Track) -> tuple[list[float], list[float]]:
    """A track's (W, b) points, then where its last step landed, finite points only."""
    ws, bs = track.w, track.b
    if track.end is not None:
        ws, bs = np.append(ws, track.end[0]), np.append(bs, track.end[1])
    keep = np.isfinite(ws) & np.isfinite(bs)
    return ws[keep].tolist(), bs[keep].tolist()


def lowest_cost(scene: Scene) -> float | None:
    """The least-squares cost, when there is one above 0 (a log scale has no 0)."""
    optimum = scene.surface.optimum
    return optimum.cost if optimum.cost is not None and optimum.cost > 0 else None
