"""The served page's key bar: drawn from the first frame, though a served app starts blurred."""

from __future__ import annotations

from app_support import make_app
from textual.app import App
from textual.widgets import Input
from textual.widgets._footer import FooterKey


def footer_actions(app) -> set[str]:
    return {key.action for key in app.screen.query(FooterKey)}


async def test_a_blurred_app_shows_its_keys_and_follows_them() -> None:
    """Textual's web driver starts an app blurred, and Textual's footer composes nothing while
    the app is blurred: in Chromium the key bar was an empty strip until a click, and after a
    prompt closed it kept `esc Leave field`. No key is pressed here: a key would focus the app."""
    app = make_app()
    app.set_reactive(App.app_focus, False)  # as the web driver starts it
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert not app.app_focus
        assert {"toggle_run", "step(1)", "quit"} <= footer_actions(app)
        app.query_one("#field-learning_rate", Input).focus()
        await pilot.pause()
        assert "focus_app" in footer_actions(app) and "toggle_run" not in footer_actions(app)
        app.screen.set_focus(None)
        await pilot.pause()
        assert not app.app_focus
        assert "toggle_run" in footer_actions(app) and "focus_app" not in footer_actions(app)
