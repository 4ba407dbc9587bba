"""The guided lessons: presets and goals from lessons.toml, words from text/<language>.toml.

A translation is one more text file; nothing here changes. A key the translation leaves
out is read from the English text.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from ..engine.settings import Settings

DEFAULT_LANGUAGE = "en"
TEXT_KEYS = ("title", "explanation", "exercise", "goal", "goal_met")


class LessonError(ValueError):
    """An unknown lesson or language, said in one line."""


@dataclass(frozen=True)
class Lesson:
    number: int  # from 1, in the order of lessons.toml
    id: str
    settings: Settings
    goal: dict[str, Any]  # kind and its parameters, checked by goals.goal_met
    text: dict[str, str]  # TEXT_KEYS in the chosen language

    @property
    def title(self) -> str:
        return self.text["title"]


def _package_text(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def languages() -> list[str]:
    """The language codes with a text file, English first."""
    folder = resources.files(__package__).joinpath("text")
    codes = sorted(
        entry.name.removesuffix(".toml") for entry in folder.iterdir() if entry.name.endswith(".toml")
    )
    return sorted(codes, key=lambda code: code != DEFAULT_LANGUAGE)


@cache
def _texts(language: str) -> dict[str, Any]:
    if language not in languages():
        raise LessonError(f"no lessons in language {language!r}: use one of {', '.join(languages())}")
    return tomllib.loads(_package_text(f"text/{language}.toml"))


def ui_text(language: str, key: str, **values: object) -> str:
    """A line of the lesson panel's own words, in ``language`` (English where it has none)."""
    text = _texts(language).get("ui", {}).get(key) or _texts(DEFAULT_LANGUAGE)["ui"][key]
    return text.format(**values)


def language_from_environment(environ: os._Environ[str] | dict[str, str] = os.environ) -> str:
    """The language of LC_ALL, LC_MESSAGES or LANG when lrtui has its text (``ko_KR.UTF-8``: ko)."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        code = environ.get(name, "").split("_")[0].split(".")[0].lower()
        if code:
            return code if code in languages() else DEFAULT_LANGUAGE
    return DEFAULT_LANGUAGE


def lessons(language: str = DEFAULT_LANGUAGE) -> list[Lesson]:
    """Every lesson, with its words in ``language``."""
    catalog = tomllib.loads(_package_text("lessons.toml"))["lesson"]
    english, chosen = _texts(DEFAULT_LANGUAGE), _texts(language)
    found = []
    for number, entry in enumerate(catalog, start=1):
        words = {key: chosen.get(entry["id"], {}).get(key) or english[entry["id"]][key] for key in TEXT_KEYS}
        found.append(Lesson(number, entry["id"], Settings(**entry["settings"]), dict(entry["goal"]), words))
    return found


def find_lesson(name: str, language: str = DEFAULT_LANGUAGE) -> Lesson:
    """A lesson by its number (``3``) or id (``deeper-look``)."""
    every = lessons(language)
    for lesson in every:
        if name.strip().lower() in (str(lesson.number), lesson.id):
            return lesson
    choices = ", ".join(f"{lesson.number} ({lesson.id})" for lesson in every)
    raise LessonError(f"no lesson {name!r}: choose one of {choices}")
