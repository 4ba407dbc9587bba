"""Snapshots of the graph view (g). Review an SVG as a picture before committing it."""

from __future__ import annotations

from app_support import make_app
from test_snapshots import run_keys

from lrtui.engine import Settings


def test_lab_2_after_backward_at_120x40(snap_compare) -> None:
    """Lab 2's graph left to right, the phases run up to backward: the gradients on the edges,
    .grad None + arriving = after at both AccumulateGrad nodes."""
    assert snap_compare(make_app(), terminal_size=(120, 40), run_before=run_keys("n", "n", "g", *"ppp"))


def test_nn_linear_zero_grad_off_second_backward_at_120x40(snap_compare) -> None:
    """nn.Linear with zero_grad off: AddmmBackward0, TBackward0, MseLossBackward0; 2 shows
    torch's error and the .grad a retained graph would give."""
    app = make_app(Settings(model="linear", zero_grad=False))
    assert snap_compare(app, terminal_size=(120, 40), run_before=run_keys("n", "n", "g", "2"))


def test_mini_batch_stepping_backward_at_80x24(snap_compare) -> None:
    """80x24: the column of nodes, this batch's x_batch and y_batch, backward stepped to its
    third node (B)."""
    app = make_app(Settings(data="noisy", batch_size=10, shuffle=True))
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_keys("n", "n", "g", *"BBB"))
