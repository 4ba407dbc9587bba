"""The log as data: epoch lines at the interval, events, undo taking out exactly the undone lines,
divergence and the end of a run, all without the app."""

from __future__ import annotations

import numpy as np
import plain_torch as pt

from lrtui.engine import Settings
from lrtui.engine.race import Race, contender_settings
from lrtui.engine.run import Run
from lrtui.engine.run_log import RunLog


def texts(log: RunLog) -> list[str]:
    return [line.text for line in log.lines]


def plain_line(record: dict, epochs: int, letter: str = "") -> str:
    """The lessons' print, written here from a plain torch record."""
    start = f"Epoch {record['epoch']:4d}/{epochs} {letter + ' ' if letter else ''}W: {record['w_next']:.3f}"
    return f"{start}, b: {record['b_next']:.3f} Cost: {record['cost']:.6f}"


def test_epoch_lines_come_at_the_log_interval_exactly_as_the_lessons_print_them() -> None:
    race, log = Race.of(Settings(epochs=50, log_every=10)), RunLog()
    log.took(race, race.step(51))
    plain = pt.raw_loop(*pt.line_data(), 50)
    finished = "run finished: epochs 0..50 done, cost"
    assert texts(log)[:-1] == [plain_line(plain[e], 50) for e in range(0, 51, 10)]
    assert texts(log)[-1].startswith(finished) and log.lines[-1].event


def test_take_hands_each_line_once() -> None:
    race, log = Race.of(Settings(log_every=1)), RunLog()
    log.event("hello", 0)
    log.took(race, race.step(2))
    rewritten, lines = log.take()
    assert not rewritten and [line.text for line in lines][0] == "hello" and len(lines) == 3
    assert log.take() == (False, []) and not log.has_pending


def test_undo_takes_out_the_lines_of_the_undone_epochs_and_the_events_after_them() -> None:
    race, log = Race.of(Settings(log_every=1)), RunLog()
    log.took(race, race.step(3))
    log.event("from epoch 3: learning rate 0.01 → 0.02", race.leader.epoch)
    log.took(race, race.step(2))
    log.take()
    before_change = texts(log)[:3]
    for _ in range(2):
        race.undo()
    log.undo_to(race.leader.epoch)
    assert texts(log)[:3] == before_change and len(log) == 4  # the event before epoch 3 stays
    race.undo()
    log.undo_to(race.leader.epoch)
    assert texts(log) == before_change[:2]
    rewritten, lines = log.take()
    assert rewritten and [line.text for line in lines] == before_change[:2]


def test_undo_keeps_the_lines_of_an_earlier_run() -> None:
    race, log = Race.of(Settings(log_every=1)), RunLog()
    log.took(race, race.step(3))
    log.new_run()
    race.restart(Run(race.leader.settings))
    log.event("reset", 0)
    log.took(race, race.step(1))
    race.undo()
    log.undo_to(race.leader.epoch)
    assert len(log) == 4 and texts(log)[-1] == "reset"


def test_a_race_logs_a_line_per_contender_and_says_who_diverged() -> None:
    base = Settings(epochs=60, log_every=20)
    race, log = Race.of(base, [contender_settings(base, "lr=1")]), RunLog()
    log.took(race, race.step(61))
    plain_a = pt.raw_loop(*pt.line_data(), 60)
    plain_b = pt.raw_loop(*pt.line_data(), 60, lr=1.0)
    diverged_at = race.rivals[0].diverged_at
    assert diverged_at is not None and diverged_at < 20
    assert plain_line(plain_a[0], 60, "A") in texts(log) and plain_line(plain_b[0], 60, "B") in texts(log)
    assert any(t.startswith(f"B diverged at epoch {diverged_at} ") for t in texts(log))
    assert texts(log).index(plain_line(plain_a[20], 60, "A")) > 0


def test_the_leaders_divergence_is_an_event_with_the_stability_limit() -> None:
    race, log = Race.of(Settings(learning_rate=1.0, log_every=1000)), RunLog()
    log.took(race, race.step(100))
    assert race.leader.diverged
    last = log.lines[-1]
    assert last.event and f"diverged at epoch {race.leader.diverged_at}" in last.text
    x = np.array([1.0, 2.0, 3.0])
    hessian = 2 / len(x) * np.array([[x @ x, x.sum()], [x.sum(), len(x)]])
    limit = 2 / np.linalg.eigvalsh(hessian).max()
    assert f"converges only for learning rates below {limit:.4g}" in last.text


def test_replay_writes_the_logged_epochs_of_a_loaded_history() -> None:
    race, log = Race.of(Settings(log_every=5)), RunLog()
    race.step(12)
    log.replay(race)
    plain = pt.raw_loop(*pt.line_data(), 11)
    assert texts(log) == [plain_line(plain[e], 1000) for e in (0, 5, 10)]


def test_a_long_log_keeps_its_last_lines_bounded() -> None:
    race, log = Race.of(Settings(log_every=1, epochs=10**6)), RunLog(max_lines=50)
    for _ in range(30):
        log.took(race, race.step(10))
    assert 50 <= len(log) <= 100 and texts(log)[-1].startswith("Epoch  299/")


def test_replay_in_a_race_writes_every_contender_as_took_does() -> None:
    """Lettered lines of every contender, epoch by epoch (a race brought back by undo, or rivals
    brought to a loaded session's epoch): the same lines ``took`` wrote as it ran."""
    base = Settings(log_every=3, data="noisy")
    race, ran = Race.of(base, [contender_settings(base, "batch-size=50")]), RunLog()
    ran.took(race, race.step(7))
    replayed = RunLog()
    replayed.replay(race)
    assert texts(replayed) == texts(ran)
    assert [text.split()[2] for text in texts(ran)][:3] == ["A", "B", "B"]
