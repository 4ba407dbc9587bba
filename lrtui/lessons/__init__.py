"""Guided lessons: the classic introductory PyTorch lessons as presets with goals.

The catalog needs only the settings; ``goal_met`` (which reads a run, so needs torch) is
loaded on first use (PEP 562), so ``lrtui lessons`` answers without importing torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .catalog import (
    DEFAULT_LANGUAGE,
    Lesson,
    LessonError,
    find_lesson,
    language_from_environment,
    languages,
    lessons,
    ui_text,
)

if TYPE_CHECKING:
    from .goals import goal_met

__all__ = [
    "DEFAULT_LANGUAGE",
    "Lesson",
    "LessonError",
    "find_lesson",
    "goal_met",
    "language_from_environment",
    "languages",
    "lessons",
    "ui_text",
]


def __getattr__(name: str) -> Any:
    if name != "goal_met":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from .goals import goal_met

    globals()[name] = goal_met  # later look-ups skip this function
    return goal_met


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
