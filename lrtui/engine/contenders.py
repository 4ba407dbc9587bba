"""A contender's settings, as the changes a learner types (``optimizer=adam lr=0.1``), told
without torch: the command line checks ``--compare`` before the app (and torch) starts."""

from __future__ import annotations

import re

from .settings import FIELDS, Settings, SettingsError, parse_field

MAX_CONTENDERS = 4
LETTERS = "ABCD"

# What a contender may set for itself, by the name a learner types (the CLI flag without --).
CONTENDER_KEYS: dict[str, str] = {key: field.name for field in FIELDS for key in field.race_keys}
# Every contender trains on the same problem for the same number of epochs.
SHARED_FIELDS: tuple[str, ...] = tuple(field.name for field in FIELDS if not field.race_keys)
# What a learner may type for a shared field, to be told it is shared.
_SHARED_KEYS = frozenset(
    key
    for field in FIELDS
    if not field.race_keys
    for key in (field.flag.lstrip("-"), field.name.replace("_", "-"))
)


def contender_settings(base: Settings, text: str) -> Settings:
    """The settings of a contender written as changes to ``base``, e.g. ``optimizer=adam lr=0.1``.

    Raises SettingsError naming the key that cannot be used."""
    changes: dict[str, object] = {}
    # a comma between two numbers belongs to a pair (betas=0.8,0.9); any other separates keys
    for item in re.split(r"\s+|,(?![-+.\d])", text.strip()):
        if not item:
            continue
        key, equals, value = item.partition("=")
        key = key.strip().lower().replace("_", "-").lstrip("-")
        if key in _SHARED_KEYS:
            raise SettingsError(
                "compare", f"{key} is shared by every contender: set it once for the whole race"
            )
        if key not in CONTENDER_KEYS:
            raise SettingsError(
                "compare", f"unknown key {key!r}: use {', '.join(CONTENDER_KEYS)} (as key=value)"
            )
        if not equals:
            raise SettingsError("compare", f"{key} needs a value, as {key}=...")
        name = CONTENDER_KEYS[key]
        try:
            changes[name] = parse_field(name, value)
        except SettingsError as error:
            raise SettingsError("compare", f"{key}: {error.message}") from None
    if not changes:
        raise SettingsError("compare", "say what this contender changes, e.g. optimizer=adam lr=0.1")
    try:
        settings = base.changing(**changes)
    except SettingsError as error:
        given = error.field in changes  # say which key, as a flag's refusal names the flag
        raise SettingsError(
            "compare", f"{_key_of(error.field)}: {error.message}" if given else error.message
        ) from None
    return settings


def _key_of(name: str) -> str:
    """The race key a learner types for a settings field."""
    return next((key for key, field in CONTENDER_KEYS.items() if field == name), name.replace("_", "-"))
