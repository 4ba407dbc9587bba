"""The cost surface of a loss that is not a square: L1 and Huber, computed exactly from the points.

Their costs are not fixed by a few sums, so each (W, b) is evaluated on the points themselves,
in float64. Where a whole grid times the number of points would pass EVALUATION_BUDGET (a
chart frame's worth of work), the grid is evaluated on an evenly strided subset of the points
and ``last_stride`` says so; a single point (a marker, the optimum's cost) always uses every point.

The optimum is found numerically, once per dataset and loss:
- L1 without bias: the exact minimiser, the weighted median of y/x with weights |x|.
- L1 with bias: min over b of the L1 cost is b = median(y - Wx), and that profile is convex in W
  (a partial minimum of a jointly convex function), so W is found by golden-section search on it
  within an expanding bracket, to float64 resolution.
- Huber: iteratively reweighted least squares (weights min(1, δ/|r|)) from the least-squares
  line, the standard M-estimation iteration, which lowers the convex Huber cost every step and is
  run until W and b stop changing.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from .data import Dataset
from .surface import CostSurface, LearningRateLimit, Optimum

if TYPE_CHECKING:
    from .settings import Settings

EVALUATION_BUDGET = 4_000_000  # grid cells x points evaluated for one drawing
_CHUNK = 1_000_000  # elements of one temporary array
_GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0


def surface_for(dataset: Dataset, bias: bool, settings: Settings) -> CostSurface:
    """The cost surface of the run's loss: closed form for MSE, point by point otherwise; over
    θ = (w1..wk, b) with k > 1 features."""
    if dataset.features > 1:
        from .features import FeatureSurface

        return FeatureSurface(dataset, bias, settings.loss_reduction, settings.loss, settings.huber_delta)
    if settings.loss == "mse":
        return CostSurface(dataset.sums, bias, settings.loss_reduction)
    return RobustSurface(dataset, bias, settings.loss_reduction, settings.loss, settings.huber_delta)


class RobustSurface(CostSurface):
    """J(W, b) = scale * sum(ρ(W*x + b - y)), ρ(r) = |r| (L1) or Huber's r²/2 for |r| <= δ and
    δ(|r| - δ/2) past it, with scale 1/n for ``mean`` and 1 for ``sum``."""

    def __init__(
        self, dataset: Dataset, bias: bool, loss_reduction: str, loss: str, delta: float = 1.0
    ) -> None:
        super().__init__(dataset.sums, bias, loss_reduction)
        self.dataset = dataset
        self.loss = loss
        self.delta = delta
        self.loss_key = (loss, delta)
        self.x = dataset.x_train.double().numpy().ravel()
        self.y = dataset.y_train.double().numpy().ravel()
        self.last_stride = 1  # the stride of the points the last grid was evaluated on

    def _rho(self, r: np.ndarray) -> np.ndarray:
        a = np.abs(r)
        if self.loss == "l1":
            return a
        d = self.delta
        return np.where(a <= d, 0.5 * r * r, d * (a - 0.5 * d))

    def _total(
        self, w: np.ndarray | np.float64, b: np.ndarray | float, x: np.ndarray, y: np.ndarray
    ) -> np.ndarray:
        """sum over the points of ρ, at every (w, b) of the broadcast grid, chunk by chunk."""
        w = np.asarray(w, dtype=np.float64)
        b = np.asarray(b, dtype=np.float64)
        shape = np.broadcast_shapes(w.shape, b.shape)
        cells = max(1, int(np.prod(shape)))
        total = np.zeros(shape)
        step = max(1, _CHUNK // cells)
        for start in range(0, len(x), step):
            xs = x[start : start + step]
            ys = y[start : start + step]
            r = w[..., None] * xs + b[..., None] - ys
            total = total + self._rho(r).sum(axis=-1)
        return total

    def stride_for(self, cells: int) -> int:
        """Every how many points a grid of ``cells`` costs is evaluated on (1: every point)."""
        return max(1, math.ceil(cells * len(self.x) / EVALUATION_BUDGET))

    def costs(self, w: np.ndarray | np.float64, b: np.ndarray | float = 0.0) -> np.ndarray:
        if not self.bias:
            b = 0.0
        cells = int(np.prod(np.broadcast_shapes(np.shape(w), np.shape(b))))
        stride = self.stride_for(cells)
        x, y = self.x[::stride], self.y[::stride]
        if cells > 1:
            self.last_stride = stride
        with np.errstate(over="ignore", invalid="ignore"):
            # a subset's sum stands for the whole: times the points it stands for
            return self._total(w, b, x, y) * (self.scale * len(self.x) / len(x))

    def gradient(self, w: float, b: float | None = 0.0) -> tuple[float, float | None]:
        """dJ/dW and dJ/db (None without bias) at one point; L1's at a kink is torch's sign(0) = 0."""
        r = w * self.x + ((b or 0.0) if self.bias else 0.0) - self.y
        slope = np.sign(r) if self.loss == "l1" else np.clip(r, -self.delta, self.delta)
        d_w = self.scale * float(np.sum(slope * self.x))
        return (d_w, self.scale * float(np.sum(slope))) if self.bias else (d_w, None)

    @property
    def optimum(self) -> Optimum:
        w, b = _robust_optimum(self.dataset, self.bias, self.loss, self.delta)
        if w is None:
            return Optimum(
                None, None, None, "all x are 0: W does not change the cost, so the optimum is not unique"
            )
        return Optimum(w, b, self.cost(w, b))

    @property
    def largest_curvature(self) -> float:
        """Huber's largest curvature: every point in its squared centre, half the MSE's; L1
        has none (a kinked surface)."""
        if self.loss == "l1":
            return 0.0
        return CostSurface(self.sums, self.bias, self.loss_reduction).largest_curvature / 2.0

    def limit_for(self, settings: Settings) -> LearningRateLimit:
        if self.loss == "l1" and settings.optimizer == "sgd" and settings.zero_grad:
            return LearningRateLimit(None, "L1 loss", "no lr diverges; none settles exactly")
        limit = super().limit_for(settings)
        if limit.limit is not None:
            return LearningRateLimit(limit.limit, f"{limit.rule} (Huber, all points within δ)")
        return limit


@lru_cache(maxsize=16)
def _robust_optimum(
    dataset: Dataset, bias: bool, loss: str, delta: float
) -> tuple[float | None, float | None]:
    x = dataset.x_train.double().numpy().ravel()
    y = dataset.y_train.double().numpy().ravel()
    if not bias:
        if not np.any(x):
            return None, None
        if loss == "l1":
            return _weighted_median(y[x != 0] / x[x != 0], np.abs(x[x != 0])), None
        return _huber_irls(x, y, delta, bias=False)
    if loss == "l1":
        w = _golden_section(lambda w: float(np.sum(np.abs(y - w * x - np.median(y - w * x)))), x, y)
        return w, float(np.median(y - w * x))
    return _huber_irls(x, y, delta, bias=True)


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    """The value at which half the weight lies on each side (the lower one on a tie)."""
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cumulative, 0.5 * cumulative[-1])])


def _golden_section(profile: Callable[[float], float], x: np.ndarray, y: np.ndarray) -> float:
    """The minimiser of a convex function of W, bracketed from the least-squares slope outward."""
    dx = x - x.mean()
    spread = float(dx @ dx)
    start = float(dx @ (y - y.mean())) / spread if spread > 0 else 0.0
    width = abs(start) + 1.0
    low, high = start - width, start + width
    while profile(low) < profile(start) or profile(high) < profile(start):
        width *= 2.0
        low, high = start - width, start + width
    a, b = low, high
    c, d = b - _GOLDEN * (b - a), a + _GOLDEN * (b - a)
    fc, fd = profile(c), profile(d)
    for _ in range(200):
        if b - a <= 1e-15 * max(1.0, abs(a), abs(b)):
            break
        if fc <= fd:
            b, d, fd = d, c, fc
            c = b - _GOLDEN * (b - a)
            fc = profile(c)
        else:
            a, c, fc = c, d, fd
            d = a + _GOLDEN * (b - a)
            fd = profile(d)
    return (a + b) / 2.0


def _huber_irls(x: np.ndarray, y: np.ndarray, delta: float, bias: bool) -> tuple[float, float | None]:
    design = np.column_stack([x, np.ones_like(x)]) if bias else x[:, None]
    weights = np.ones_like(x)
    theta = np.zeros(design.shape[1])
    for _ in range(500):
        weighted = design * weights[:, None]
        new = np.linalg.lstsq(weighted.T @ design, weighted.T @ y, rcond=None)[0]
        done = np.allclose(new, theta, rtol=1e-13, atol=1e-15)
        theta = new
        if done:
            break
        residuals = np.abs(design @ theta - y)
        weights = np.minimum(1.0, delta / np.maximum(residuals, 1e-300))
    return float(theta[0]), float(theta[1]) if bias else None
