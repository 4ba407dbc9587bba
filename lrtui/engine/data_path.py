"""What can be told of a ``data`` setting without reading it or importing torch: whether it
names a preset or a file that exists (the command line refuses the rest before the app starts)."""

from __future__ import annotations

import os

from .settings import PRESETS


def missing_data(data: str) -> str | None:
    """Why ``data`` names neither a preset nor an existing path (None if it does)."""
    if data in PRESETS or os.path.exists(data):
        return None
    if os.sep not in data and not data.lower().endswith(".csv"):
        return f"unknown dataset {data!r}: use one of {', '.join(PRESETS)} or a CSV file path"
    return f"{data}: no such file"
