"""Two of Textual 8.2.8's crashes, guarded in lrtui/app/textual_internals.py (put in place by
importing the app). If a Textual upgrade fixes one, its test here still passes without the guard."""

from __future__ import annotations

import pytest
from textual._xterm_parser import XTermParser
from textual.app import App, ComposeResult
from textual.widgets import OptionList

import lrtui.app.app  # noqa: F401  (the app, which puts the guards in place)


@pytest.mark.parametrize(
    "sequence",
    [
        "\x1b[99999999999999999999~",  # OverflowError: Python int too large to convert to C int
        "\x1b[1114112~",  # ValueError: chr() arg not in range(0x110000)
        "\x1b[1114112u",
        "\x1b[97;1;99999999999999999999u",  # the text field of a Kitty key
    ],
)
def test_a_key_sequence_with_a_huge_number_is_ignored_and_the_keys_after_it_still_work(sequence: str) -> None:
    keys = [event.key for event in XTermParser().feed(sequence + "n")]
    assert keys == ["n"]


def test_the_keys_textual_knows_still_parse() -> None:
    keys = [event.key for event in XTermParser().feed("\x1b[5~\x1b[65;5u\x1b[A")]
    assert keys == ["pageup", "ctrl+A", "up"]


class Unlaid(App[None]):
    """An OptionList with options that has no lines yet: as the command palette's is for the
    first milliseconds after ctrl+p."""

    CSS = "OptionList { display: none; }"

    def compose(self) -> ComposeResult:
        yield OptionList("one", "two", "three")


async def test_page_keys_in_an_option_list_before_it_is_laid_out_do_nothing() -> None:
    """ctrl+p then PageUp within ~20 ms raised KeyError: 0 in OptionList._move_page."""
    app = Unlaid()
    async with app.run_test(size=(40, 10)) as pilot:
        options = app.query_one(OptionList)
        options.action_page_up()
        options.action_page_down()
        await pilot.pause()
        assert options.highlighted in (None, 0)
        options.styles.display = "block"
        await pilot.pause()
        options.highlighted = 0
        options.action_page_down()  # once laid out, a page moves as Textual moves it
        assert options.highlighted == 2
