"""The curvature of the squared-error cost and what it predicts for gradient descent.

J(W, b) = scale * sum((W*x + b - y)^2) is a quadratic, so its Hessian is constant and fixed by
the data's moments: H = 2 * scale * [[sum x^2, sum x], [sum x, n]] (with b), or the 1x1
2 * scale * sum x^2 for W alone. Its eigenvalues λmin <= λmax and eigenvectors are the valley's
shallow and steep directions. In the eigenbasis every direction is its own linear recurrence
in the error e = (W, b) - (W*, b*), so a run's cost can be predicted epoch by epoch from the
start point alone: J - J* = 1/2 * sum_i λ_i e_i^2.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .surface import CostSurface

if TYPE_CHECKING:
    from .run import Run
    from .settings import Settings

# "Reached the minimum": the cost within this of the least-squares minimum.
COST_TOLERANCE = 1e-6
# Predictions look this many epochs ahead at most; further is "not within MAX_PREDICTED".
MAX_PREDICTED = 10**7
_BLOCK = 1024


@dataclass(frozen=True)
class Curvature:
    """The Hessian of the cost as trained and its eigen-decomposition (ascending)."""

    hessian: np.ndarray  # 1x1 (W alone) or 2x2 (W, b)
    eigenvalues: tuple[float, ...]  # λmin first
    eigenvectors: np.ndarray  # column i belongs to eigenvalues[i]

    @property
    def lambda_min(self) -> float:
        return self.eigenvalues[0]

    @property
    def lambda_max(self) -> float:
        return self.eigenvalues[-1]

    @property
    def condition_number(self) -> float:
        """κ = λmax / λmin (inf when the valley is flat along one direction)."""
        return self.lambda_max / self.lambda_min if self.lambda_min > 0 else math.inf

    @property
    def stable_lr(self) -> float:
        """Plain gradient descent converges only for lr below 2 / λmax."""
        return 2.0 / self.lambda_max if self.lambda_max > 0 else math.inf

    @property
    def best_lr(self) -> float | None:
        """The fastest fixed lr for plain GD, 2 / (λmin + λmax): both extreme directions then
        shrink by the same factor each epoch."""
        total = self.lambda_min + self.lambda_max
        return 2.0 / total if total > 0 else None

    @property
    def contraction(self) -> float:
        """What the error is multiplied by each epoch at best_lr: (κ - 1) / (κ + 1)."""
        kappa = self.condition_number
        return 1.0 if math.isinf(kappa) else (kappa - 1.0) / (kappa + 1.0)

    @property
    def momentum_beta(self) -> float | None:
        """Heavy ball's best β = ((√κ - 1) / (√κ + 1))^2; None when κ is infinite."""
        kappa = self.condition_number
        if math.isinf(kappa):
            return None
        root = math.sqrt(kappa)
        return ((root - 1.0) / (root + 1.0)) ** 2

    @property
    def momentum_lr(self) -> float | None:
        """Heavy ball's best lr = 4 / (√λmax + √λmin)^2 (with momentum_beta)."""
        if self.momentum_beta is None:
            return None
        return 4.0 / (math.sqrt(self.lambda_max) + math.sqrt(self.lambda_min)) ** 2

    @property
    def steep_direction(self) -> tuple[float, ...]:
        """The unit vector in (W, b) along which the cost rises fastest (λmax)."""
        return tuple(float(v) for v in self.eigenvectors[:, -1])

    @property
    def shallow_direction(self) -> tuple[float, ...]:
        """The unit vector along the valley's floor (λmin)."""
        return tuple(float(v) for v in self.eigenvectors[:, 0])


def curvature_of(surface: CostSurface) -> Curvature:
    """The Hessian of ``surface`` in closed form from the data's moments.

    λmax = (a + d)/2 + hypot((a - d)/2, c) for [[a, c], [c, d]], and λmin = det / λmax with the
    determinant from the spread about the mean (4 scale^2 n sxx), so a long thin valley keeps
    its small eigenvalue instead of losing it to cancellation in (a + d)/2 - hypot(...).
    """
    curvature = getattr(surface, "curvature", None)  # features.FeatureSurface's, of any size
    if isinstance(curvature, Curvature):
        return curvature
    s = surface.sums
    factor = 2.0 * surface.scale
    a = factor * s.xx
    if not surface.bias:
        return Curvature(np.array([[a]]), (a,), np.array([[1.0]]))
    c = factor * s.x
    d = factor * s.n
    hessian = np.array([[a, c], [c, d]])
    largest = (a + d) / 2.0 + math.hypot((a - d) / 2.0, c)
    determinant = factor * factor * s.n * s.sxx
    smallest = determinant / largest if largest > 0 else 0.0
    # (c, λ - a) and (λ - d, c) both solve (H - λ) v = 0; the longer one is the better rounded.
    candidates = (np.array([c, largest - a]), np.array([largest - d, c]))
    steep = max(candidates, key=lambda v: float(np.hypot(*v)))
    norm = float(np.hypot(*steep))
    steep = steep / norm if norm > 0 else np.array([1.0, 0.0])
    if steep[0] < 0:
        steep = -steep
    shallow = np.array([-steep[1], steep[0]])
    if shallow[0] < 0 or (shallow[0] == 0 and shallow[1] < 0):
        shallow = -shallow
    return Curvature(hessian, (smallest, largest), np.column_stack([shallow, steep]))


