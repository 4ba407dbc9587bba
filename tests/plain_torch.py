"""The lessons' training loops in plain torch: the reference lrtui's numbers must equal.

Nothing here imports lrtui. Each loop is the lesson's loop body; the only additions are
reading values out with ``.item()`` and, for the mid-run tests, a ``changes`` table that
does at the start of an epoch what a learner editing the script would do.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn, optim
from torch.utils.data import DataLoader, TensorDataset

FIELDS = ("epoch", "w", "b", "cost", "grad_w", "grad_b", "w_next", "b_next")


def line_data() -> tuple[torch.Tensor, torch.Tensor]:
    x_train = torch.FloatTensor([[1], [2], [3]])
    y_train = torch.FloatTensor([[1], [2], [3]])
    return x_train, y_train


def double_data() -> tuple[torch.Tensor, torch.Tensor]:
    x_train = torch.FloatTensor([[1], [2], [3]])
    y_train = torch.FloatTensor([[2], [4], [6]])
    return x_train, y_train


def noisy_points() -> tuple[torch.Tensor, torch.Tensor]:
    """The lesson's 100 noisy points (this reseeds torch's global generator, as the lesson does)."""
    torch.manual_seed(43052)
    x, _ = torch.randn(100).sort()
    eps = torch.randn(100) * 0.5
    y = 2.5 + 4 * x + eps
    return x, y


def noisy_data() -> tuple[torch.Tensor, torch.Tensor]:
    x, y = noisy_points()
    return x.unsqueeze(1), y.unsqueeze(1)


DATA = {"line": line_data, "double": double_data, "noisy": noisy_data}


def make_optimizer(name: str, params: list[torch.Tensor], lr: float, **options: Any) -> optim.Optimizer:
    """``optim.SGD(params, lr=0.01)``, ``optim.Adam(params, lr=0.1)``, ... by class name."""
    return getattr(optim, name)(params, lr=lr, **options)


def _item(tensor: torch.Tensor | None) -> float | None:
    return None if tensor is None else tensor.item()


def raw_loop(
    x_train: torch.Tensor,
    y_train: torch.Tensor,
    nb_epochs: int,
    *,
    lr: float = 0.01,
    bias: bool = True,
    optimizer: str = "SGD",
    options: dict[str, Any] | None = None,
    init_w: float | None = None,
    init_b: float | None = None,
    reduction: str = "mean",
    zero_grad: bool = True,
    changes: dict[int, dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """``hypothesis = x_train * W + b``; one record per epoch 0..nb_epochs."""
    W = torch.zeros(1, requires_grad=True) if init_w is None else torch.tensor([init_w], requires_grad=True)
    b = None
    if bias:
        b = (
            torch.zeros(1, requires_grad=True)
            if init_b is None
            else torch.tensor([init_b], requires_grad=True)
        )
    params = [W] if b is None else [W, b]
    opt = make_optimizer(optimizer, params, lr, **(options or {}))
    records = []
    for epoch in range(nb_epochs + 1):
        opt, zero_grad = _change(opt, params, zero_grad, (changes or {}).get(epoch))
        w_before, b_before = W.item(), _item(b)
        hypothesis = x_train * W + b if b is not None else x_train * W
        if reduction == "sum":
            cost = torch.sum((hypothesis - y_train) ** 2)
        else:
            cost = torch.mean((hypothesis - y_train) ** 2)
        if zero_grad:
            opt.zero_grad()
        cost.backward()
        grad_w, grad_b = W.grad.item(), _item(b.grad if b is not None else None)
        opt.step()
        records.append(
            dict(
                zip(
                    FIELDS,
                    (epoch, w_before, b_before, cost.item(), grad_w, grad_b, W.item(), _item(b)),
                    strict=True,
                )
            )
        )
    return records


def linear_loop(
    x_train: torch.Tensor,
    y_train: torch.Tensor,
    nb_epochs: int,
    *,
    seed: int = 1,
    lr: float = 0.01,
    bias: bool = True,
    optimizer: str = "SGD",
    options: dict[str, Any] | None = None,
    init_w: float | None = None,
    init_b: float | None = None,
    reduction: str = "mean",
    zero_grad: bool = True,
    changes: dict[int, dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """``model = nn.Linear(1, 1)`` after ``torch.manual_seed(seed)``, cost by ``F.mse_loss``."""
    torch.manual_seed(seed)
    model = nn.Linear(1, 1, bias=bias)
    with torch.no_grad():
        if init_w is not None:
            model.weight.fill_(init_w)
        if bias and init_b is not None:
            model.bias.fill_(init_b)
    params = list(model.parameters())
    opt = make_optimizer(optimizer, params, lr, **(options or {}))
    records = []
    for epoch in range(nb_epochs + 1):
        opt, zero_grad = _change(opt, params, zero_grad, (changes or {}).get(epoch))
        w_before, b_before = model.weight.item(), _item(model.bias)
        prediction = model(x_train)
        cost = F.mse_loss(prediction, y_train, reduction=reduction)
        if zero_grad:
            opt.zero_grad()
        cost.backward()
        grad_w = model.weight.grad.item()
        grad_b = _item(model.bias.grad if model.bias is not None else None)
        opt.step()
        records.append(
            dict(
                zip(
                    FIELDS,
                    (
                        epoch,
                        w_before,
                        b_before,
                        cost.item(),
                        grad_w,
                        grad_b,
                        model.weight.item(),
                        _item(model.bias),
                    ),
                    strict=True,
                )
            )
        )
    return records


def _change(
    opt: optim.Optimizer, params: list[torch.Tensor], zero_grad: bool, change: dict[str, Any] | None
) -> tuple[optim.Optimizer, bool]:
    """What a learner does between epochs: a new optimizer, a new lr, the zero_grad line (un)commented."""
    if not change:
        return opt, zero_grad
    if "optimizer" in change:
        name, lr, options = change["optimizer"]
        opt = make_optimizer(name, params, lr, **options)
    for key in ("lr", "momentum", "nesterov"):
        if key in change:
            for group in opt.param_groups:
                group[key] = change[key]
    return opt, change.get("zero_grad", zero_grad)


def raw_gradient(
    x_train: torch.Tensor, y_train: torch.Tensor, w: float, b: float | None, reduction: str = "mean"
) -> tuple[float, float | None]:
    """The gradient of the raw cost at (w, b) alone, from a fresh graph."""
    W = torch.tensor([w], requires_grad=True)
    params = [W]
    hypothesis = x_train * W
    if b is not None:
        bias = torch.tensor([b], requires_grad=True)
        params.append(bias)
        hypothesis = hypothesis + bias
    cost = (
        torch.sum((hypothesis - y_train) ** 2)
        if reduction == "sum"
        else torch.mean((hypothesis - y_train) ** 2)
    )
    grads = torch.autograd.grad(cost, params)
    return grads[0].item(), grads[1].item() if b is not None else None


def linear_gradient(
    x_train: torch.Tensor, y_train: torch.Tensor, w: float, b: float | None, reduction: str = "mean"
) -> tuple[float, float | None]:
    """The gradient of nn.Linear's cost at (w, b) alone, from a fresh graph."""
    weight = torch.tensor([[w]], requires_grad=True)
    bias = torch.tensor([b], requires_grad=True) if b is not None else None
    params = [weight] if bias is None else [weight, bias]
    cost = F.mse_loss(F.linear(x_train, weight, bias), y_train, reduction=reduction)
    grads = torch.autograd.grad(cost, params)
    return grads[0].item(), grads[1].item() if bias is not None else None


