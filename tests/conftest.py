"""Every test runs in its own temporary folder, so the files the app writes where it runs
(history exports, sessions, scripts) never land in the repository."""

from __future__ import annotations

import asyncio

import pytest


@pytest.fixture(autouse=True)
def _run_in_a_temporary_folder(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


async def _until_handled(*args: object, **kwargs: object) -> None:
    """Stands in for Textual's wait after each key a Pilot presses. Textual waits until the
    process's CPU time stops moving (at least 40 ms a key, longer on a busy machine); this waits
    until the app and every widget on its screen have handled what was queued before it, twice
    over (a key's handler may queue work for another widget). The order of events is the same;
    only the idle guess is gone, so a test does not depend on the machine's load."""
    from textual._context import active_app

    app = active_app.get(None)
    for _ in range(2):
        await asyncio.sleep(0)
        if app is None or not app.is_running:
            return
        try:
            nodes = [app, *app.screen.walk_children(with_self=True)]
        except Exception:  # no screen yet, or the app is closing
            return
        await _all_handled([node for node in nodes if node.is_running])


async def _all_handled(nodes: list) -> None:
    done = asyncio.Event()
    left = 0

    def handled() -> None:
        nonlocal left
        left -= 1
        if left == 0:
            done.set()

    for node in nodes:
        if node.call_later(handled):
            left += 1
    if left:
        await asyncio.wait_for(done.wait(), timeout=30)


@pytest.fixture(autouse=True)
def _keys_wait_for_the_app_not_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    import textual.app

    monkeypatch.setattr(textual.app, "wait_for_idle", _until_handled)
