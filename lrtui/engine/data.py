"""Training data: the lessons' presets and CSV files whose header names the columns.

The column named ``y`` is the target; every other column is a feature, in file order
(``x,y`` is one feature, x). Up to MAX_FEATURES features.

A CSV file may hold up to MAX_CSV_ROWS data rows and MAX_CSV_BYTES bytes: past that a
learner's machine spends more time and memory on the file than a lesson needs, and a
bigger file is refused with the limit in the message. Only regular files are read: a
named pipe or a device (``/dev/zero``) is refused before it is opened for reading.
"""

from __future__ import annotations

import csv
import os
import stat
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TextIO

import numpy as np
import torch

from .data_path import missing_data
from .settings import FLOAT32_MAX, PRESETS

NOISY_SEED = 43052
OUTLIERS_SEED = 5
SCALED_SEED = 11
MAX_CSV_ROWS = 2_000_000
MAX_CSV_BYTES = 100 * 1024 * 1024
MAX_FEATURES = 16
# Lab 4-1 (multivariable linear regression): three quiz scores and the final exam's.
SCORES_X = ((73, 80, 75), (93, 88, 93), (89, 91, 90), (96, 98, 100), (73, 66, 70))
SCORES_Y = (152, 185, 180, 196, 142)
SCORES_NAMES = ("quiz1", "quiz2", "midterm")


class DataError(ValueError):
    """Data that cannot be loaded, with where and why."""


@dataclass(frozen=True)
class Sums:
    """The sums the closed-form cost needs, in float64, whatever the number of points."""

    n: int
    x: float
    y: float
    xx: float
    xy: float
    yy: float
    # Sums about the means, exact enough to say whether all x are equal and to fit the line:
    # sxx = sum((x - mean x)^2), zero exactly when every x is the same, at any scale.
    sxx: float
    sxy: float


@dataclass(frozen=True, eq=False)
class Dataset:
    """``x_train`` is (n, k) float32 and ``y_train`` (n, 1), as in the lessons. ``sums`` are
    the first feature's (the whole story for k = 1; the k-feature surfaces read the points)."""

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    sums: Sums
    names: tuple[str, ...] = ("x",)  # the features' names, from the CSV header

    @property
    def size(self) -> int:
        return self.sums.n

    @property
    def features(self) -> int:
        return int(self.x_train.shape[1])


def sums_of(x: torch.Tensor, y: torch.Tensor) -> Sums:
    """The sums of some points (a mini-batch, for its own cost surface)."""
    return _sums(x, y)


def _sums(x: torch.Tensor, y: torch.Tensor) -> Sums:
    x64 = (x if x.dim() < 2 else x[:, 0]).double().flatten()
    y64 = y.double().flatten()
    n = x64.numel()
    sum_x = float(x64.sum())
    sum_y = float(y64.sum())
    # float32 values summed in float64 are exact for any file lrtui reads, so for equal x the
    # mean is that x and every deviation is exactly 0.
    dx = x64 - sum_x / n
    return Sums(
        n=n,
        x=sum_x,
        y=sum_y,
        xx=float(x64.dot(x64)),
        xy=float(x64.dot(y64)),
        yy=float(y64.dot(y64)),
        sxx=float(dx.dot(dx)),
        sxy=float(dx.dot(y64 - sum_y / n)),
    )


def from_tensors(name: str, x: torch.Tensor, y: torch.Tensor, names: tuple[str, ...] = ("x",)) -> Dataset:
    """Points as float32 tensors: x of shape (n,) for one feature or (n, k), y of shape (n,)."""
    x_train = (x.reshape(-1, 1) if x.dim() < 2 else x).to(torch.float32)
    y_train = y.reshape(-1, 1).to(torch.float32)
    if x_train.shape[1] == 1:
        names = names[:1]
    return Dataset(name, x_train, y_train, _sums(x_train, y_train), names)


def noisy_points() -> tuple[torch.Tensor, torch.Tensor]:
    """The 100 noisy points of the lesson, drawn without touching torch's global generator."""
    generator = torch.Generator().manual_seed(NOISY_SEED)
    x, _ = torch.randn(100, generator=generator).sort()
    eps = torch.randn(100, generator=generator) * 0.5
    y = 2.5 + 4 * x + eps
    return x, y


