"""A standardized run seen in x's own units: the same path on the surface of the raw x.

A run with --standardize trains W' and b' on x' = (x - μ)/σ; each of its points is the line
W x + b with W = W'/σ and b = b' - W'μ/σ. ``in_x_units`` maps a scene (the path, the current
point, the next step, the rivals) onto the cost over (W, b) of the raw x, so that a key can
switch between the round bowl the run sees and the long valley raw x would have given.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..engine.losses import surface_for
from ..engine.scaling import Scaling, original_record, scaling_of
from .scene import Scene, Track


def can_show_x_units(scene: Scene) -> bool:
    """True for a standardized run with bias (without bias the raw-x line has an intercept
    the trained model has no axis for)."""
    return scene.settings.standardize and scene.bias and scene.slice is None  # k features: not yet


def _track(track: Track, scaling: Scaling) -> Track:
    w = track.w / scaling.std
    b = track.b - track.w * scaling.mean / scaling.std
    end = None if track.end is None else scaling.original(*track.end)
    ws = np.append(w, end[0]) if end is not None else w
    bs = np.append(b, end[1]) if end is not None else b
    keep = np.isfinite(ws) & np.isfinite(bs)
    w_bounds = (float(ws[keep].min()), float(ws[keep].max())) if keep.any() else None
    b_bounds = (float(bs[keep].min()), float(bs[keep].max())) if keep.any() else None
    return replace(track, w=w, b=b, end=end, w_bounds=w_bounds, b_bounds=b_bounds)


def in_x_units(scene: Scene) -> Scene:
    """The scene on the raw x's cost surface, every point in x's own units."""
    scaling = scaling_of(scene.dataset, scene.settings)
    assert scaling is not None
    w, b = scaling.original(scene.w, scene.b)
    rivals = tuple(
        replace(rival, track=_track(rival.track, scaling), w=scaling.original(rival.w, rival.b)[0],
                b=scaling.original(rival.w, rival.b)[1])
        for rival in scene.rivals
    )  # fmt: skip
    return replace(
        scene,
        surface=surface_for(scene.dataset, scene.bias, scene.settings),
        track=_track(scene.track, scaling),
        last=None if scene.last is None else original_record(scene.last, scaling),
        w=w,
        b=b,
        next=None if scene.next is None else original_record(scene.next, scaling),
        rivals=rivals,
        predicted=None,
        reached_at=None,
        raw_x=True,
    )
