"""Every use of Textual's private API in the app, in one place.

Written for Textual 8.2.8 (the pin in constraints.txt). When Textual changes, this module is
what to check.
"""

from __future__ import annotations

from textual.widgets import Footer


def mark_footer_ready(footer: Footer) -> None:
    """Textual's Footer composes nothing until its first ``bindings_changed`` with the app
    focused (``_bindings_ready``); a served app starts blurred (the web driver says so)."""
    footer._bindings_ready = True