def outlier_points() -> tuple[torch.Tensor, torch.Tensor]:
    """30 points near y = 2x + 1 for x from 0 to 3 (noise 0.2), drawn from OUTLIERS_SEED, of
    which the last three (the largest x) are gross outliers, 12 below the line: they drag
    the least-squares line while L1 and Huber fit the other 27."""
    generator = torch.Generator().manual_seed(OUTLIERS_SEED)
    x = torch.linspace(0, 3, 30)
    y = 1 + 2 * x + torch.randn(30, generator=generator) * 0.2
    y[-3:] -= 12
    return x, y


def scaled_points() -> tuple[torch.Tensor, torch.Tensor]:
    """40 points with x around 10 and a spread of 3 (floor areas in tens of m², say), y = 3x - 5
    with noise 1, from SCALED_SEED: x far from 0 against its spread makes a long thin valley
    (κ above a thousand), which standardizing x turns into a round bowl."""
    generator = torch.Generator().manual_seed(SCALED_SEED)
    x = 10 + 3 * torch.randn(40, generator=generator)
    y = 3 * x - 5 + torch.randn(40, generator=generator)
    return x, y


def preset(name: str) -> Dataset:
    if name == "line":
        return from_tensors(name, torch.FloatTensor([1, 2, 3]), torch.FloatTensor([1, 2, 3]))
    if name == "double":
        return from_tensors(name, torch.FloatTensor([1, 2, 3]), torch.FloatTensor([2, 4, 6]))
    if name == "noisy":
        return from_tensors(name, *noisy_points())
    if name == "outliers":
        return from_tensors(name, *outlier_points())
    if name == "scaled":
        return from_tensors(name, *scaled_points())
    if name == "scores":
        return from_tensors(name, torch.FloatTensor(SCORES_X), torch.FloatTensor(SCORES_Y), SCORES_NAMES)
    raise DataError(f"unknown dataset {name!r}: use one of {', '.join(PRESETS)} or a CSV file path")


def load(data: str, *, quote: bool = True) -> Dataset:
    """A preset by name, or a CSV file by path. ``quote=False``: a message about a bad file
    names the line and column but never quotes the file (a served app: see data_folder)."""
    if data in PRESETS:
        return preset(data)
    return load_csv(data, quote=quote)


def load_csv(path: str, *, quote: bool = True) -> Dataset:
    missing = missing_data(path)
    if missing is not None:
        raise DataError(missing)
    if os.path.isdir(path):
        raise DataError(f"{path}: is a directory, not a CSV file")
    try:
        with _open_regular_file(path) as handle:
            points = _read_plain_rows(path, csv.reader(handle))
            if points is None:  # something is off: read again, slowly, to say exactly where
                handle.seek(0)
                points = _read_rows(path, csv.reader(handle), quote)
        names, columns, ys = points
        x = _tensor(columns[0]) if len(columns) == 1 else torch.stack([_tensor(c) for c in columns], dim=1)
        return from_tensors(os.path.basename(path), x, _tensor(ys), names)
    except UnicodeDecodeError:
        raise DataError(f"{path}: not a text file (it is not UTF-8)") from None
    except OSError as error:
        raise DataError(f"{path}: cannot be read ({error.strerror})") from None
    except csv.Error as error:
        raise DataError(f"{path}: not a valid CSV file ({error})") from None
    except MemoryError:
        raise DataError(f"{path}: not enough memory to load it; try a smaller file") from None


def over_limit(size: int, limit: int) -> str:
    """``100.4 MB is over lrtui's limit of 100 MB``: in bytes when the MB figure would read as
    the limit itself."""
    shown = f"{round(size / 2**20, 1):g} MB"
    if shown == f"{round(limit / 2**20, 1):g} MB":
        shown = f"{size:,} bytes"
    return f"{shown} is over lrtui's limit of {limit / 2**20:g} MB"


def _open_regular_file(path: str) -> TextIO:
    """The file opened for reading, if it is a regular file; a pipe or device is refused unread.

    Opening without blocking and then looking at what was opened leaves no moment in which
    the path could be swapped for a pipe that would block the reader forever.
    """
    handle = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        info = os.fstat(handle)
        if not stat.S_ISREG(info.st_mode):
            raise DataError(f"{path}: not a regular file (a named pipe or a device); give a CSV file")
        if info.st_size > MAX_CSV_BYTES:
            raise DataError(f"{path}: {over_limit(info.st_size, MAX_CSV_BYTES)} for a CSV file")
        os.set_blocking(handle, True)
        return open(handle, newline="", encoding="utf-8-sig")
    except BaseException:
        os.close(handle)
        raise