def grads_without_zeroing(steps: int) -> list[float]:
    """The lesson's 'why zero_grad': z = 2 * w, backward again and again, w.grad reads 2, 4, 6, ..."""
    w = torch.tensor(2.0, requires_grad=True)
    seen = []
    for _ in range(steps):
        z = 2 * w
        z.backward()
        seen.append(w.grad.item())
    return seen


def log_lines(records: list[dict[str, Any]], nb_epochs: int, every: int = 100) -> list[str]:
    """What the lesson prints every ``every`` epochs (W and b after the step)."""
    lines = []
    for record in records:
        if record["epoch"] % every:
            continue
        if record["b_next"] is None:
            lines.append(
                "Epoch {:4d}/{} W: {:.3f}, Cost: {:.6f}".format(
                    record["epoch"], nb_epochs, record["w_next"], record["cost"]
                )
            )
        else:
            lines.append(
                "Epoch {:4d}/{} W: {:.3f}, b: {:.3f} Cost: {:.6f}".format(
                    record["epoch"], nb_epochs, record["w_next"], record["b_next"], record["cost"]
                )
            )
    return lines


SCHEDULERS = {"step": "StepLR", "exponential": "ExponentialLR", "cosine": "CosineAnnealingLR"}


def scheduler_for(opt: optim.Optimizer, scheduler: str | None, schedule: dict[str, Any] | None) -> Any:
    """``optim.lr_scheduler.StepLR(optimizer, ...)`` and the like, or None without a schedule."""
    return getattr(optim.lr_scheduler, SCHEDULERS[scheduler])(opt, **(schedule or {})) if scheduler else None


