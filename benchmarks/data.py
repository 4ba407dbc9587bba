"""Loading a big CSV, beside the bare csv.reader loop a lesson would write."""

from __future__ import annotations

import csv
import os
import random
import tempfile
import time

import torch

from lrtui.engine.data import load_csv


def _bare_read(path: str) -> None:
    with open(path, newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        points = [(float(x), float(y)) for x, y in reader]
    torch.tensor(points)


def data_benchmarks(rows: int = 1_000_000) -> list[str]:
    rng = random.Random(0)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "points.csv")
        with open(path, "w") as out:
            out.write("x,y\n")
            for _ in range(rows):
                x = rng.uniform(-5, 5)
                out.write(f"{x:.6f},{2.5 + 4 * x + rng.gauss(0, 0.5):.6f}\n")
        timings: dict[str, list[float]] = {"lrtui": [], "bare": []}
        for _ in range(3):
            for name, load in (("lrtui", load_csv), ("bare", _bare_read)):
                start = time.perf_counter()
                load(path)
                timings[name].append(time.perf_counter() - start)
    lrtui_s, bare_s = min(timings["lrtui"]), min(timings["bare"])
    return [
        f"{'load a CSV, ' + f'{rows:,} rows':<38} lrtui {lrtui_s:.2f} s; bare csv.reader + torch.tensor"
        f" {bare_s:.2f} s; ratio {lrtui_s / bare_s:.2f}x (target: well under a few seconds)"
    ]
