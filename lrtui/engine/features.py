"""The cost over k features' parameters θ = (w1..wk, b) (b without bias left out), and its 2-D slices.

For the squared error J(θ) = scale * |Aθ - y|², A = [x_1 .. x_k, 1] the design matrix, is fixed by
the moments G = AᵀA, h = Aᵀy and yᵀy: J = scale * (θᵀGθ - 2hᵀθ + yᵀy), its Hessian 2 scale G,
its optimum the normal equations' solution (``torch.linalg.lstsq`` in float64). L1 and Huber are
evaluated on the points. A slice (``FeatureSlice``) is J over two parameters with every other
held where it is: for the squared error the same closed form in the two free parameters.
"""

from __future__ import annotations

import math
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import torch

from .curvature import Curvature
from .data import Dataset
from .surface import CostSurface, LearningRateLimit, Optimum

if TYPE_CHECKING:
    from .settings import Settings

_CHUNK = 1_000_000  # elements of one temporary array
EVALUATION_BUDGET = 4_000_000  # grid cells x points evaluated for one drawing (as losses.py)


def parameter_names(features: int, bias: bool) -> tuple[str, ...]:
    """``w1..wk`` and ``b``: the names the state pane, the slices and the CSV use."""
    return (*(f"w{j}" for j in range(1, features + 1)), *(("b",) if bias else ()))


