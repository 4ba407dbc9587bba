"""Standardizing x (``--standardize``): train on x' = (x - x.mean()) / x.std(), as a script writes it.

The mean and torch's default (n - 1) standard deviation are computed in float32 on x_train,
exactly as the exported script computes them, so the run and the script train on the same
x'. A line W'x' + b' is the line W x + b in the original units with W = W'/σ and
b = b' - W'μ/σ (without bias b' is 0 and the line still has that intercept).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from .data import DataError, Dataset, from_tensors

if TYPE_CHECKING:
    from .record import EpochRecord
    from .settings import Settings


@dataclass(frozen=True)
class Scaling:
    """x' = (x - mean) / std, with mean and std as the float32 tensors torch computed. With k
    features each column has its own (``x_train.mean(dim=0)``, ``x_train.std(dim=0)``):
    ``means`` and ``stds``, and ``mean``/``std`` are the first column's."""

    mean: float
    std: float
    means: tuple[float, ...] | None = None
    stds: tuple[float, ...] | None = None

    def original(self, w: float, b: float | None) -> tuple[float, float]:
        """W' and b' of the standardized x as W and b of the original x."""
        return w / self.std, (b or 0.0) - w * self.mean / self.std

    def original_weights(self, ws: tuple[float, ...], b: float | None) -> tuple[tuple[float, ...], float]:
        """k weights W'_j and b' as W_j = W'_j / σ_j and b = b' - Σ W'_j μ_j / σ_j."""
        assert self.means is not None and self.stds is not None
        weights = tuple(w / std for w, std in zip(ws, self.stds, strict=True))
        return weights, (b or 0.0) - sum(w * mean for w, mean in zip(weights, self.means, strict=True))


@dataclass(frozen=True, eq=False)
class Standardized:
    """A dataset with x standardized, and the scaling that undoes it."""

    dataset: Dataset
    scaling: Scaling


_kept: dict[int, tuple[Dataset, Standardized]] = {}


def standardized(dataset: Dataset) -> Standardized:
    """The dataset with x' = (x - x.mean()) / x.std(); kept for the last datasets asked for.
    Raises DataError when x has no spread (one point, or all x equal)."""
    kept = _kept.get(id(dataset))
    if kept is not None and kept[0] is dataset:
        return kept[1]
    x = dataset.x_train
    if dataset.features > 1:
        result = _standardized_columns(dataset)
    else:
        x_mean, x_std = x.mean(), x.std()
        if dataset.size < 2 or not x_std.item() > 0 or not math.isfinite(x_std.item()):
            raise DataError(
                f"{dataset.name}: cannot standardize x, its standard deviation is {x_std.item():g}"
            )
        scaled = from_tensors(dataset.name, (x - x_mean) / x_std, dataset.y_train)
        result = Standardized(scaled, Scaling(x_mean.item(), x_std.item()))
    if len(_kept) >= 4:
        _kept.clear()
    _kept[id(dataset)] = (dataset, result)
    return result


def _standardized_columns(dataset: Dataset) -> Standardized:
    x = dataset.x_train
    x_mean, x_std = x.mean(dim=0), x.std(dim=0)
    means, stds = tuple(x_mean.tolist()), tuple(x_std.tolist())
    for name, std in zip(dataset.names, stds, strict=True):
        if dataset.size < 2 or not std > 0 or not math.isfinite(std):
            raise DataError(f"{dataset.name}: cannot standardize {name}, its standard deviation is {std:g}")
    scaled = from_tensors(dataset.name, (x - x_mean) / x_std, dataset.y_train, dataset.names)
    return Standardized(scaled, Scaling(means[0], stds[0], means, stds))


def training_data(dataset: Dataset, settings: Settings) -> Dataset:
    """The data the trainer sees: ``dataset`` itself, or its x standardized."""
    return standardized(dataset).dataset if settings.standardize else dataset


def scaling_of(dataset: Dataset, settings: Settings) -> Scaling | None:
    """The scaling of a standardized run, None for one trained on x as it is."""
    return standardized(dataset).scaling if settings.standardize else None


def original_record(record: EpochRecord, scaling: Scaling) -> EpochRecord:
    """The record with W and b (before and after the step) in the original units."""
    if record.ws is not None and record.ws_next is not None:
        ws, b = scaling.original_weights(record.ws, record.b)
        ws_next, b_next = scaling.original_weights(record.ws_next, record.b_next)
        return replace(record, w=ws[0], b=b, w_next=ws_next[0], b_next=b_next, ws=ws, ws_next=ws_next)
    w, b = scaling.original(record.w, record.b)
    w_next, b_next = scaling.original(record.w_next, record.b_next)
    return replace(record, w=w, b=b, w_next=w_next, b_next=b_next)


def original_suffix(record: EpochRecord, scaling: Scaling) -> str:
    """What the log line adds for a standardized run: the line after the step in x's units."""
    if record.ws_next is not None:
        ws, b = scaling.original_weights(record.ws_next, record.b_next)
        return f" | original x: W: [{', '.join(f'{w:.3f}' for w in ws)}], b: {b:.3f}"
    w, b = scaling.original(record.w_next, record.b_next)
    return f" | original x: W: {w:.3f}, b: {b:.3f}"


def with_original_columns(
    values: dict[str, int | float | None], record: EpochRecord, scaling: Scaling | None
) -> dict[str, int | float | None]:
    """A CSV/JSONL row with ``w_orig`` and ``b_orig`` (W and b before the step, in x's own units)
    right after ``w`` and ``b``, for a standardized run; the row as it is otherwise."""
    if scaling is None:
        return values
    w: float | list[float]
    if record.ws is not None:
        weights, b = scaling.original_weights(record.ws, record.b)
        w = list(weights)
    else:
        w, b = scaling.original(record.w, record.b)
    out: dict[str, Any] = {}
    for name, value in values.items():
        out[name] = value
        if name == "b":
            out["w_orig"], out["b_orig"] = w, b
    return out


def original_columns(columns: tuple[str, ...], scaling: Scaling | None) -> tuple[str, ...]:
    """The column names, with ``w_orig`` and ``b_orig`` after ``b`` for a standardized run."""
    if scaling is None:
        return columns
    at = columns.index("b") + 1
    return (*columns[:at], "w_orig", "b_orig", *columns[at:])
