"""The cost as a function of (W, b), in closed form.

The mean squared error of a line is quadratic in its parameters, so it is fixed by
six sums of the data. Everything here costs the same for 3 points or 1,000,000.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .data import Sums

if TYPE_CHECKING:
    from .settings import Settings


@dataclass(frozen=True)
class Optimum:
    """The least-squares solution, or why there is no single one."""

    w: float | None
    b: float | None
    cost: float | None
    reason: str = ""
    ws: tuple[float, ...] | None = None  # with k > 1 features, W's k values (w is the first)

    @property
    def unique(self) -> bool:
        return self.w is not None


class CostSurface:
    """J(W, b) = scale * sum((W*x + b - y)^2), with scale 1/n for ``mean`` and 1 for ``sum``."""

    loss = "mse"
    loss_key: tuple = ("mse",)  # tells apart the surfaces of different losses (charts' caches)

    def __init__(self, sums: Sums, bias: bool = True, loss_reduction: str = "mean") -> None:
        self.sums = sums
        self.bias = bias
        self.loss_reduction = loss_reduction
        self.scale = 1.0 / sums.n if loss_reduction == "mean" else 1.0

    def cost(self, w: float, b: float | None = 0.0) -> float:
        """The cost at one point; b is ignored without bias."""
        return float(self.costs(np.float64(w), np.float64(b or 0.0)))

    def costs(self, w: np.ndarray | np.float64, b: np.ndarray | float = 0.0) -> np.ndarray:
        """The cost at many points at once (numpy broadcasting), or at one for a float64 ``w``."""
        s = self.sums
        if not self.bias:
            b = 0.0
        with np.errstate(over="ignore", invalid="ignore"):
            total = w * w * s.xx + 2.0 * w * b * s.x + s.n * b * b - 2.0 * w * s.xy - 2.0 * b * s.y + s.yy
            return np.maximum(total, 0.0) * self.scale

    def stride_for(self, cells: int) -> int:
        """Every how many points a grid of ``cells`` costs is evaluated on: every point here,
        as the closed form costs the same for any number of them."""
        return 1

    def grid(self, ws: np.ndarray, bs: np.ndarray) -> np.ndarray:
        """Costs on a grid: row i is b = bs[i], column j is W = ws[j]."""
        costs = self.costs(ws[np.newaxis, :], bs[:, np.newaxis])
        return np.broadcast_to(costs, (len(bs), len(ws)))

    def gradient(self, w: float, b: float | None = 0.0) -> tuple[float, float | None]:
        """dJ/dW and dJ/db (None without bias) at one point."""
        s = self.sums
        bb = (b or 0.0) if self.bias else 0.0
        d_w = 2.0 * self.scale * (w * s.xx + bb * s.x - s.xy)
        if not self.bias:
            return d_w, None
        d_b = 2.0 * self.scale * (w * s.x + bb * s.n - s.y)
        return d_w, d_b

    @property
    def optimum(self) -> Optimum:
        s = self.sums
        if self.bias:
            # Judged on the spread about the mean, which is exactly 0 for equal x whatever their
            # scale (x around 1e-7 is as good data as x around 1); n*xx - x^2 would lose it to rounding.
            if s.sxx == 0:
                return Optimum(
                    None,
                    None,
                    None,
                    "all x are equal: every line through their mean fits as well, so the optimum is not unique",
                )
            w = s.sxy / s.sxx
            b = (s.y - w * s.x) / s.n
        else:
            if s.xx == 0:
                return Optimum(
                    None, None, None, "all x are 0: W does not change the cost, so the optimum is not unique"
                )
            w = s.xy / s.xx
            b = None
        return Optimum(w, b, self.cost(w, b))

    def decayed_curvatures(self, decay: float, decay_b: float | None = None) -> tuple[float, float]:
        """The smallest and largest eigenvalues of H + diag(decay, decay_b): the curvature of
        J + decay/2 W² + decay_b/2 b² (``decay_b`` the same decay unless b is left out of it)."""
        s, two = self.sums, 2.0 * self.scale
        a = two * s.xx + decay
        if not self.bias:
            return a, a
        c, d = two * s.x, two * s.n + (decay if decay_b is None else decay_b)
        middle, radius = (a + d) / 2.0, math.hypot((a - d) / 2.0, c)
        return middle - radius, middle + radius

    def ridge_optimum(self, decay: float, decay_b: float | None = None) -> tuple[float, float | None] | None:
        """Where coupled weight decay (L2, on W and b as torch does) settles: the minimum of
        J + decay/2 (W² + b²), solving (H + decay I) θ = 2 scale (Σxy, Σy) in closed form
        (H the cost's Hessian; ``decay_b`` 0 leaves b out of the decay). None when that system
        has no single solution."""
        s, two = self.sums, 2.0 * self.scale
        a, c, d = two * s.xx + decay, two * s.x, two * s.n + (decay if decay_b is None else decay_b)
        if not self.bias:
            return (two * s.xy / a, None) if a > 0 else None
        det = a * d - c * c
        if det <= 0:
            return None
        r_w, r_b = two * s.xy, two * s.y
        return (d * r_w - c * r_b) / det, (a * r_b - c * r_w) / det

    @property
    def largest_curvature(self) -> float:
        """The largest eigenvalue of the cost's Hessian (constant: the cost is quadratic)."""
        s = self.sums
        a = 2.0 * self.scale * s.xx
        if not self.bias:
            return a
        c = 2.0 * self.scale * s.x
        d = 2.0 * self.scale * s.n
        return (a + d) / 2.0 + math.hypot((a - d) / 2.0, c)

    @property
    def stability_limit(self) -> float:
        """The largest learning rate at which plain gradient descent still converges (2 / λmax)."""
        curvature = self.largest_curvature
        return 2.0 / curvature if curvature > 0 else math.inf

    def limit_for(self, settings: Settings) -> LearningRateLimit:
        """What bounds the learning rate of a run with these settings on this cost.

        On a quadratic cost each direction of curvature λ is a linear recurrence in the
        error e = W - W*, and a run settles when every root of it lies inside the unit circle:
        plain SGD, e' = (1 - lr λ) e, settles for lr λ < 2; SGD with momentum β (torch's
        heavy ball, v' = β v + g, W' = W - lr v) has z² - (1 + β - lr λ) z + β and settles
        for lr λ < 2(1 + β); with Nesterov (W' = W - lr (g + β v')), z² - (1 + β - lr λ(1 + β)) z
        + β(1 - lr λ) gives lr λ < 2(1 + β) / (1 + 2β). Without zero_grad, .grad sums every
        gradient so far: a second sum that leaves plain SGD circling for ever (its two roots lie on
        the unit circle) and makes momentum diverge, at any lr. Adagrad, RMSprop and Adam divide
        each step by a running size of the gradients, so no fixed bound on lr applies. Weight
        decay λ (coupled, as SGD's) adds λ to every curvature; dampening has no bound worked out.
        """
        if settings.optimizer != "sgd":
            return LearningRateLimit(None, "adaptive step", "no fixed lr limit")
        if not settings.zero_grad:
            return LearningRateLimit(None, "zero_grad off", "no lr converges")
        if settings.dampening:
            return LearningRateLimit(None, "SGD dampening", "no lr limit worked out with dampening")
        # weight decay (L2, on W and b as torch does) adds it to every curvature
        decay = settings.weight_decay or 0.0
        curvature = self.decayed_curvatures(decay, None if settings.decay_bias else 0.0)[1]
        plain = 2.0 / curvature if curvature > 0 else math.inf
        decayed = (f" + decay {decay:g}" + ("" if settings.decay_bias else " on W")) if decay else ""
        beta = settings.momentum
        if beta == 0:
            return LearningRateLimit(plain, f"plain GD{decayed}")
        if settings.nesterov:
            return LearningRateLimit(plain * (1 + beta) / (1 + 2 * beta), f"SGD Nesterov {beta:g}{decayed}")
        return LearningRateLimit(plain * (1 + beta), f"SGD momentum {beta:g}{decayed}")


@dataclass(frozen=True)
class LearningRateLimit:
    """The largest learning rate at which a run settles, and the rule it comes from.

    ``limit`` is None where no fixed limit applies; ``rule`` names the optimizer's case
    (``plain GD``, ``SGD momentum 0.9``) or why there is no limit (``adaptive step``), and
    ``none`` says so in a few words."""

    limit: float | None
    rule: str
    none: str = ""

    def bound(self, digits: int = 4) -> str:
        """``below 0.1803``, ``for any lr`` when nothing diverges, or what applies instead."""
        if self.limit is None:
            return self.none
        return "for any lr" if math.isinf(self.limit) else f"below {self.limit:.{digits}g}"

    @property
    def hint(self) -> str:
        """A few words under the learning-rate field: ``stable below 0.1803``."""
        return self.none if self.limit is None else f"stable {self.bound()}"

    def text(self, digits: int = 3) -> str:
        """The rule and the limit: ``plain GD stable below 0.18``, ``adaptive step: no fixed lr limit``."""
        if self.limit is None:
            return f"{self.rule}: {self.none}"
        return f"{self.rule} stable {self.bound(digits)}"
