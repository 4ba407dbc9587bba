"""JSON forms of the numbers and tensors a session holds, read back with every value checked
(no NaN tokens in strict JSON, no pickle, no eval)."""

from __future__ import annotations

import math
from typing import Any

import torch

from .settings import FLOAT32_MAX

# A session file, and so any shape in one: refused before it is read, since parsing holds the
# interpreter (a 500 MB file froze the app for 17 s). The longest history lrtui keeps (2**17
# records) writes about 33 MB.
MAX_BYTES = 64 * 1024 * 1024


class SessionError(ValueError):
    """A session file that cannot be used, and why."""


# ------------------------------------------------------------------ numbers
def json_number(value: float) -> float | str:
    """JSON has no infinity or NaN; those are written as strings."""
    return value if math.isfinite(value) else repr(value)


def shown(value: Any) -> str:
    """A value as an error message quotes it: short, whatever the file holds."""
    text = repr(value) if not isinstance(value, (list, dict)) else type(value).__name__
    return text if len(text) <= 40 else text[:37] + "..."


def read_float(value: Any, where: str) -> float:
    if isinstance(value, bool):
        raise SessionError(f"{where}: expected a number, got {value!r}")
    if isinstance(value, int):
        try:
            return float(value)
        except OverflowError:
            raise SessionError(f"{where}: {len(str(abs(value)))}-digit number is out of range") from None
    if isinstance(value, float):
        return value
    if isinstance(value, str) and value in ("inf", "-inf", "nan"):
        return float(value)
    raise SessionError(f"{where}: expected a number, got {shown(value)}")


def read_whole(value: Any, where: str, low: int, high: int) -> int:
    """A whole number from low to high (bools are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise SessionError(f"{where}: expected a whole number, got {shown(value)}")
    if value < 0 <= low:
        raise SessionError(f"{where}: must not be negative (got {shown(value)})")
    if not low <= value <= high:
        raise SessionError(f"{where}: {shown(value)} is out of range ({low} to {high})")
    return value


def tensor_to_json(tensor: torch.Tensor) -> dict[str, Any]:
    return {
        "dtype": str(tensor.dtype).removeprefix("torch."),
        "shape": list(tensor.shape),
        "values": [json_number(v) for v in tensor.detach().flatten().tolist()],
    }


_DTYPES = {"float32": torch.float32, "float64": torch.float64, "int64": torch.int64}


_INT64 = (-(2**63), 2**63 - 1)
MAX_DIMENSIONS = 8


def tensor_from_json(value: Any, where: str) -> torch.Tensor:
    if not isinstance(value, dict) or set(value) != {"dtype", "shape", "values"}:
        raise SessionError(f"{where}: not a tensor record")
    name = value["dtype"]
    dtype = _DTYPES.get(name) if isinstance(name, str) else None
    if dtype is None:
        raise SessionError(f"{where}: unsupported dtype {shown(name)}")
    shape = value["shape"]
    values = value["values"]
    if (
        not isinstance(shape, list)
        or len(shape) > MAX_DIMENSIONS
        or not all(isinstance(n, int) and not isinstance(n, bool) and 0 <= n <= MAX_BYTES for n in shape)
    ):
        raise SessionError(f"{where}: bad shape {shown(shape)}")
    if not isinstance(values, list) or len(values) != math.prod(shape):
        raise SessionError(
            f"{where}: {len(values) if isinstance(values, list) else 'no'} values for shape {shape}"
        )
    if dtype == torch.int64:
        numbers: list[float] | list[int] = [read_whole(v, where, *_INT64) for v in values]
    else:
        numbers = [read_float(v, where) for v in values]
        if dtype == torch.float32 and any(math.isfinite(v) and abs(v) > FLOAT32_MAX for v in numbers):
            raise SessionError(f"{where}: a value is beyond float32's range (±3.4e38)")
    return torch.tensor(numbers, dtype=dtype).reshape(shape)


def field_of(document: dict[str, Any], name: str, kind: type) -> Any:
    """The document's entry ``name``, which must be a ``kind`` (a bool is not a number)."""
    value = document.get(name)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise SessionError(f"missing or malformed {name!r}")
    return value
