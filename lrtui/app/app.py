"""The lrtui app: step a real torch optimizer through linear regression from the keyboard.

The app holds one ``Race`` (a single run is a race of one) and its ``RunLog``; the engine runs
every epoch; the ``RunScreen``'s widgets show what the race exposes and post messages up.
This module has the keys that step and change the run; ``app_actions`` the race and lessons,
``app_files`` the files; ``app_start`` the first frame, painted while torch loads, and the
run's opening; ``app_base`` what they share.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING, Any

from textual.app import SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Input

from ..engine.settings import (
    OPTIMIZERS,
    PRESETS,
    PROBLEM_FIELDS,
    SettingsError,
    field_text,
    label,
    loop_changes,
)
from ..lazy import lazy_callable
from .actions import RaceActions
from .files import FileActions
from .keys import KEYS, TYPED_ACTIONS
from .start import StartingApp
from .widgets.help import HelpScreen
from .widgets.parameters import ParameterPanel

# The app paints its first frame before torch is imported: these are imported when first called.
if TYPE_CHECKING:
    from ..engine.report import stepped_back_from_divergence
    from ..engine.run import Run
else:
    stepped_back_from_divergence = lazy_callable("lrtui.engine.report", "stepped_back_from_divergence")
    Run = lazy_callable("lrtui.engine.run", "Run")


class LrtuiApp(FileActions, StartingApp, RaceActions):
    CSS_PATH = "lrtui.tcss"
    TITLE = "lrtui"
    SUB_TITLE = "linear regression, one epoch at a time"
    AUTO_FOCUS = None
    BINDINGS = list[BindingType](KEYS)

    # ---------------------------------------------------------------- settings
    def change_setting(self, field: str, value: Any) -> bool:
        """Apply one new setting; refused values are marked in the panel. Returns True if applied."""
        leader, panel = self.leader, self.run_screen.panel
        if field == "speed":
            if value == self.pacer.speed:
                return True  # the panel's speed as it was made (a fresh panel posts it)
            self.pacer.set_speed(value)
            panel.show(leader.settings, value)
            self.refresh_views()
            return True
        old = leader.settings
        try:
            new = old.with_changes(**{field: value, **loop_changes(old, field, value)})
        except SettingsError as error:
            self._refuse(field, error.message)
            return False
        if new == old:
            return True
        was, now = field_text(field, getattr(old, field)) or "default", field_text(field, value) or "default"
        change = f"{label(field)} {was} → {now}"
        if field in PROBLEM_FIELDS:
            if new.data != old.data:  # a file is read off the UI thread: the run starts again then
                self.change_data(new, change)
                return True
            from ..engine.data import DataError

            try:
                run = Run(new, leader.dataset)
            except DataError as error:
                self._refuse(field, str(error))
                return False
            self.start_over(run, f"{change}: a new problem, so the run starts again at epoch 0")
            return True
        self.race.apply(new)
        where = f"epoch {leader.epoch}" + (
            f", batch {leader.batch + 1}" if leader.settings.mini_batches else ""
        )
        self.log_event(f"from {where}: {change}")
        if field == "zero_grad" and not value and self.lesson is None:
            self.log_event(
                ".grad now adds each epoch's fresh gradient to the ones before; lesson 4 (press l) "
                "shows it with a learning rate so small that the fresh gradient barely changes"
            )
        panel.show(new, self.pacer.speed)
        self.check_goal()
        self.refresh_views()
        return True

    def on_parameter_panel_changed(self, event: ParameterPanel.Changed) -> None:
        self.change_setting(event.field, event.value)

    # ----------------------------------------------------------------- running
    def action_toggle_run(self) -> None:
        if self.running:
            self.stop_running()
        elif self.can_step():
            self.running = True
            self.pacer.restart()
            self.frame_timer.resume()
        self.refresh_views()

    def action_step(self, count: int) -> None:
        self.advance(count)

    def action_step_epoch(self) -> None:
        """The rest of the epoch in progress, or a whole one between epochs."""
        leader = self.leader
        self.advance(leader.batches_per_epoch - leader.batch)

    def action_step_back(self) -> None:
        self.stop_running()
        leader = self.leader
        diverged_at = leader.diverged_at
        if diverged_at is not None and (back := self.race.undo_to_stable()):
            self.run_log.undo_to(leader.position)
            self.log_event(stepped_back_from_divergence(leader, back, diverged_at))
        elif not self.race.undo():
            if leader.epoch == leader.first_epoch == 0 and self.bring_back():
                return
            first = leader.first_epoch
            if first:
                message = f"This session was loaded before epoch {first}: undo goes back no further."
            else:
                message = "Nothing to undo: no epoch has run yet."
            self.notify(message, severity="warning")
            return
        self.run_log.undo_to(leader.position)
        self.run_screen.panel.show(leader.settings, self.pacer.speed)
        self.refresh_views()

    def action_reset(self) -> None:
        leader = self.leader
        self.start_over(Run(leader.settings, leader.dataset), "reset: back to epoch 0 with the same settings")

    def action_phase_step(self) -> None:
        if not self.run_screen.showing_code:
            self.action_toggle_code()
        if self.can_step():
            self.took(self.race.phase_step())

    # --------------------------------------------------------- quick changes
    def action_toggle_zero_grad(self) -> None:
        self.change_setting("zero_grad", not self.leader.settings.zero_grad)

    def action_scale_learning_rate(self, factor: float) -> None:
        self.change_setting("learning_rate", self.leader.settings.learning_rate * factor)

    def action_next_optimizer(self) -> None:
        current = OPTIMIZERS.index(self.leader.settings.optimizer)
        self.change_setting("optimizer", OPTIMIZERS[(current + 1) % len(OPTIMIZERS)])

    def action_toggle_bias(self) -> None:
        self.change_setting("bias", not self.leader.settings.bias)

    def action_next_dataset(self) -> None:
        data = self.leader.settings.data
        choices = PRESETS if data in PRESETS else (*PRESETS, data)
        self.change_setting("data", choices[(choices.index(data) + 1) % len(choices)])

    # ------------------------------------------------------------------ views
    def action_next_view(self) -> None:
        if self.run_screen.showing_code:
            self.action_toggle_code()
        self.run_screen.chart.next_view()

    def action_toggle_x_units(self) -> None:
        """t: a standardized run's surface over x' (as trained) or over raw x."""
        if not self.run_screen.chart.toggle_x_units():
            self.notify(
                "t switches the surface between x' and raw x for a run with --standardize (and bias)."
            )

    def on_resize(self) -> None:
        # the screen's layout follows its size first (RunScreen.on_resize), then the panes
        self.call_after_refresh(self.refresh_views)

    def action_toggle_panel(self) -> None:
        self.run_screen.toggle_panel()

    def action_toggle_code(self) -> None:
        self.run_screen.toggle_code()
        self.refresh_views()

    # ------------------------------------------------------------ discovery
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """While a field has focus, the keys it types into are not the app's: the footer shows
        only the keys that still work (ctrl+…, esc)."""
        typing = isinstance(self.focused, Input)
        if action == "focus_app":
            return typing
        written = f"{action}({', '.join(map(repr, parameters))})" if parameters else action
        return not (typing and written in TYPED_ACTIONS)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.key_help()))

    def action_focus_app(self) -> None:
        self.screen.set_focus(None)

    def key_help(self) -> list[tuple[Binding, str]]:
        return [(binding, binding.tooltip) for binding in KEYS]

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        # Textual's own "Keys" panel would stand beside ours, which explains every key.
        yield from (command for command in super().get_system_commands(screen) if command.title != "Keys")
        for binding in KEYS:
            if binding.id in ("help", "focus-app", "quit"):
                continue
            yield SystemCommand(
                f"{binding.description} ({binding.key.split(',')[0]})",
                binding.tooltip,
                partial(self.run_action, binding.action),
            )
        yield SystemCommand("Keys (?)", "show this help", self.action_help)

    def action_next_slice(self) -> None:
        """w: with several features, the chart's slice over the next pair of parameters."""
        names = self.run_screen.chart.next_pair()
        self.notify(
            f"the slice is over {names}"
            if names
            else "w cycles the slice's parameters with several features."
        )