def batches_of(
    x_train: torch.Tensor, y_train: torch.Tensor, batch_size: int | None, shuffle: bool, seed: int
) -> Any:
    """The lessons' ``DataLoader`` (its generator seeded), or the full batch as one."""
    if batch_size is None:
        return [(x_train, y_train)]
    return DataLoader(
        TensorDataset(x_train, y_train),
        batch_size=batch_size,
        shuffle=shuffle,
        generator=torch.Generator().manual_seed(seed),
    )


def batch_loop(
    x_train: torch.Tensor,
    y_train: torch.Tensor,
    nb_epochs: int,
    *,
    batch_size: int | None,
    shuffle: bool = False,
    seed: int = 1,
    model: str = "raw",
    lr: float = 0.01,
    optimizer: str = "SGD",
    options: dict[str, Any] | None = None,
    zero_grad: bool = True,
    scheduler: str | None = None,
    schedule: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """The mini-batch lesson loop (issue 13): TensorDataset + DataLoader with its own seeded
    generator, one record per optimizer step, ``scheduler.step()`` after each epoch's batches.
    ``batch_size=None`` is the full-batch loop with a schedule. Records add ``batch`` and
    ``learning_rate`` (the lr the step used) to FIELDS."""
    linear = None
    if model == "linear":
        torch.manual_seed(seed)
        linear = nn.Linear(1, 1)
        W, b = linear.weight, linear.bias
    else:
        W = torch.zeros(1, requires_grad=True)
        b = torch.zeros(1, requires_grad=True)
    params = [W, b]
    opt = make_optimizer(optimizer, params, lr, **(options or {}))
    sched = scheduler_for(opt, scheduler, schedule)
    dataloader = batches_of(x_train, y_train, batch_size, shuffle, seed)
    records = []
    for epoch in range(nb_epochs + 1):
        for batch_idx, (x_batch, y_batch) in enumerate(dataloader):
            w_before, b_before = W.item(), b.item()
            used_lr = opt.param_groups[0]["lr"]
            if linear is not None:
                cost = F.mse_loss(linear(x_batch), y_batch)
            else:
                hypothesis = x_batch * W + b
                cost = torch.mean((hypothesis - y_batch) ** 2)
            if zero_grad:
                opt.zero_grad()
            cost.backward()
            grad_w, grad_b = W.grad.item(), b.grad.item()
            opt.step()
            values = (epoch, w_before, b_before, cost.item(), grad_w, grad_b, W.item(), b.item())
            record = dict(zip(FIELDS, values, strict=True))
            record["batch"] = None if batch_size is None else batch_idx + 1
            record["learning_rate"] = used_lr
            records.append(record)
        if sched is not None:
            sched.step()
    return records


def scores_data() -> tuple[torch.Tensor, torch.Tensor]:
    """Lab 4-1's table: three quiz scores and the final exam's."""
    x_train = torch.FloatTensor([[73, 80, 75], [93, 88, 93], [89, 91, 90], [96, 98, 100], [73, 66, 70]])
    y_train = torch.FloatTensor([[152], [185], [180], [196], [142]])
    return x_train, y_train


def features_loop(
    x_train: torch.Tensor,
    y_train: torch.Tensor,
    nb_epochs: int,
    *,
    model: str = "raw",
    seed: int = 1,
    lr: float = 1e-5,
    bias: bool = True,
    optimizer: str = "SGD",
    options: dict[str, Any] | None = None,
    init_w: float | list[float] | None = None,
    init_b: float | None = None,
    reduction: str = "mean",
    loss: str = "mse",
    delta: float = 1.0,
    zero_grad: bool = True,
    standardize: bool = False,
    batch_size: int | None = None,
    shuffle: bool = False,
    scheduler: str | None = None,
    schedule: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Lab 4-1's loop with k features: ``W = torch.zeros((k, 1))``, ``x_train.matmul(W) + b``
    (or ``nn.Linear(k, 1)`` after ``torch.manual_seed(seed)``). Records hold W, W.grad and the
    fresh gradient as lists of k floats; with mini-batches one record per batch."""
    k = x_train.shape[1]
    if standardize:
        x_train = (x_train - x_train.mean(dim=0)) / x_train.std(dim=0)
    linear = None
    if model == "linear":
        torch.manual_seed(seed)
        linear = nn.Linear(k, 1, bias=bias)
        W, b = linear.weight, linear.bias
    else:
        W = torch.zeros((k, 1), requires_grad=True)
        b = torch.zeros(1, requires_grad=True) if bias else None
    with torch.no_grad():
        if isinstance(init_w, list):
            W.copy_(torch.tensor(init_w).reshape(W.shape))
        elif init_w is not None:
            W.fill_(init_w)
        if b is not None and init_b is not None:
            b.fill_(init_b)
    params = [W] if b is None else [W, b]
    opt = make_optimizer(optimizer, params, lr, **(options or {}))
    sched = scheduler_for(opt, scheduler, schedule)
    dataloader = batches_of(x_train, y_train, batch_size, shuffle, seed)
    records = []
    for epoch in range(nb_epochs + 1):
        for batch_idx, (x_batch, y_batch) in enumerate(dataloader):
            w_before, b_before = W.flatten().tolist(), _item(b)
            used_lr = opt.param_groups[0]["lr"]
            if linear is not None:
                hypothesis = linear(x_batch)
            else:
                hypothesis = x_batch.matmul(W) + b if b is not None else x_batch.matmul(W)
            total = torch.sum if reduction == "sum" else torch.mean
            if loss == "huber":
                cost = F.huber_loss(hypothesis, y_batch, reduction=reduction, delta=delta)
            elif linear is not None:  # the nn.Module lessons' F.mse_loss / F.l1_loss
                losses = F.l1_loss if loss == "l1" else F.mse_loss
                cost = losses(hypothesis, y_batch, reduction=reduction)
            elif loss == "l1":
                cost = total(torch.abs(hypothesis - y_batch))
            else:  # the raw lessons' torch.mean((hypothesis - y_train) ** 2)
                cost = total((hypothesis - y_batch) ** 2)
            fresh = torch.autograd.grad(cost, params, retain_graph=True)
            if zero_grad:
                opt.zero_grad()
            cost.backward()
            grad_w, grad_b = W.grad.flatten().tolist(), _item(b.grad if b is not None else None)
            opt.step()
            records.append(
                {
                    "epoch": epoch,
                    "w": w_before,
                    "b": b_before,
                    "cost": cost.item(),
                    "grad_w": grad_w,
                    "grad_b": grad_b,
                    "w_next": W.flatten().tolist(),
                    "b_next": _item(b),
                    "fresh_grad_w": fresh[0].flatten().tolist(),
                    "fresh_grad_b": fresh[1].item() if b is not None else None,
                    "batch": None if batch_size is None else batch_idx + 1,
                    "learning_rate": used_lr,
                    "hypothesis": hypothesis.squeeze().detach(),
                }
            )
        if sched is not None:
            sched.step()
    return records


def lesson_loop(
    x_train: torch.Tensor,
    y_train: torch.Tensor,
    nb_epochs: int,
    *,
    optimizer: str,
    lr: float,
    options: dict[str, Any] | None = None,
    model: str = "raw",
    bias: bool = True,
    seed: int = 1,
    zero_grad: bool = True,
    batch_size: int | None = None,
    scheduler: str | None = None,
    schedule: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """The lessons' loop for any optimizer: raw W, b or nn.Linear, the full batch or a
    DataLoader, an optional scheduler. L-BFGS steps with the closure a lesson writes::

        def closure():
            optimizer.zero_grad()
            cost = torch.mean((x_train * W + b - y_train) ** 2)
            cost.backward()
            return cost
        optimizer.step(closure)

    Records add ``batch``, ``learning_rate`` and, for L-BFGS, ``probes``: every (W, b, cost)
    the closure was evaluated at (W, b read inside it, before its forward pass)."""
    linear = None
    if model == "linear":
        torch.manual_seed(seed)
        linear = nn.Linear(1, 1, bias=bias)
        W, b = linear.weight, linear.bias
    else:
        W = torch.zeros(1, requires_grad=True)
        b = torch.zeros(1, requires_grad=True) if bias else None
    params = [W] if b is None else [W, b]
    opt = make_optimizer(optimizer, params, lr, **(options or {}))
    sched = scheduler_for(opt, scheduler, schedule)
    dataloader = batches_of(x_train, y_train, batch_size, False, seed)

    def forward(x_batch: torch.Tensor, y_batch: torch.Tensor) -> torch.Tensor:
        if linear is not None:
            return F.mse_loss(linear(x_batch), y_batch)
        hypothesis = x_batch * W + b if b is not None else x_batch * W
        return torch.mean((hypothesis - y_batch) ** 2)

    records = []
    for epoch in range(nb_epochs + 1):
        for batch_idx, (x_batch, y_batch) in enumerate(dataloader):
            w_before, b_before = W.item(), _item(b)
            used_lr = opt.param_groups[0]["lr"]
            probes: list[tuple[float, float | None, float]] = []
            grads: list[tuple[float, float | None]] = []
            if isinstance(opt, optim.LBFGS):

                def closure(
                    x_batch: torch.Tensor = x_batch,
                    y_batch: torch.Tensor = y_batch,
                    probes: list[tuple[float, float | None, float]] = probes,
                    grads: list[tuple[float, float | None]] = grads,
                ) -> torch.Tensor:
                    if zero_grad:
                        opt.zero_grad()
                    at = (W.item(), _item(b))
                    cost = forward(x_batch, y_batch)
                    cost.backward()
                    probes.append((*at, cost.item()))
                    grads.append((W.grad.item(), _item(b.grad if b is not None else None)))
                    return cost

                cost = opt.step(closure)
                grad_w, grad_b = grads[0]
            else:
                cost = forward(x_batch, y_batch)
                if zero_grad:
                    opt.zero_grad()
                cost.backward()
                grad_w, grad_b = W.grad.item(), _item(b.grad if b is not None else None)
                opt.step()
            values = (epoch, w_before, b_before, cost.item(), grad_w, grad_b, W.item(), _item(b))
            record = dict(zip(FIELDS, values, strict=True))
            record["batch"] = None if batch_size is None else batch_idx + 1
            record["learning_rate"] = used_lr
            record["probes"] = probes
            records.append(record)
        if sched is not None:
            sched.step()
    return records
