"""Every use of Textual's private API in the app, in one place, and the guards against two of
Textual's crashes (importing this module puts them in place; ``widgets/footer.py`` imports it).

Written for Textual 8.2.8 (the pin in constraints.txt), the newest release when this was
written; neither crash is fixed in it. When Textual changes, this module is what to check, and
each guard's test says whether it is still needed.
"""

from __future__ import annotations

import functools
from typing import Any

from textual import events
from textual._xterm_parser import XTermParser
from textual.keys import Keys
from textual.widgets import Footer, OptionList


def mark_footer_ready(footer: Footer) -> None:
    """Textual's Footer composes nothing until its first ``bindings_changed`` with the app
    focused (``_bindings_ready``); a served app starts blurred (the web driver says so)."""
    footer._bindings_ready = True


def _guard_huge_key_numbers() -> None:
    """A key sequence with a number past what ``chr`` takes (``ESC [ 99999999999999999999 ~``,
    typed by any program or sent by a served page) raised OverflowError (ValueError past
    U+10FFFF) in the parser's thread: the terminal app exited, a served app stopped taking
    keys. Such a sequence is now ignored, as Textual ignores the sequences it knows to ignore."""
    parse = XTermParser._parse_extended_key

    @functools.wraps(parse)
    def parse_extended_key(self: XTermParser, sequence: str) -> list[events.Key] | None:
        try:
            return parse(self, sequence)
        except (OverflowError, ValueError):
            return [events.Key(Keys.Ignore, sequence)]

    XTermParser._parse_extended_key = parse_extended_key  # type: ignore[method-assign, assignment]


def _guard_page_keys_before_layout() -> None:
    """PageUp or PageDown in an OptionList that has options but has not been laid out yet
    (ctrl+p, then PageUp within ~20 ms: the command palette's list) raised KeyError: 0 from
    ``_index_to_line``. A page move before the highlighted option has its lines does nothing."""
    move_page = OptionList._move_page

    @functools.wraps(move_page)
    def guarded_move_page(self: OptionList, direction: Any) -> None:
        if self.options and (self.highlighted or 0) not in self._index_to_line:
            return  # the highlighted option has no line yet
        move_page(self, direction)

    OptionList._move_page = guarded_move_page  # type: ignore[method-assign]


_guard_huge_key_numbers()
_guard_page_keys_before_layout()
