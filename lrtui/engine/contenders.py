"""A contender's settings, as the changes a learner types (``optimizer=adam lr=0.1``), told
without torch: the command line checks ``--compare`` before the app (and torch) starts."""

from __future__ import annotations

import re

from .settings import FIELDS, Settings, SettingsError, loop_changes, parse_field

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
    # a comma parts two changes only before the next key=: init-w=0.5,0.25,1 is W's k values
    for item in re.split(r"\s+|,(?=\s*[A-Za-z_-]+\s*=)", text.strip()):
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
    if changes.get("optimizer", base.optimizer) != "sgd" and "nesterov" not in changes:
        changes["nesterov"] = False  # Nesterov belongs to SGD; switching away drops it
    for field in ("scheduler", "batch_size"):
        if field in changes:  # as in the panel: what the new loop does not take goes back to unset
            for name, value in loop_changes(base, field, changes[field]).items():
                changes.setdefault(name, value)
    try:
        settings = base.with_changes(**changes)
    except SettingsError as error:
        raise SettingsError("compare", error.message) from None
    if changes.get("momentum") and not settings.momentum_applies:
        raise SettingsError(
            "compare", f"momentum: {settings.optimizer} has no momentum; it applies to sgd and rmsprop"
        )
    return settings
