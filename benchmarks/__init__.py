"""Benchmarks of lrtui against the bare lesson loop, run from the repository root.

    make bench                          # every group (the memory group takes minutes)
    .venv/bin/python -m benchmarks app  # one group or more: engine, app, charts, data, memory

Each comparison alternates rounds of the two contenders and keeps each one's best round, so a
busy moment on the machine hurts both alike. They live outside the package: a learner's
install never needs them.
"""
