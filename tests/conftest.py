"""Every test runs in its own temporary folder, so the files the app writes where it runs
(history exports, sessions, scripts) never land in the repository."""

from __future__ import annotations

import asyncio
import gc

import pytest
from textual.app import App
from textual.message_pump import MessagePump
from textual.pilot import Pilot, WaitForScreenTimeout


def pytest_collection_finish(session: pytest.Session) -> None:
    """Torch, Textual and the collected tests are a few million objects that live to the end:
    move them out of the collector's way, and collect the young less often. Each app a test starts
    makes hundreds of thousands of short-lived objects, and full collections over everything
    loaded took a third of a Pilot test's time."""
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)


@pytest.fixture(autouse=True)
def _run_in_a_temporary_folder(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


_dispatch = MessagePump._dispatch_message


async def _dispatch_counted(self: MessagePump, message: object) -> None:
    """Textual's dispatch, counting the messages a node is still handling (a handler may await)."""
    state = self.__dict__
    state["_handling"] = state.get("_handling", 0) + 1
    try:
        await _dispatch(self, message)
    finally:
        state["_handling"] -= 1


def _has_work(node: MessagePump) -> bool:
    """A message queued, one being handled, or a callback due when the queue empties."""
    return bool(node._message_queue.values or node.__dict__.get("_handling") or node._next_callbacks)


def _nodes_with_work(app: App) -> list[MessagePump] | None:
    """The app and the widgets on its screen that have work; None while it has no screen."""
    try:
        nodes = [app, *app.screen.walk_children(with_self=True)]
    except Exception:  # no screen yet, or the app is closing
        return None
    return [node for node in nodes if _has_work(node)]


async def _until_handled(*args: object, **kwargs: object) -> None:
    """Stands in for Textual's wait after each key a Pilot presses. Textual waits until the
    process's CPU time stops moving (at least 40 ms a key, longer on a busy machine); this waits
    until the app and every widget on its screen have handled what was queued before it, twice
    over (a key's handler may queue work for another widget). The order of events is the same;
    only the idle guess is gone, so a test does not depend on the machine's load. A node with
    nothing queued and nothing in hand is not asked: asking each of a few hundred widgets twice
    a key cost more than the app's own work."""
    from textual._context import active_app

    app = active_app.get(None)
    for _ in range(2):
        await asyncio.sleep(0)
        if app is None or not app.is_running:
            return
        busy = _nodes_with_work(app)
        if busy is None:
            return
        await _all_handled([node for node in busy if node.is_running])


async def _until_settled(*args: object, **kwargs: object) -> None:
    """Stands in for the CPU-idle wait in ``Pilot.pause()``: until the app has handled what was
    queued, and the frames a clock would have painted by then are painted, with what waits for
    a frame (a footer's recompose, a scroll, ``call_after_refresh``) run after them. A resize
    Textual holds back for the next one is delivered at once."""
    from textual._context import active_app

    app = active_app.get(None)
    for _ in range(20):
        await _until_handled()
        if app is None or not app.is_running:
            return
        if app._resize_timer is not None:  # a resize waits 1/120 s for the next: it is here
            app._check_resize()
            continue
        try:
            screen = app.screen
        except Exception:  # no screen yet, or the app is closing
            return
        due = (
            screen._layout_required
            or screen._scroll_required
            or screen._repaint_required
            or screen._recompose_required
            or screen._dirty_widgets
            or screen._callbacks
        )
        if not due:
            return
        screen._on_timer_update()


async def _all_handled(nodes: list, timeout: float | None = 30) -> None:
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
        await asyncio.wait_for(done.wait(), timeout=timeout)


async def _wait_for_screen(self: Pilot, timeout: float = 30.0) -> bool:
    """Pilot's wait after every press and pause, asking only the nodes with work (as above).
    False when the app raised instead; a timeout is Textual's error."""
    busy = _nodes_with_work(self.app)
    if busy is None:
        return False
    handled = asyncio.ensure_future(_all_handled(busy, timeout=None))
    failed = asyncio.ensure_future(self.app._exception_event.wait())
    done, _ = await asyncio.wait([handled, failed], timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    handled.cancel()
    failed.cancel()
    if not done:
        raise WaitForScreenTimeout("Timed out while waiting for widgets to process pending messages.")
    return handled in done


@pytest.fixture(autouse=True)
def _keys_wait_for_the_app_not_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    import textual.app
    import textual.pilot

    monkeypatch.setattr(textual.app, "wait_for_idle", _until_handled)
    monkeypatch.setattr(textual.pilot, "wait_for_idle", _until_settled)  # Pilot.pause()'s own copy
    monkeypatch.setattr(MessagePump, "_dispatch_message", _dispatch_counted)
    monkeypatch.setattr(Pilot, "_wait_for_screen", _wait_for_screen)
