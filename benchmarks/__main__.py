"""python -m benchmarks [GROUP ...]: lrtui against the bare lesson loop, side by side in one process."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

import torch

from .app import app_benchmarks
from .charts import chart_benchmark_lines
from .data import data_benchmarks
from .engine import engine_benchmarks
from .memory import memory_benchmarks
from .minibatch import minibatch_benchmarks
from .startup import startup_benchmarks

GROUPS: dict[str, Callable[[], list[str]]] = {
    "engine": engine_benchmarks,
    "app": app_benchmarks,
    "charts": chart_benchmark_lines,
    "data": data_benchmarks,
    "memory": memory_benchmarks,
    "startup": startup_benchmarks,
    "minibatch": minibatch_benchmarks,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description="lrtui against the bare lesson loop, side by side."
    )
    parser.add_argument("groups", nargs="*", help=f"some of: {', '.join(GROUPS)} (default all)")
    args = parser.parse_args(argv)
    unknown = [name for name in args.groups if name not in GROUPS]
    if unknown:
        parser.error(f"unknown group {unknown[0]!r}: choose from {', '.join(GROUPS)}")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s)")
    for name in args.groups or GROUPS:
        for line in GROUPS[name]():
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
