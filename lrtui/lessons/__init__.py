"""Guided lessons: the classic introductory PyTorch lessons as presets with goals."""

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
