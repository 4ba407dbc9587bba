"""Training data: the lessons' presets and CSV files with an ``x,y`` header."""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from dataclasses import dataclass

import torch

from .settings import FLOAT32_MAX, PRESETS

NOISY_SEED = 43052


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


@dataclass(frozen=True, eq=False)
class Dataset:
    name: str
    x_train: torch.Tensor  # shape (n, 1), float32, as in the lessons
    y_train: torch.Tensor
    sums: Sums

    @property
    def size(self) -> int:
        return self.sums.n


def _sums(x: torch.Tensor, y: torch.Tensor) -> Sums:
    x64 = x.double().flatten()
    y64 = y.double().flatten()
    return Sums(
        n=x64.numel(),
        x=float(x64.sum()),
        y=float(y64.sum()),
        xx=float(x64.dot(x64)),
        xy=float(x64.dot(y64)),
        yy=float(y64.dot(y64)),
    )


def from_tensors(name: str, x: torch.Tensor, y: torch.Tensor) -> Dataset:
    x_train = x.reshape(-1, 1).to(torch.float32)
    y_train = y.reshape(-1, 1).to(torch.float32)
    return Dataset(name, x_train, y_train, _sums(x_train, y_train))


def noisy_points() -> tuple[torch.Tensor, torch.Tensor]:
    """The 100 noisy points of the lesson, drawn without touching torch's global generator."""
    generator = torch.Generator().manual_seed(NOISY_SEED)
    x, _ = torch.randn(100, generator=generator).sort()
    eps = torch.randn(100, generator=generator) * 0.5
    y = 2.5 + 4 * x + eps
    return x, y


def preset(name: str) -> Dataset:
    if name == "line":
        return from_tensors(name, torch.FloatTensor([1, 2, 3]), torch.FloatTensor([1, 2, 3]))
    if name == "double":
        return from_tensors(name, torch.FloatTensor([1, 2, 3]), torch.FloatTensor([2, 4, 6]))
    if name == "noisy":
        return from_tensors(name, *noisy_points())
    raise DataError(f"unknown dataset {name!r}: use one of {', '.join(PRESETS)} or a CSV file path")


def load(data: str) -> Dataset:
    """A preset by name, or a CSV file by path."""
    if data in PRESETS:
        return preset(data)
    return load_csv(data)


def load_csv(path: str) -> Dataset:
    if not os.path.exists(path):
        if os.sep not in path and not path.lower().endswith(".csv"):
            raise DataError(f"unknown dataset {path!r}: use one of {', '.join(PRESETS)} or a CSV file path")
        raise DataError(f"{path}: no such file")
    if os.path.isdir(path):
        raise DataError(f"{path}: is a directory, not a CSV file")
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            points = _read_plain_rows(csv.reader(handle))
        if points is None:  # something is off: read again, slowly, to say exactly where
            with open(path, newline="", encoding="utf-8-sig") as handle:
                points = _read_rows(path, csv.reader(handle))
    except UnicodeDecodeError:
        raise DataError(f"{path}: not a text file (it is not UTF-8)") from None
    except OSError as error:
        raise DataError(f"{path}: cannot be read ({error.strerror})") from None
    except csv.Error as error:
        raise DataError(f"{path}: not a valid CSV file ({error})") from None
    xs, ys = points
    return from_tensors(os.path.basename(path), torch.tensor(xs), torch.tensor(ys))


def _read_plain_rows(rows: Iterator[list[str]]) -> tuple[list[float], list[float]] | None:
    """The fast path for a well-formed file; None at the first thing that needs explaining."""
    header = next(rows, None)
    if header is None or [cell.strip().lower() for cell in header] != ["x", "y"]:
        return None
    xs: list[float] = []
    ys: list[float] = []
    try:
        for x, y in rows:
            xs.append(float(x))
            ys.append(float(y))
    except ValueError:  # a blank line, a row of the wrong length or a cell that is not a number
        return None
    if not xs or not all(map(_fits_float32, xs)) or not all(map(_fits_float32, ys)):
        return None
    return xs, ys


def _fits_float32(value: float) -> bool:
    return -FLOAT32_MAX <= value <= FLOAT32_MAX  # False for NaN too


def _read_rows(path: str, rows: Iterator[list[str]]) -> tuple[list[float], list[float]]:
    header = next(rows, None)
    if header is None or not any(cell.strip() for cell in header):
        raise DataError(f"{path}: the file is empty; it needs a header line x,y and at least one row")
    if [cell.strip().lower() for cell in header] != ["x", "y"]:
        raise DataError(f"{path} line 1: the header must be x,y (got {','.join(header)!r})")
    xs: list[float] = []
    ys: list[float] = []
    for line_number, row in enumerate(rows, start=2):
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if len(row) != 2:
            raise DataError(f"{path} line {line_number}: expected 2 values (x,y), got {len(row)}")
        values = []
        for column, cell in enumerate(row, start=1):
            try:
                value = float(cell)
            except ValueError:
                raise DataError(
                    f"{path} line {line_number}, column {column}: {cell.strip()!r} is not a number"
                ) from None
            if not _fits_float32(value):
                raise DataError(
                    f"{path} line {line_number}, column {column}: {cell.strip()!r} is not a finite"
                    " float32 number"
                )
            values.append(value)
        xs.append(values[0])
        ys.append(values[1])
    if not xs:
        raise DataError(f"{path}: the file has a header but no data rows")
    return xs, ys