class FeatureSurface(CostSurface):
    """J(θ) for k > 1 features. ``sums`` (the base class's) are the first feature's and unused."""

    def __init__(
        self, dataset: Dataset, bias: bool, loss_reduction: str, loss: str = "mse", delta: float = 1.0
    ) -> None:
        super().__init__(dataset.sums, bias, loss_reduction)
        self.dataset = dataset
        self.loss = loss
        self.delta = delta
        self.loss_key = (loss, delta)
        self.features = dataset.features
        x = dataset.x_train.double()
        self.design = (torch.cat([x, torch.ones(len(x), 1, dtype=torch.float64)], 1) if bias else x).numpy()
        self.y = dataset.y_train.double().numpy().ravel()
        self.gram = self.design.T @ self.design
        self.moment = self.design.T @ self.y
        self.yy = float(self.y @ self.y)
        self.names = parameter_names(self.features, bias)

    # ------------------------------------------------------------------ θ as one vector
    def theta(self, weights: tuple[float, ...], b: float | None) -> np.ndarray:
        return np.array([*weights, *(((b or 0.0),) if self.bias else ())], dtype=np.float64)

    def cost_at(self, theta: np.ndarray) -> float:
        return float(self.costs_at(theta[np.newaxis, :])[0])

    def costs_at(self, thetas: np.ndarray) -> np.ndarray:
        """J at each row of ``thetas`` (shape (m, p))."""
        with np.errstate(over="ignore", invalid="ignore"):
            if self.loss == "mse":
                quadratic = np.einsum("mi,ij,mj->m", thetas, self.gram, thetas)
                total = quadratic - 2.0 * thetas @ self.moment + self.yy
                return np.maximum(total, 0.0) * self.scale
            out = np.empty(len(thetas))
            step = max(1, _CHUNK // max(1, len(self.y)))
            for start in range(0, len(thetas), step):
                residuals = thetas[start : start + step] @ self.design.T - self.y
                out[start : start + step] = self._rho(residuals).sum(axis=-1)
            return out * self.scale

    def _rho(self, r: np.ndarray) -> np.ndarray:
        a = np.abs(r)
        if self.loss == "l1":
            return a
        d = self.delta
        return np.where(a <= d, 0.5 * r * r, d * (a - 0.5 * d))

    def gradient_at(self, theta: np.ndarray) -> np.ndarray:
        """dJ/dθ; L1's at a kink is torch's sign(0) = 0."""
        if self.loss == "mse":
            return 2.0 * self.scale * (self.gram @ theta - self.moment)
        r = self.design @ theta - self.y
        slope = np.sign(r) if self.loss == "l1" else np.clip(r, -self.delta, self.delta)
        return self.scale * (self.design.T @ slope)

    # ------------------------------------------------------------- the base class's (W, b)
    def cost(self, w: float, b: float | None = 0.0) -> float:
        raise TypeError("a cost over k features takes θ: use cost_at")

    def costs(self, w: np.ndarray | np.float64, b: np.ndarray | float = 0.0) -> np.ndarray:
        raise TypeError("a cost over k features takes θ: use costs_at or a slice")

    # ---------------------------------------------------------------------- the shape
    @cached_property
    def optimum_theta(self) -> np.ndarray | None:
        """The minimiser, or None when it is not unique (a column of A a combination of others)."""
        design = torch.from_numpy(self.design)
        if int(torch.linalg.matrix_rank(design)) < design.shape[1]:
            return None
        # gelsd: the least-squares solution by SVD, as the normal equations would give it
        theta = torch.linalg.lstsq(design, torch.from_numpy(self.y)[:, None], driver="gelsd").solution
        start = theta.numpy().ravel()
        return start if self.loss == "mse" else _irls(self.design, self.y, self.loss, self.delta, start)

    @property
    def optimum(self) -> Optimum:
        theta = self.optimum_theta
        if theta is None:
            return Optimum(
                None,
                None,
                None,
                "the features are not independent (one is a combination of others),"
                " so the optimum is not unique",
            )
        weights = tuple(float(v) for v in theta[: self.features])
        b = float(theta[-1]) if self.bias else None
        return Optimum(weights[0], b, self.cost_at(theta), ws=weights)

    @cached_property
    def curvature(self) -> Curvature:
        """The Hessian 2 scale G and its eigen-decomposition (ascending); Huber's with every point
        in its squared centre r²/2: scale G, half the squared error's."""
        factor = 2.0 * self.scale if self.loss == "mse" else self.scale
        hessian = factor * self.gram
        values, vectors = np.linalg.eigh(hessian)
        values = np.maximum(values, 0.0)
        return Curvature(hessian, tuple(float(v) for v in values), vectors)

    @property
    def largest_curvature(self) -> float:
        if self.loss == "l1":
            return 0.0
        return self.curvature.lambda_max

    def decayed_curvatures(self, decay: float, decay_b: float | None = None) -> tuple[float, float]:
        """The smallest and largest eigenvalues of H + decay I over (w1..wk, b) (``decay_b`` for
        b, the same decay unless b is left out of it): the curvature ``limit_for`` bounds lr by."""
        if self.loss == "l1":
            return 0.0, 0.0
        hessian = self.curvature.hessian
        diagonal = [decay] * self.features
        if self.bias:
            diagonal.append(decay if decay_b is None else decay_b)
        values = np.linalg.eigvalsh(hessian + np.diag(diagonal))
        return float(values[0]), float(values[-1])

    def limit_for(self, settings: Settings) -> LearningRateLimit:
        """As for one feature (``CostSurface.limit_for``) with this Hessian's λmax; L1 and Huber
        as ``losses.RobustSurface`` says them."""
        if self.loss == "l1" and settings.optimizer == "sgd" and settings.zero_grad:
            return LearningRateLimit(None, "L1 loss", "no lr diverges; none settles exactly")
        limit = super().limit_for(settings)
        if self.loss == "huber" and limit.limit is not None:
            return LearningRateLimit(limit.limit, f"{limit.rule} (Huber, all points within δ)")
        return limit

    def slice(self, pair: tuple[int, int], theta: np.ndarray) -> FeatureSlice:
        return FeatureSlice(self, pair, theta)


class FeatureSlice(CostSurface):
    """J over the parameters ``pair`` = (i, j) of θ, every other held at ``theta``'s value, as a
    two-parameter CostSurface: ``costs(u, v)`` is J with θ_i = u and θ_j = v. With a one-element
    pair (j = -1) it is the curve J(θ_i)."""

    def __init__(self, surface: FeatureSurface, pair: tuple[int, int], theta: np.ndarray) -> None:
        super().__init__(surface.sums, pair[1] >= 0, surface.loss_reduction)
        self.surface = surface
        self.pair = pair
        self.theta = np.array(theta, dtype=np.float64)
        self.loss = surface.loss
        self.loss_key = (surface.loss, surface.delta, pair, tuple(self.theta))
        self.names = (surface.names[pair[0]], surface.names[pair[1]] if pair[1] >= 0 else "")
        i, j = pair
        free = [i] if j < 0 else [i, j]
        pinned = [p for p in range(len(self.theta)) if p not in free]
        # y's part the pinned parameters explain: the slice is a least-squares problem in the free
        # two with target y - A_pinned θ_pinned, fixed by the moments of those columns.
        gram, moment = surface.gram, surface.moment
        rest = gram[np.ix_(free, pinned)] @ self.theta[pinned]
        self.g = gram[np.ix_(free, free)]
        self.h = moment[free] - rest
        self.c = (
            surface.yy
            - 2.0 * float(moment[pinned] @ self.theta[pinned])
            + float(self.theta[pinned] @ gram[np.ix_(pinned, pinned)] @ self.theta[pinned])
        )

    @cached_property
    def curvature(self) -> Curvature:
        """The slice's own Hessian (2x2, or 1x1 over one parameter): its valley's axes."""
        factor = 2.0 * self.scale if self.loss == "mse" else self.scale
        hessian = factor * self.g
        values, vectors = np.linalg.eigh(hessian)
        if vectors[0, -1] < 0:
            vectors = -vectors
        return Curvature(hessian, tuple(float(v) for v in np.maximum(values, 0.0)), vectors)

    def limit_for(self, settings: Settings) -> LearningRateLimit:
        """The whole cost's limit: the run steps all of θ, not the slice."""
        return self.surface.limit_for(settings)

    def stride_for(self, cells: int) -> int:
        if self.loss == "mse":
            return 1
        return max(1, math.ceil(cells * len(self.surface.y) / EVALUATION_BUDGET))

    def costs(self, w: np.ndarray | np.float64, b: np.ndarray | float = 0.0) -> np.ndarray:
        u = np.asarray(w, dtype=np.float64)
        v = np.asarray(b if self.bias else 0.0, dtype=np.float64)
        if self.loss != "mse":
            shape = np.broadcast_shapes(u.shape, v.shape)
            return self._robust_costs(u, v, shape)
        g, h = self.g, self.h
        with np.errstate(over="ignore", invalid="ignore"):
            if not self.bias:
                total = g[0, 0] * u * u - 2.0 * h[0] * u + self.c
            else:
                total = (
                    g[0, 0] * u * u
                    + 2.0 * g[0, 1] * u * v
                    + g[1, 1] * v * v
                    - 2.0 * (h[0] * u + h[1] * v)
                    + self.c
                )
            return np.maximum(total, 0.0) * self.scale

    def _robust_costs(self, u: np.ndarray, v: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        """L1/Huber on the points (every ``stride_for``-th above EVALUATION_BUDGET, scaled up to
        stand for all): the pinned parameters' part of each residual computed once."""
        surface = self.surface
        i, j = self.pair
        cells = max(1, int(np.prod(shape)))
        stride = self.stride_for(cells)
        design, y = surface.design[::stride], surface.y[::stride]
        fixed = design @ self.theta - design[:, i] * self.theta[i] - y
        if self.bias:
            fixed = fixed - design[:, j] * self.theta[j]
        total = np.zeros(shape)
        step = max(1, _CHUNK // cells)
        with np.errstate(over="ignore", invalid="ignore"):
            for start in range(0, len(y), step):
                part = slice(start, start + step)
                r = u[..., None] * design[part, i] + fixed[part]
                if self.bias:
                    r = r + v[..., None] * design[part, j]
                total = total + surface._rho(r).sum(axis=-1)
        return total * (self.scale * len(surface.y) / len(y))

    def theta_at(self, w: float, b: float | None = 0.0) -> np.ndarray:
        """θ with the pair's two parameters at (w, b), the others pinned."""
        theta = self.theta.copy()
        theta[self.pair[0]] = w
        if self.bias:
            theta[self.pair[1]] = b or 0.0
        return theta

    def gradient(self, w: float, b: float | None = 0.0) -> tuple[float, float | None]:
        grad = self.surface.gradient_at(self.theta_at(w, b))
        return float(grad[self.pair[0]]), (float(grad[self.pair[1]]) if self.bias else None)

    @property
    def optimum(self) -> Optimum:
        """The slice's own minimum (the other parameters where they are)."""
        if self.loss != "mse":
            return Optimum(None, None, None, "the slice's minimum is not worked out for this loss")
        g, h = self.g, self.h
        if not self.bias:
            if g[0, 0] <= 0:
                return Optimum(None, None, None, "this parameter does not change the cost")
            u = h[0] / g[0, 0]
            return Optimum(u, None, self.cost(u, None))
        det = g[0, 0] * g[1, 1] - g[0, 1] * g[0, 1]
        if not det > 1e-12 * max(1.0, abs(g[0, 0] * g[1, 1])):
            return Optimum(None, None, None, "the two parameters move the cost alike: no single minimum")
        u = (g[1, 1] * h[0] - g[0, 1] * h[1]) / det
        v = (g[0, 0] * h[1] - g[0, 1] * h[0]) / det
        return Optimum(u, v, self.cost(u, v))

    @property
    def largest_curvature(self) -> float:
        return self.surface.largest_curvature


def _irls(design: np.ndarray, y: np.ndarray, loss: str, delta: float, start: np.ndarray) -> np.ndarray:
    """Huber's (and L1's, as the limit of weights 1/|r|) minimiser by iteratively reweighted least
    squares from the least-squares one."""
    theta = start
    for _ in range(500):
        residuals = np.abs(design @ theta - y)
        if loss == "l1":
            weights = 1.0 / np.maximum(residuals, 1e-9)
        else:
            weights = np.minimum(1.0, delta / np.maximum(residuals, 1e-300))
        weighted = design * weights[:, None]
        new = np.linalg.lstsq(weighted.T @ design, weighted.T @ y, rcond=None)[0]
        done = np.allclose(new, theta, rtol=1e-13, atol=1e-15)
        theta = new
        if done:
            break
    return theta


def stable_text(surface: FeatureSurface) -> str:
    """Why the lr must be what it is on this data: ``stable below 1.23e-05 (κ = 4.5e+04)``."""
    curvature = surface.curvature
    kappa = curvature.condition_number
    kappa_text = "∞" if math.isinf(kappa) else f"{kappa:.3g}"
    return f"plain GD stable below {curvature.stable_lr:.3g} (2/λmax; κ = {kappa_text})"
