"""lrtui: watch a real torch optimizer fit a line, one epoch at a time."""

__version__ = "0.1.0"