def _tensor(values: array) -> torch.Tensor:
    """float64 values as the float32 tensor ``torch.tensor(list_of_floats)`` would give."""
    return torch.from_numpy(np.frombuffer(values, dtype=np.float64)).to(torch.float32)


def _too_many_rows(path: str) -> DataError:
    return DataError(f"{path}: more than {MAX_CSV_ROWS:,} data rows, lrtui's limit for a CSV file")


def _columns(path: str, header: list[str], quote: bool) -> tuple[tuple[str, ...], int]:
    """The features' names, in file order, and the index of the ``y`` column."""
    names = [cell.strip() for cell in header]
    lowered = [name.lower() for name in names]
    got = f" (got {','.join(header)!r})" if quote else ""
    if "y" not in lowered:
        raise DataError(f"{path} line 1: the header must name the target column y, as in x,y{got}")
    for column, name in enumerate(lowered, start=1):
        if not name:
            raise DataError(f"{path} line 1, column {column}: the column has no name{got}")
        if lowered.index(name) != column - 1:
            shown = f"{names[column - 1]!r}" if quote else "a name"
            raise DataError(f"{path} line 1, column {column}: {shown} is the name of an earlier column too")
    if len(names) < 2:
        raise DataError(f"{path} line 1: the header names no feature beside y, as in x,y{got}")
    if len(names) - 1 > MAX_FEATURES:
        raise DataError(f"{path} line 1: {len(names) - 1} features is over lrtui's limit of {MAX_FEATURES}")
    target = lowered.index("y")
    return tuple(name for i, name in enumerate(names) if i != target), target


Points = tuple[tuple[str, ...], list[array], array]


def _read_plain_rows(path: str, rows: Iterator[list[str]]) -> Points | None:
    """The fast path for a well-formed file; None at the first thing that needs explaining."""
    header = next(rows, None)
    if header is None:
        return None
    try:
        names, target = _columns(path, header, quote=False)
    except DataError:
        return None
    width = len(names) + 1
    columns = [array("d") for _ in range(width)]
    try:
        if width == 2:  # one feature: the common case, unpacked without a loop per cell
            first, second = columns
            for a, c in rows:
                first.append(float(a))
                second.append(float(c))
                if len(first) > MAX_CSV_ROWS:
                    raise _too_many_rows(path)
        else:
            for row in rows:
                if len(row) != width:
                    return None
                for column, cell in zip(columns, row, strict=True):
                    column.append(float(cell))
                if len(columns[0]) > MAX_CSV_ROWS:
                    raise _too_many_rows(path)
    except ValueError as error:  # a blank line, a row of the wrong length or a cell that is not a number
        if isinstance(error, DataError):
            raise
        return None
    if not columns[0] or not all(all(map(_fits_float32, column)) for column in columns):
        return None
    ys = columns.pop(target)
    return names, columns, ys


def _fits_float32(value: float) -> bool:
    return -FLOAT32_MAX <= value <= FLOAT32_MAX  # False for NaN too


def _read_rows(path: str, rows: Iterator[list[str]], quote: bool = True) -> Points:
    header = next(rows, None)
    if header is None or not any(cell.strip() for cell in header):
        raise DataError(f"{path}: the file is empty; it needs a header line x,y and at least one row")
    names, target = _columns(path, header, quote)
    width = len(names) + 1
    expected = ",".join(cell.strip() for cell in header) if quote else ("x,y" if width == 2 else "")
    columns = [array("d") for _ in range(width)]
    for line_number, row in enumerate(rows, start=2):
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if len(columns[0]) == MAX_CSV_ROWS:
            raise _too_many_rows(path)
        if len(row) != width:
            which = f" ({expected})" if expected else ""
            raise DataError(f"{path} line {line_number}: expected {width} values{which}, got {len(row)}")
        for column, cell in enumerate(row, start=1):
            try:
                value = float(cell)
            except ValueError:
                raise DataError(
                    f"{path} line {line_number}, column {column}: {_cell(cell, quote)}is not a number"
                ) from None
            if not _fits_float32(value):
                raise DataError(
                    f"{path} line {line_number}, column {column}: {_cell(cell, quote)}is not a finite"
                    " float32 number"
                )
            columns[column - 1].append(value)
    if not columns[0]:
        raise DataError(f"{path}: the file has a header but no data rows")
    ys = columns.pop(target)
    return names, columns, ys


def _cell(cell: str, quote: bool) -> str:
    return f"{cell.strip()!r} " if quote else "the value "