def curvature_if_constant(surface: CostSurface) -> Curvature | None:
    """The curvature of a squared-error cost; None for L1 (kinks, no curvature) and Huber
    (its curvature changes with how many points lie within δ)."""
    return curvature_of(surface) if surface.loss == "mse" else None


Start = tuple[float | tuple[float, ...], float | None]  # W (k values with k features) and b


def start_point(settings: Settings, features: int = 1) -> Start:
    """W and b at epoch 0 for these settings, as the trainer creates them (nn.Linear's seeded
    init or the raw zeros, then the initial values given)."""
    from .trainer import Trainer

    trainer = Trainer(settings, features)
    W = trainer.W
    w = W.item() if features == 1 else tuple(W.detach().flatten().tolist())
    return w, trainer.b.item() if trainer.b is not None else None


def run_start(run: Run) -> Start:
    """Where a run started: its epoch 0's W and b, or where it is now before any epoch."""
    history = run.history
    first = history.record(0) if len(history) else None
    if run.dataset.features > 1:
        return (first.weights(), first.b) if first is not None else (run.weights, run.b)
    return (first.w, first.b) if first is not None else (run.w, run.b)


def error_components(
    surface: CostSurface, w: float | tuple[float, ...], b: float | None
) -> np.ndarray | None:
    """The start point's error (W - W*, b - b*) in the eigenbasis, λmin's component first;
    None without a unique optimum."""
    optimum = surface.optimum
    if not optimum.unique:
        return None
    assert optimum.w is not None
    if isinstance(w, tuple):
        assert optimum.ws is not None
        error = [a - z for a, z in zip(w, optimum.ws, strict=True)]
        if surface.bias:
            assert optimum.b is not None
            error.append((b or 0.0) - optimum.b)
        return curvature_of(surface).eigenvectors.T @ np.array(error)
    error = [w - optimum.w]
    if surface.bias:
        assert optimum.b is not None
        error.append((b or 0.0) - optimum.b)
    return curvature_of(surface).eigenvectors.T @ np.array(error)


def predicted_epochs(
    surface: CostSurface,
    learning_rate: float,
    start: Start,
    momentum: float = 0.0,
    nesterov: bool = False,
    tolerance: float = COST_TOLERANCE,
) -> int | None:
    """The first epoch whose cost is within ``tolerance`` of the minimum, for torch's SGD
    from ``start`` (epoch 0's W and b); None if it never gets there (diverges, or not within
    MAX_PREDICTED epochs) or there is no unique optimum.

    Per eigen-direction with curvature λ, torch's SGD is, with v the momentum buffer (v = 0
    before the first step) and g = λ e the gradient:
      heavy ball:  v' = β v + g,  e' = e - lr v'
      Nesterov:    v' = β v + g,  e' = e - lr (g + β v')
    a linear map of (e, v); β = 0 is plain gradient descent, e' = (1 - lr λ) e.
    """
    components = error_components(surface, *start)
    if components is None:
        return None
    lambdas = np.array(curvature_of(surface).eigenvalues)
    if 0.5 * float(np.sum(lambdas * components**2)) <= tolerance:
        return 0
    if momentum == 0:
        return _plain_epochs(lambdas, components, learning_rate, tolerance)
    return _momentum_epochs(lambdas, components, learning_rate, momentum, nesterov, tolerance)


def _plain_epochs(lambdas: np.ndarray, components: np.ndarray, lr: float, tolerance: float) -> int | None:
    """J_k - J* = 1/2 sum λ c^2 (1 - lr λ)^(2k) only falls with k, so the first k below the
    tolerance is found by bisection on the closed form."""
    ratios = np.abs(1.0 - lr * lambdas)
    moving = (lambdas > 0) & (components != 0)
    if np.any(ratios[moving] >= 1.0):
        return None

    def excess(k: int) -> float:
        with np.errstate(under="ignore"):
            return 0.5 * float(np.sum(lambdas * components**2 * ratios ** (2.0 * k)))

    if excess(MAX_PREDICTED) > tolerance:
        return None
    low, high = 0, MAX_PREDICTED  # excess(low) > tolerance >= excess(high)
    while high - low > 1:
        middle = (low + high) // 2
        if excess(middle) > tolerance:
            low = middle
        else:
            high = middle
    return high


