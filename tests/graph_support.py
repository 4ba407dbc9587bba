"""The lessons' step in plain torch, as the graph tests build it (tests/engine/test_graph.py,
tests/app/test_graph_app.py)."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from plain_torch import DATA
from torch import nn, optim
from torch.utils.data import DataLoader, TensorDataset

from lrtui.engine.settings import Settings


class PlainStep:
    """The lesson's loop in plain torch, stopped at the forward pass of step ``steps`` (0-based),
    with that step's cost, its zero_grad done if on, and hooks on every node of its graph."""

    def __init__(self, settings: Settings, steps: int, retain_graph: bool = False) -> None:
        x_all, y_all = DATA[settings.data]()
        self.model: nn.Linear | None = None
        if settings.model == "raw":
            W = torch.zeros(1, requires_grad=True)
            b = torch.zeros(1, requires_grad=True) if settings.bias else None
            self.params = [p for p in (W, b) if p is not None]
        else:
            torch.manual_seed(settings.seed)
            self.model = nn.Linear(1, 1, bias=settings.bias)
            self.params = list(self.model.parameters())
        optimizer = optim.SGD(self.params, lr=settings.learning_rate)
        if settings.batch_size is None:
            batches = ((x_all, y_all) for _ in range(steps + 1))
        else:
            loader = DataLoader(
                TensorDataset(x_all, y_all),
                batch_size=settings.batch_size,
                shuffle=settings.shuffle,
                generator=torch.Generator().manual_seed(settings.seed),
            )
            batches = (batch for _ in range(steps + 1) for batch in loader)
        for step, (x, y) in enumerate(batches):
            cost = self.cost(x, y, settings)
            if step == steps:
                break
            if settings.zero_grad:
                optimizer.zero_grad()
            cost.backward()
            optimizer.step()
        self.held = [None if p.grad is None else p.grad.clone() for p in self.params]
        if settings.zero_grad:
            optimizer.zero_grad()
        self.before = [None if p.grad is None else p.grad.clone() for p in self.params]
        self.cost_tensor = cost
        self.names, self.edges, self.functions = walk(cost)
        self.order: list[int] = []
        self.sent: dict[int, Any] = {}
        self.arrived: dict[int, Any] = {}
        for index, fn in enumerate(self.functions):
            if fn is not None:
                fn.register_hook(self._hook(index))
        cost.backward(retain_graph=retain_graph)

    def _hook(self, index: int) -> Any:
        def hook(grad_inputs: Any, grad_outputs: Any) -> None:
            self.order.append(index)
            self.sent[index] = grad_inputs
            self.arrived[index] = grad_outputs[0]

        return hook

    def cost(self, x: torch.Tensor, y: torch.Tensor, settings: Settings) -> torch.Tensor:
        if self.model is not None:
            hypothesis = self.model(x)
            if settings.loss == "l1":
                return F.l1_loss(hypothesis, y)
            return F.mse_loss(hypothesis, y)
        W = self.params[0]
        hypothesis = x * W + self.params[1] if settings.bias else x * W
        if settings.loss == "l1":
            return torch.mean(torch.abs(hypothesis - y))
        return torch.mean((hypothesis - y) ** 2)


def walk(cost: torch.Tensor) -> tuple[list[str | None], list[tuple[int, int, int]], list[Any]]:
    """Depth first from cost.grad_fn along next_functions in slot order; None for an input that
    needs no gradient (None in next_functions)."""
    names: list[str | None] = []
    functions: list[Any] = []
    edges: list[tuple[int, int, int]] = []
    seen: dict[Any, int] = {}

    def visit(fn: Any) -> int:
        if fn in seen:
            return seen[fn]
        index = seen[fn] = len(names)
        names.append(type(fn).__name__)
        functions.append(fn)
        for slot, (child, _) in enumerate(fn.next_functions):
            if child is None:
                source = len(names)
                names.append(None)
                functions.append(None)
            else:
                source = visit(child)
            edges.append((source, index, slot))
        return index

    visit(cost.grad_fn)
    return names, edges, functions
