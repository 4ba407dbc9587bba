"""The parameter panel: one row per setting, checked as the learner types.

The panel never changes the run itself. It posts ``ParameterPanel.Changed`` with a
value that passed the engine's own field check; the app builds the new settings
(which checks the combination) and calls ``mark`` if they are refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.suggester import SuggestFromList
from textual.widget import Widget
from textual.widgets import Input, Label, Select, Static, Switch

from ...engine import Settings, SettingsError, parse_field
from ...engine.choices import OPTIMIZER_OPTIONS, OPTION_SETTINGS
from ...engine.settings import FIELDS, PRESETS, field_text
from ..pacing import SPEEDS, speed_label


@dataclass(frozen=True)
class Row:
    """One row of the panel: a setting from the registry, or the app's run speed."""

    name: str  # the Settings field, or "speed"
    label: str
    kind: str  # "input", "select" or "switch"
    options: tuple[tuple[str, Any], ...] = ()
    placeholder: str = ""


ROWS: tuple[Row, ...] = (
    *(
        Row(field.name, field.short, field.kind, field.choices, field.placeholder)
        for field in FIELDS
        if field.panel
    ),
    Row("speed", "speed", "select", tuple((speed_label(s), s) for s in SPEEDS)),
)
ROW_BY_NAME: dict[str, Row] = {row.name: row for row in ROWS}


OPTION_ROWS = (*OPTION_SETTINGS, "decay_bias")


def shown_options(settings: Settings) -> tuple[str, ...]:
    """The optimizer's options; decay bias once a weight decay is set (or b is left out of it)."""
    taken = OPTIMIZER_OPTIONS[settings.optimizer]
    if (
        "weight_decay" in taken
        and settings.bias
        and (settings.weight_decay is not None or not settings.decay_bias)
    ):
        taken = (*taken, "decay_bias")
    return taken