def _momentum_epochs(
    lambdas: np.ndarray, components: np.ndarray, lr: float, beta: float, nesterov: bool, tolerance: float
) -> int | None:
    """The cost with momentum may rise and fall again, so the recurrence is run forward, a
    block of epochs at a time with the block's powers of each direction's 2x2 map."""
    d = len(lambdas)
    maps = np.zeros((d, 2, 2))
    if nesterov:
        maps[:, 0, 0] = 1.0 - lr * lambdas * (1.0 + beta)
        maps[:, 0, 1] = -lr * beta * beta
    else:
        maps[:, 0, 0] = 1.0 - lr * lambdas
        maps[:, 0, 1] = -lr * beta
    maps[:, 1, 0] = lambdas
    maps[:, 1, 1] = beta
    # The error shrinks like ρ^k, ρ the largest root of any direction that moves: none at or
    # past 1 (it never settles), and a run that would need more than MAX_PREDICTED epochs is
    # not simulated at all, so a frame never waits on a hopeless prediction.
    moving = (lambdas > 0) & (components != 0)
    rho = max((float(np.max(np.abs(np.linalg.eigvals(m)))) for m in maps[moving]), default=0.0)
    if rho >= 1.0:
        return None
    excess0 = 0.5 * float(np.sum(lambdas * components**2))
    estimate = math.log(tolerance / excess0) / (2.0 * math.log(rho)) if rho > 0 else 1.0
    if estimate > MAX_PREDICTED:
        return None
    horizon = min(MAX_PREDICTED, int(4 * estimate) + 8 * _BLOCK)
    powers = np.empty((_BLOCK, d, 2, 2))
    powers[0] = maps
    for j in range(1, _BLOCK):
        powers[j] = maps @ powers[j - 1]
    state = np.column_stack([components, np.zeros(d)])
    start = 0
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        while start < horizon:
            states = np.einsum("jdab,db->jda", powers, state)  # epochs start+1 .. start+_BLOCK
            excess = 0.5 * np.sum(lambdas * states[..., 0] ** 2, axis=-1)
            within = np.flatnonzero(excess <= tolerance)
            if within.size:
                return start + int(within[0]) + 1
            if not np.all(np.isfinite(excess)):
                return None
            state = states[-1]
            start += _BLOCK
    return None


def predicted_for(surface: CostSurface, settings: Settings, start: Start) -> int | None:
    """``predicted_epochs`` for a run's own settings; None where the formulas do not apply:
    an optimizer other than SGD (adaptive steps), zero_grad off (.grad sums every gradient) or
    a loss whose curvature is not constant (L1, Huber), mini-batches (each step descends its
    batch's own bowl), a schedule (the lr changes), weight decay (the run settles at the ridge
    optimum, not at the minimum cost) or dampening."""
    if settings.optimizer != "sgd" or not settings.zero_grad or surface.loss != "mse":
        return None
    if settings.mini_batches or settings.scheduler != "none":
        return None
    if settings.weight_decay or settings.dampening:  # it settles elsewhere / another recurrence
        return None
    return predicted_epochs(surface, settings.learning_rate, start, settings.momentum, settings.nesterov)


def actual_epoch(
    costs: np.ndarray, epochs: np.ndarray, min_cost: float, tolerance: float = COST_TOLERANCE
) -> int | None:
    """The first epoch of a run's history whose cost is within ``tolerance`` of the minimum."""
    within = np.flatnonzero(costs - min_cost <= tolerance)
    return int(epochs[within[0]]) if within.size else None


def heavy_ball_changes(surface: CostSurface) -> str | None:
    """A race contender's changes for heavy ball at the predicted best pair (``momentum=β lr=…``,
    SGD with zero_grad on); None for a cost without constant curvature or a flat valley."""
    curvature = curvature_if_constant(surface)
    if curvature is None or curvature.momentum_beta is None or curvature.momentum_lr is None:
        return None
    # to 4 digits, so the contender's name reads well; its own prediction uses what it runs
    beta, lr = curvature.momentum_beta, curvature.momentum_lr
    return f"optimizer=sgd momentum={beta:.4g} lr={lr:.4g} nesterov=off zero-grad=on"
