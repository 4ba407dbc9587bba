"""The lesson picker and the lesson box under the parameters."""

from __future__ import annotations

from rich.console import Group
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from ...lessons import Lesson, ui_text


class LessonPicker(ModalScreen[int | None]):
    """Every lesson by number and title; enter starts one (its index), escape cancels."""

    DEFAULT_CSS = """
    LessonPicker {
        align: center middle;
    }
    LessonPicker #lesson-picker {
        width: 90%;
        max-width: 70;
        height: auto;
        border: round $primary;
        background: $surface;
        padding: 0 1;
    }
    LessonPicker OptionList {
        height: auto;
        max-height: 12;
    }
    """

    AUTO_FOCUS = "#lesson-list"
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="lessons-cancel")]

    def __init__(self, lessons: list[Lesson], language: str, current: int | None = None) -> None:
        super().__init__()
        self.lessons = lessons
        self.language = language
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="lesson-picker"):
            yield Label(ui_text(self.language, "picker"))
            yield OptionList(
                *(Option(f"{lesson.number}. {lesson.title}", id=lesson.id) for lesson in self.lessons),
                id="lesson-list",
            )

    def on_mount(self) -> None:
        if self.current is not None:
            self.query_one(OptionList).highlighted = self.current

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if self.is_current:  # a second enter may already be queued
            self.dismiss(event.option_index)

    def action_cancel(self) -> None:
        if self.is_current:
            self.dismiss(None)


class LessonBox(Static):
    """The lesson being followed: what to do, the goal, and whether it is met."""

    DEFAULT_CSS = """
    LessonBox {
        display: none;
        height: auto;
        max-height: 60%;
        border: round $success 60%;
        border-title-color: $text;
        padding: 0 1;
    }
    LessonBox.-shown {
        display: block;
    }
    LessonBox.-met {
        border: round $success;
    }
    """

    def show(self, lesson: Lesson, language: str, met_at: int | None) -> None:
        self.border_title = ui_text(language, "lesson", number=lesson.number)
        if met_at is None:
            state = Text(ui_text(language, "open"), style="yellow")
        else:
            state = Text(ui_text(language, "met", epoch=met_at), style="bold green")
        self.update(
            Group(
                Text(lesson.title, style="bold"),  # in the box, where it wraps: a border cuts it
                Text(lesson.text["exercise"]),
                Text.assemble((f"{ui_text(language, 'goal')}: ", "bold"), lesson.text["goal"]),
                state,
                Text(ui_text(language, "close"), style="dim"),
            )
        )
        self.set_class(met_at is not None, "-met")