class ParameterPanel(VerticalScroll, can_focus=False):
    DEFAULT_CSS = """
    ParameterPanel {
        border: round $primary 50%;
        border-title-color: $text;
        padding: 0 1;
        scrollbar-size-vertical: 1;
    }
    ParameterPanel .field {
        height: 1;
    }
    ParameterPanel .field:focus-within {
        background: $accent 20%;
    }
    ParameterPanel .field:focus-within .name {
        color: $accent;
        text-style: bold;
    }
    ParameterPanel .field.-invalid .name {
        color: $error;
        text-style: bold;
    }
    ParameterPanel .name {
        width: 10;
        color: $text-muted;
    }
    ParameterPanel Input {
        width: 1fr;
    }
    ParameterPanel Input.-invalid {
        background: $error 25%;
    }
    ParameterPanel Select {
        width: 1fr;
    }
    ParameterPanel Switch {
        height: 1;
        width: auto;
        border: none;
        padding: 0;
    }
    ParameterPanel .switch-state {
        width: auto;
        padding-left: 1;
    }
    ParameterPanel .reason {
        display: none;
        height: auto;
        padding-left: 10;
        color: $text-muted;
    }
    ParameterPanel .reason.-shown {
        display: block;
    }
    ParameterPanel .reason.-error {
        color: $error;
    }
    ParameterPanel .-not-taken {
        display: none;
    }
    """

    class Changed(Message):
        """A field holds a new value that passed its own check."""

        def __init__(self, field: str, value: Any) -> None:
            super().__init__()
            self.field = field
            self.value = value

    def __init__(self, settings: Settings, speed: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._settings = settings
        self._speed = speed
        self._hints: dict[str, str] = {}
        self.border_title = "Parameters"

    def compose(self) -> ComposeResult:
        taken = shown_options(self._settings)
        for field in ROWS:
            value = self._speed if field.name == "speed" else getattr(self._settings, field.name)
            hidden = " -not-taken" if field.name in OPTION_ROWS and field.name not in taken else ""
            with Horizontal(classes="field" + hidden, id=f"row-{field.name}"):
                yield Label(field.label, classes="name")
                yield self._widget(field, value)
                if field.kind == "switch":
                    yield Label(
                        field_text(field.name, value), classes="switch-state", id=f"state-{field.name}"
                    )
            yield Static("", classes="reason" + hidden, id=f"reason-{field.name}")

    def _widget(self, field: Row, value: Any) -> Switch | Select[Any] | Input:
        widget_id = f"field-{field.name}"
        if field.kind == "switch":
            return Switch(value=value, id=widget_id)
        if field.kind == "select":
            return Select(field.options, value=value, allow_blank=False, compact=True, id=widget_id)
        suggester = SuggestFromList(PRESETS, case_sensitive=False) if field.name == "data" else None
        return Input(
            field_text(field.name, value),
            placeholder=field.placeholder,
            compact=True,
            select_on_focus=False,
            suggester=suggester,
            id=widget_id,
        )

    # ------------------------------------------------------------ showing
    def _show_options(self, settings: Settings) -> None:
        """The rows of the chosen optimizer's options only (betas for Adam, etas for Rprop, ...)."""
        taken = shown_options(settings)
        for name in OPTION_ROWS:
            for part in self.query(f"#row-{name}, #reason-{name}"):
                part.set_class(name not in taken, "-not-taken")

    def show(self, settings: Settings, speed: int) -> None:
        """Make every field show these settings, without posting Changed."""
        self._settings = settings
        self._speed = speed
        self._show_options(settings)
        for field in ROWS:
            value = speed if field.name == "speed" else getattr(settings, field.name)
            self._set(field, value)
            self.clear_mark(field.name)

    def _set(self, field: Row, value: Any) -> None:
        widget = self.query_one(f"#field-{field.name}")
        with self.prevent(Input.Changed, Select.Changed, Switch.Changed):
            if isinstance(widget, Input):
                text = field_text(field.name, value)
                if widget.value != text and not (
                    widget.has_focus and self._parses_to(field.name, widget.value, value)
                ):
                    widget.value = text
            elif isinstance(widget, (Select, Switch)) and widget.value != value:
                widget.value = value
        if field.kind == "switch":
            self.query_one(f"#state-{field.name}", Label).update(field_text(field.name, value))

    @staticmethod
    def _parses_to(name: str, text: str, value: Any) -> bool:
        try:
            return parse_field(name, text) == value
        except SettingsError:
            return False

    def mark(self, field: str, reason: str) -> None:
        """Show why the field's value was refused; the run keeps the last good value. A field
        the learner has left shows the value in use again (the reason stays under it)."""
        kept = self._speed if field == "speed" else getattr(self._settings, field, None)
        widget = self.query_one(f"#field-{field}")
        if isinstance(widget, Input) and not widget.has_focus and widget.value != field_text(field, kept):
            reason = f"{widget.value!r} refused: {reason}"
            self._set(ROW_BY_NAME[field], kept)
        note = f"{reason}; keeping {field_text(field, kept) or 'default'}"
        self.query_one(f"#reason-{field}", Static).update(note)
        self.query_one(f"#row-{field}").add_class("-invalid")
        self.query_one(f"#reason-{field}").add_class("-shown", "-error")

    def refuse(self, field: str, reason: str) -> None:
        """The app refused the field's new value: a switch or select goes back to the value
        still in use; an input keeps what was typed while it has focus, to be corrected."""
        widget = self.query_one(f"#field-{field}")
        if not isinstance(widget, Input):
            kept = self._speed if field == "speed" else getattr(self._settings, field)
            self._set(ROW_BY_NAME[field], kept)
        self.mark(field, reason)

    def clear_mark(self, field: str) -> None:
        self.query_one(f"#reason-{field}", Static).update(self._hints.get(field, ""))
        self.query_one(f"#row-{field}").remove_class("-invalid")
        self.query_one(f"#reason-{field}").remove_class("-error")
        self.query_one(f"#reason-{field}").set_class(bool(self._hints.get(field)), "-shown")

    def show_hint(self, field: str, hint: str) -> None:
        """A line under a field that is not an error (e.g. the learning rate's stability limit)."""
        if self._hints.get(field) == hint or self.query_one(f"#row-{field}").has_class("-invalid"):
            return
        self._hints[field] = hint
        reason = self.query_one(f"#reason-{field}", Static)
        reason.update(hint)
        reason.set_class(bool(hint), "-shown")

    # ------------------------------------------------------------ reading
    @staticmethod
    def _field_of(widget: Widget) -> str:
        return (widget.id or "").removeprefix("field-")

    def _check(self, field: str, text: str) -> Any:
        """The parsed value, or None after marking the field."""
        try:
            value = parse_field(field, text)
        except SettingsError as error:
            self.mark(field, error.message)
            return None
        self.clear_mark(field)
        return value

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        if event.input.has_focus:  # typed; not the value the field was made with, which would clear a mark
            self._check(self._field_of(event.input), event.value)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._commit(event.input)

    @on(Input.Blurred)
    def _blurred(self, event: Input.Blurred) -> None:
        event.stop()
        self._commit(event.input)

    def _commit(self, widget: Input) -> None:
        field = self._field_of(widget)
        try:
            value = parse_field(field, widget.value)
        except SettingsError as error:
            self.mark(field, error.message)
            return
        if value != getattr(self._settings, field):
            self.post_message(self.Changed(field, value))

    @on(Select.Changed)
    def _selected(self, event: Select.Changed) -> None:
        event.stop()
        self.post_message(self.Changed(self._field_of(event.select), event.value))

    @on(Switch.Changed)
    def _switched(self, event: Switch.Changed) -> None:
        event.stop()
        self.post_message(self.Changed(self._field_of(event.switch), event.value))
