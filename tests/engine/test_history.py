"""History: exact records, bounded memory in long runs, the whole run still covered."""

from __future__ import annotations

from lrtui.engine import EpochRecord, Settings, Simulation
from lrtui.engine import history as history_module
from lrtui.engine.history import History


def record(epoch: int) -> EpochRecord:
    value = float(epoch)
    return EpochRecord(epoch, value, -value, value / 2, 1.0, 2.0, value + 1, -value - 1, 0.5, 0.25, 0.01)


def test_records_come_back_exactly() -> None:
    simulation = Simulation(Settings(data="noisy", zero_grad=False))
    records = simulation.run(50)
    history = History()
    history.extend(records)
    assert list(history) == records and history.last == records[-1]
    assert list(history.columns["w"]) == [r.w for r in records]
    assert list(history.columns["b_next"]) == [r.b_next for r in records]


def test_without_bias_b_fields_are_none() -> None:
    simulation = Simulation(Settings(bias=False))
    history = History()
    history.extend(simulation.run(3))
    assert history.last.b is None and history.last.grad_b is None
    assert all(r.b is None and r.b_next is None and r.fresh_grad_b is None for r in history)


def test_a_long_run_is_thinned_but_bounded_covered_and_exact(monkeypatch) -> None:
    monkeypatch.setattr(history_module, "MAX_RECORDS", 256)
    monkeypatch.setattr(history_module, "TAIL", 64)
    history = History()
    for epoch in range(20_000):
        history.append(record(epoch))
    assert len(history) <= 256
    epochs = list(history.epochs)
    assert epochs[0] == 0 and epochs[-1] == 19_999
    assert epochs[-64:] == list(range(20_000 - 64, 20_000))  # the recent epochs are all there
    gaps = [b - a for a, b in zip(epochs, epochs[1:], strict=False)]
    assert max(gaps) <= history.stride  # evenly covered, no hole
    for index in range(0, len(history), 17):
        assert history.record(index) == record(history.epochs[index])


def test_truncate_steps_forgets_undone_epochs() -> None:
    history = History()
    history.extend(record(e) for e in range(10))
    history.truncate_steps(6)
    assert list(history.epochs) == [0, 1, 2, 3, 4, 5] and history.last == record(5)
