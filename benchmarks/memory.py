"""Peak memory of a long headless run, each run in a process of its own.

python -m benchmarks.memory EPOCHS   # the child: prints its peak memory and frame time as JSON
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys

from .charts import finished_run, frame_maker
from .timing import best_milliseconds

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def long_run_child(epochs: int) -> None:
    """Run ``epochs`` epochs keeping history as the app does, then time one chart frame;
    print the process's peak memory and the frame time as JSON."""
    race = finished_run(epochs - 1)
    history = race.leader.history
    frame_ms = best_milliseconds(frame_maker(race, warm=True), 10)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {"epochs": epochs, "records": len(history), "peak_mb": peak_kb / 1024, "frame_ms": frame_ms}
        )
    )


def memory_benchmarks() -> list[str]:
    results = {}
    for epochs in (1_000, 1_000_000):
        output = subprocess.run(
            [sys.executable, "-m", "benchmarks.memory", str(epochs)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        results[epochs] = json.loads(output)
    small, big = results[1_000], results[1_000_000]
    return [
        f"{'peak memory, headless run with history':<38} 1,000 epochs {small['peak_mb']:.0f} MB;"
        f" 1,000,000 epochs {big['peak_mb']:.0f} MB ({big['records']:,} records kept);"
        f" difference {big['peak_mb'] - small['peak_mb']:.1f} MB (target <= 50 MB)",
        f"{'chart frame after the run':<38} 1,000 epochs {small['frame_ms']:.1f} ms;"
        f" 1,000,000 epochs {big['frame_ms']:.1f} ms (target: no growth)",
    ]


if __name__ == "__main__":
    long_run_child(int(sys.argv[1]))
