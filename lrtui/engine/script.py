"""The plain PyTorch script equivalent to a run's settings, in the style of the lessons.

``script_for`` writes a standalone ``.py`` file's text: the data as the lessons build it,
``W`` and ``b`` (or ``nn.Linear``), ``optimizer = optim.SGD(...)`` and the epoch loop with
``zero_grad()`` / ``backward()`` / ``step()``. Run with plain Python it prints exactly the
lines ``lrtui run`` prints for the same settings, including the line of a diverging epoch
and the stop after it. The script imports torch and the standard library only, never lrtui.
"""

from __future__ import annotations

import os

from .data import NOISY_SEED, OUTLIERS_SEED, SCALED_SEED, SCORES_NAMES, SCORES_X, SCORES_Y, Dataset
from .files import write_atomically
from .settings import OPTIMIZER_NAMES, PRESETS, SCHEDULER_NAMES, Settings

PHASES: tuple[str, ...] = ("forward", "zero_grad", "backward", "step")
ZERO_GRAD_LINE = "optimizer.zero_grad()"
ZERO_GRAD_OFF_LINE = "# optimizer.zero_grad()  # turned off: .grad accumulates"
LOOP_START = "for epoch in range(nb_epochs + 1):"


def _number(value: float) -> str:
    """A float literal that reads back as exactly the same float."""
    return repr(float(value))


def _on_off(value: bool) -> str:
    return "on" if value else "off"


def _errors(settings: Settings) -> str:
    """What the cost adds up: ``the squared errors``, ``the absolute errors``, ``the Huber losses (delta 1.0)``."""
    if settings.loss == "l1":
        return "the absolute errors"
    if settings.loss == "huber":
        return f"the Huber losses (delta {_number(settings.huber_delta)})"
    return "the squared errors"


_PRINTED = {  # the print style, in the header's words
    "after-step": "",
    "before-step": " (before the step: W and the cost at the same W, as Lab 3 prints it)",
    "loss": " (the loss alone, as the nn.Module lesson prints it)",
}


def _header(settings: Settings, k: int = 1) -> list[str]:
    model = f"nn.Linear({k}, 1)" if settings.model == "linear" else "raw W and b tensors"
    data = settings.data if settings.data in PRESETS else repr(os.path.basename(settings.data))
    optimizer = f"{OPTIMIZER_NAMES[settings.optimizer]}, lr {_number(settings.learning_rate)}"
    for name, value in settings.optimizer_options().items():
        optimizer += f", {name} {_argument(value)}"
    if not settings.decay_bias:
        optimizer += ", b without weight decay"
    return [
        '"""Linear regression in plain PyTorch, written by lrtui for these settings:',
        "",
        f"data {data}, model {model}, bias {_on_off(settings.bias)},",
        f"optimizer {optimizer},",
        f"cost the {settings.loss_reduction} of {_errors(settings)}, zero_grad {_on_off(settings.zero_grad)},",
        f"epochs 0..{settings.epochs}, a line printed every {settings.log_every} epochs{_PRINTED[settings.print_style]}.",
        *_loop_header(settings),
        "",
        "It prints the same lines as `lrtui run` with the same settings.",
        '"""',
        "",
    ]


def _imports(settings: Settings) -> list[str]:
    lines = []
    if settings.data not in PRESETS:
        lines.append("import csv")
    lines += ["import math", "", "import torch"]
    if settings.model == "linear":
        lines += ["import torch.nn as nn", "import torch.nn.functional as F"]
    elif settings.loss == "huber":
        lines.append("import torch.nn.functional as F")
    lines += ["import torch.optim as optim"]
    if settings.mini_batches:
        lines.append("from torch.utils.data import DataLoader, TensorDataset")
    return [*lines, ""]


def _data(settings: Settings, dataset: Dataset | None) -> list[str]:
    if settings.data == "line":
        return [
            "# the data: y = x",
            "x_train = torch.FloatTensor([[1], [2], [3]])",
            "y_train = torch.FloatTensor([[1], [2], [3]])",
        ]
    if settings.data == "double":
        return [
            "# the data: y = 2x",
            "x_train = torch.FloatTensor([[1], [2], [3]])",
            "y_train = torch.FloatTensor([[2], [4], [6]])",
        ]
    if settings.data == "noisy":
        return [
            "# the data: 100 noisy points around y = 4x + 2.5",
            f"torch.manual_seed({NOISY_SEED})",
            "x, _ = torch.randn(100).sort()",
            "eps = torch.randn(100) * 0.5",
            "y = 2.5 + 4 * x + eps",
            "x_train = x.reshape(-1, 1)",
            "y_train = y.reshape(-1, 1)",
        ]
    if settings.data == "outliers":
        return [
            "# the data: 30 points around y = 2x + 1, the last three 12 below it (gross outliers)",
            f"torch.manual_seed({OUTLIERS_SEED})",
            "x = torch.linspace(0, 3, 30)",
            "y = 1 + 2 * x + torch.randn(30) * 0.2",
            "y[-3:] -= 12",
            "x_train = x.reshape(-1, 1)",
            "y_train = y.reshape(-1, 1)",
        ]
    if settings.data == "scaled":
        return [
            "# the data: 40 points, x around 10 with a spread of 3, y = 3x - 5 + noise",
            f"torch.manual_seed({SCALED_SEED})",
            "x = 10 + 3 * torch.randn(40)",
            "y = 3 * x - 5 + torch.randn(40)",
            "x_train = x.reshape(-1, 1)",
            "y_train = y.reshape(-1, 1)",
        ]
    if settings.data == "scores":
        return [
            "# the data (Lab 4-1): three quiz scores and the final exam's, for five students",
            f"x_train = torch.FloatTensor([{', '.join(str(list(row)) for row in SCORES_X)}])",
            f"y_train = torch.FloatTensor([{', '.join(f'[{y}]' for y in SCORES_Y)}])",
        ]
    if dataset is None:
        points = "the points"
    else:
        points = f"{dataset.size} point" + ("" if dataset.size == 1 else "s")
    if dataset is not None and dataset.features > 1:
        return [
            f"# the data: {points} of a CSV file; its header names the columns, y the target",
            "xs, ys = [], []",
            f"with open({os.path.abspath(settings.data)!r}, newline='', encoding='utf-8-sig') as f:",
            "    rows = csv.reader(f)",
            "    target = [name.strip().lower() for name in next(rows)].index('y')",
            "    for row in rows:",
            "        if not row or (len(row) == 1 and not row[0].strip()):",
            "            continue  # a blank line",
            "        values = [float(cell) for cell in row]",
            "        ys.append(values.pop(target))",
            "        xs.append(values)  # the features, in file order",
            "x_train = torch.tensor(xs)",
            "y_train = torch.tensor(ys).reshape(-1, 1)",
        ]
    return [
        f"# the data: {points} of a CSV file with the header line x,y",
        "xs, ys = [], []",
        f"with open({os.path.abspath(settings.data)!r}, newline='', encoding='utf-8-sig') as f:",
        "    rows = csv.reader(f)",
        "    next(rows)  # the header line: x,y",
        "    for row in rows:",
        "        if not row or (len(row) == 1 and not row[0].strip()):",
        "            continue  # a blank line",
        "        x, y = row",
        "        xs.append(float(x))",
        "        ys.append(float(y))",
        "x_train = torch.tensor(xs).reshape(-1, 1)",
        "y_train = torch.tensor(ys).reshape(-1, 1)",
    ]


def _argument(value: object) -> str:
    if isinstance(value, tuple):
        return "(" + ", ".join(_argument(v) for v in value) + ")"
    if isinstance(value, bool) or value is None:
        return str(value)
    return _number(value) if isinstance(value, float) else repr(value)


def _optimizer_line(settings: Settings, params: str) -> str:
    """``make_optimizer``'s call, without the arguments left at torch's defaults."""
    if not settings.decay_bias:  # b in a parameter group of its own, without weight decay
        w, b = ("model.weight", "model.bias") if settings.model == "linear" else ("W", "b")
        params = f"[{{'params': [{w}]}}, {{'params': [{b}], 'weight_decay': 0.0}}]"
    arguments = [params, f"lr={_number(settings.learning_rate)}"]
    arguments += [f"{name}={_argument(value)}" for name, value in settings.optimizer_options().items()]
    return f"optimizer = optim.{OPTIMIZER_NAMES[settings.optimizer]}({', '.join(arguments)})"


def _phases(
    settings: Settings, indent: str, forward: list[str], zero_grad: list[str], backward: list[str]
) -> list[str]:
    """Phases 1 to 4 of the loop body; L-BFGS's step calls them as a closure, as often as its
    line search needs (the cost it hands back is the closure's first, at W and b as they were)."""
    step = [f"{indent}# 4. step: the optimizer moves {_params(settings)}", f"{indent}optimizer.step()"]
    if settings.optimizer != "lbfgs":
        return [*forward, "", *zero_grad, *backward, *step]
    inner = ["    " + line if line else line for line in (*zero_grad, *forward, *backward)]
    return [
        f"{indent}# L-BFGS evaluates the cost several times in one step: closure() is steps 1-3",
        f"{indent}evaluations = 0  # how many times this step calls closure()",
        "",
        f"{indent}def closure():",
        f"{indent}    global evaluations",
        f"{indent}    evaluations += 1",
        *(
            []
            if settings.zero_grad
            else [
                f"{indent}    # zero_grad off: every call adds its gradient to .grad, so the line search and",
                f"{indent}    # the step see the sum of the gradients at all the points tried, not the one here",
            ]
        ),
        *inner,
        f"{indent}    return cost",
        "",
        f"{indent}# 4. step: L-BFGS calls closure() as often as its line search needs; it returns the first cost",
        f"{indent}cost = optimizer.step(closure)",
    ]


def _with_evaluations(settings: Settings, log: str) -> str:
    """L-BFGS's log line also says how many times the step called closure()."""
    if settings.optimizer != "lbfgs":
        return log
    return log.replace("Cost: {:.6f}'", "Cost: {:.6f} Evaluations: {}'").replace(
        "cost.item()))", "cost.item(), evaluations))"
    )


def _params(settings: Settings) -> str:
    return "W and b" if settings.bias else "W"


def _initial_values(settings: Settings, w_name: str, b_name: str) -> list[str]:
    fills = []
    if isinstance(settings.init_w, tuple):
        values = ", ".join(_number(value) for value in settings.init_w)
        fills.append(f"    {w_name}.copy_(torch.tensor([{values}]).reshape({w_name}.shape))")
    elif settings.init_w is not None:
        fills.append(f"    {w_name}.fill_({_number(settings.init_w)})")
    if settings.bias and settings.init_b is not None:
        fills.append(f"    {b_name}.fill_({_number(settings.init_b)})")
    return ["with torch.no_grad():", *fills] if fills else []


def _model(settings: Settings, k: int = 1) -> list[str]:
    if settings.model == "raw" and k > 1:
        lines = [
            f"# the model: H(x) = x·W + b, W a column of {k} weights"
            if settings.bias
            else f"# the model: H(x) = x·W (no bias), W a column of {k} weights",
            f"W = torch.zeros(({k}, 1), requires_grad=True)",
        ]
        if settings.bias:
            lines.append("b = torch.zeros(1, requires_grad=True)")
        lines += _initial_values(settings, "W", "b")
        lines.append(_optimizer_line(settings, "[W, b]" if settings.bias else "[W]"))
        return lines
    if settings.model == "raw":
        lines = [
            "# the model: H(x) = W * x + b" if settings.bias else "# the model: H(x) = W * x (no bias)",
            "W = torch.zeros(1, requires_grad=True)",
        ]
        if settings.bias:
            lines.append("b = torch.zeros(1, requires_grad=True)")
        lines += _initial_values(settings, "W", "b")
        lines.append(_optimizer_line(settings, "[W, b]" if settings.bias else "[W]"))
        return lines
    lines = [
        f"# the model: nn.Linear({k}, 1) holds W (model.weight) and b (model.bias)"
        if settings.bias
        else f"# the model: nn.Linear({k}, 1, bias=False) holds W (model.weight), no b",
        f"torch.manual_seed({settings.seed})",
        f"model = nn.Linear({k}, 1)" if settings.bias else f"model = nn.Linear({k}, 1, bias=False)",
    ]
    lines += _initial_values(settings, "model.weight", "model.bias")
    lines.append("W, b = model.weight, model.bias" if settings.bias else "W = model.weight")
    lines.append(_optimizer_line(settings, "model.parameters()"))
    return lines


def _loop_header(settings: Settings) -> list[str]:
    """The header's words for the batches and the schedule (none for the lessons' loop)."""
    lines = []
    if settings.batch_size is not None:
        shuffled = ", shuffled every epoch" if settings.shuffle else ""
        points = "point" if settings.batch_size == 1 else "points"
        lines.append(f"mini-batches of {settings.batch_size} {points} through a DataLoader{shuffled}")
        lines.append("(every batch of a printed epoch is printed).")
    if settings.scheduler != "none":
        lines.append(f"The lr is scheduled by {_scheduler_call(settings)}, once per epoch.")
    return lines


def _scheduler_call(settings: Settings) -> str:
    arguments = [
        f"{name}={_number(value) if isinstance(value, float) else value}"
        for name, value in settings.schedule().items()
    ]
    return f"optim.lr_scheduler.{SCHEDULER_NAMES[settings.scheduler]}({', '.join(['optimizer', *arguments])})"


def _scheduler_lines(settings: Settings) -> list[str]:
    return [] if settings.scheduler == "none" else [f"scheduler = {_scheduler_call(settings)}"]


def _dataloader_lines(settings: Settings) -> list[str]:
    shuffle = "True" if settings.shuffle else "False"
    return [
        "# the mini-batches: a DataLoader with its own generator, seeded like the run",
        "dataset = TensorDataset(x_train, y_train)",
        f"dataloader = DataLoader(dataset, batch_size={settings.batch_size}, shuffle={shuffle},",
        f"                        generator=torch.Generator().manual_seed({settings.seed}))",
        "",
    ]


def _batch_loop(settings: Settings, k: int = 1) -> list[str]:
    """The issue's loop: every batch of every epoch, then ``scheduler.step()``."""
    params = "W and b" if settings.bias else "W"
    forward = [
        "    " + line.replace("x_train", "x_batch").replace("y_train", "y_batch")
        for line in _forward(settings, k)
    ]
    if settings.zero_grad:
        zero_grad = [
            "        # 2. zero_grad: clear the gradients left by the last batch",
            f"        {ZERO_GRAD_LINE}",
        ]
    else:
        zero_grad = [
            "        # 2. zero_grad: turned off, so backward() adds this batch's gradients to the old ones",
            f"        {ZERO_GRAD_OFF_LINE}",
        ]
    b_numbers = ", b.grad.item(), b.item()" if settings.bias else ""
    w_numbers = "*W.grad.flatten().tolist(), *W.flatten().tolist()" if k > 1 else "W.grad.item(), W.item()"
    log = (
        "print(f'Epoch: {epoch} | Batch: {batch_idx + 1}/{len(dataloader)} | Loss: {cost.item()} ')"
        if settings.print_style == "loss"
        else "print('Epoch {:4d}/{} Batch {}/{} Cost: {:.6f}'.format("
        "epoch, nb_epochs, batch_idx + 1, len(dataloader), cost.item()))"
    )
    return [
        *_dataloader_lines(settings),
        f"nb_epochs = {settings.epochs}",
        LOOP_START,
        "    for batch_idx, (x_batch, y_batch) in enumerate(dataloader):",
        *_phases(
            settings,
            "        ",
            [
                f"        # 1. forward and cost on the batch: H(x) and the {settings.loss_reduction} of {_errors(settings)}",
                *forward,
            ],
            zero_grad,
            [
                f"        # 3. backward: the gradients of the batch's cost with respect to {params}",
                "        cost.backward()",
            ],
        ),
        "",
        "        # stop at the first batch where a number overflows to inf or nan, as lrtui run does",
        f"        diverged = not all(math.isfinite(n) for n in [cost.item(), {w_numbers}{b_numbers}])",
        f"        if epoch % {settings.log_every} == 0 or diverged:",
        f"            {_in_x_units(settings, _with_evaluations(settings, log), k)}",
        "        if diverged:",
        "            break",
        "    if diverged:",
        "        break",
        *(["    scheduler.step()"] if settings.scheduler != "none" else []),
    ]


def _hypothesis(settings: Settings, k: int) -> str:
    if settings.model == "linear":
        return "model(x_train)"
    product = "x_train.matmul(W)" if k > 1 else "x_train * W"
    return f"{product} + b" if settings.bias else product


def _robust_forward(settings: Settings, k: int = 1) -> list[str]:
    """The L1 or Huber cost, as trainer.Trainer.loss computes it."""
    hypothesis = _hypothesis(settings, k)
    reduction = ", reduction='sum'" if settings.loss_reduction == "sum" else ""
    if settings.loss == "huber":
        cost = f"F.huber_loss(hypothesis, y_train{reduction}, delta={_number(settings.huber_delta)})"
    elif settings.model == "linear":
        cost = f"F.l1_loss(hypothesis, y_train{reduction})"
    else:
        total = "torch.sum" if settings.loss_reduction == "sum" else "torch.mean"
        cost = f"{total}(torch.abs(hypothesis - y_train))"
    return [f"    hypothesis = {hypothesis}", f"    cost = {cost}"]


def _forward(settings: Settings, k: int = 1) -> list[str]:
    if settings.loss != "mse":
        return _robust_forward(settings, k)
    if settings.model == "linear":
        reduction = ", reduction='sum'" if settings.loss_reduction == "sum" else ""
        return [
            "    hypothesis = model(x_train)",
            f"    cost = F.mse_loss(hypothesis, y_train{reduction})",
        ]
    hypothesis = _hypothesis(settings, k)
    total = "torch.sum" if settings.loss_reduction == "sum" else "torch.mean"
    return [
        f"    hypothesis = {hypothesis}",
        f"    cost = {total}((hypothesis - y_train) ** 2)",
    ]


def _loop(settings: Settings, k: int = 1) -> list[str]:
    params = "W and b" if settings.bias else "W"
    if settings.zero_grad:
        zero_grad = [
            "    # 2. zero_grad: clear the gradients left by the last epoch",
            f"    {ZERO_GRAD_LINE}",
        ]
    else:
        zero_grad = [
            "    # 2. zero_grad: turned off, so backward() adds this epoch's gradients to the old ones",
            f"    {ZERO_GRAD_OFF_LINE}",
        ]
    numbers = (
        "[cost.item(), W.grad.item(), b.grad.item(), W.item(), b.item()]"
        if settings.bias
        else "[cost.item(), W.grad.item(), W.item()]"
    )
    if k > 1:  # Lab 4-1's line
        b_numbers = ", b.grad.item(), b.item()" if settings.bias else ""
        numbers = f"[cost.item(), *W.grad.flatten().tolist(), *W.flatten().tolist(){b_numbers}]"
    every = settings.log_every
    log = _in_x_units(settings, _with_evaluations(settings, _print_line(settings, k)), k)
    # with k features the line prints the hypothesis, the same before the step or after it
    if settings.print_style == "before-step" and k == 1:
        # Lab 3 prints before zero_grad/backward/step: W and the cost at the same point. The line
        # is kept, so that an epoch that overflows prints it as lrtui run does, off the interval too.
        before = [
            "",
            "    # the lesson prints here, before the step: W and the cost at the same W",
            f"    line = {log.removeprefix('print(')[:-1]}",
            f"    if epoch % {every} == 0:",
            "        print(line)",
        ]
        after = [
            "    if diverged:",
            *([f"        if epoch % {every} != 0:", "            print(line)"] if every > 1 else []),
            "        break",
        ]
    else:
        before = []
        after = [
            f"    if epoch % {every} == 0 or diverged:",
            f"        {log}",
            "    if diverged:",
            "        break",
        ]
    return [
        f"nb_epochs = {settings.epochs}",
        LOOP_START,
        *_phases(
            settings,
            "    ",
            [
                f"    # 1. forward and cost: H(x) and the {settings.loss_reduction} of {_errors(settings)}",
                *_forward(settings, k),
                *before,
            ],
            zero_grad,
            [f"    # 3. backward: the gradients of the cost with respect to {params}", "    cost.backward()"],
        ),
        "",
        "    # stop at the first epoch where a number overflows to inf or nan, as lrtui run does",
        f"    diverged = not all(math.isfinite(n) for n in {numbers})",
        *after,
        *(["    scheduler.step()"] if settings.scheduler != "none" else []),
    ]


def _print_line(settings: Settings, k: int = 1) -> str:
    """The lessons' print of an epoch in the run's print style (report.log_line writes the same);
    with k features, Lab 4-1's line."""
    if settings.print_style == "loss":
        return "print(f'Epoch: {epoch} | Loss: {cost.item()} ')"
    if k > 1:
        return (
            "print('Epoch {:4d}/{} hypothesis: {} Cost: {:.6f}'.format("
            "epoch, nb_epochs, hypothesis.squeeze().detach(), cost.item()))"
        )
    if settings.bias:
        return (
            "print('Epoch {:4d}/{} W: {:.3f}, b: {:.3f} Cost: {:.6f}'.format("
            "epoch, nb_epochs, W.item(), b.item(), cost.item()))"
        )
    return "print('Epoch {:4d}/{} W: {:.3f}, Cost: {:.6f}'.format(epoch, nb_epochs, W.item(), cost.item()))"


def _standardize(settings: Settings, k: int = 1) -> list[str]:
    """--standardize: x' = (x - x.mean()) / x.std(), as engine/scaling.py computes it."""
    if not settings.standardize:
        return []
    if k > 1:
        return [
            "",
            "# standardize each feature: x' = (x - mean) / std per column (torch's std: n - 1)",
            "x_mean, x_std = x_train.mean(dim=0), x_train.std(dim=0)",
            "x_train = (x_train - x_mean) / x_std",
            "",
            "",
            "def in_x_units(W, b):",
            '    """W and b in x\'s own units: W_j = W\'_j / std_j, b = b\' - sum of W_j mean_j."""',
            "    ws = [w / s for w, s in zip(W.flatten().tolist(), x_std.tolist())]",
            "    return ws, (0.0 if b is None else b.item()) - sum(w * m for w, m in zip(ws, x_mean.tolist()))",
        ]
    return [
        "",
        "# standardize x: x' = (x - mean) / std (torch's std: n - 1); W and b are fitted to x'",
        "x_mean, x_std = x_train.mean(), x_train.std()",
        "x_train = (x_train - x_mean) / x_std",
    ]


def _in_x_units(settings: Settings, log: str, k: int = 1) -> str:
    """The log line's print, with the line in x's own units appended for --standardize:
    W = W'/std and b = b' - W' mean/std (the loss line prints no W)."""
    if not settings.standardize or settings.print_style == "loss":
        return log
    if k > 1:
        b_name = "b" if settings.bias else "None"
        original = (
            "' | original x: W: [{}], b: {:.3f}'.format(', '.join('{:.3f}'.format(w) for w in"
            f" in_x_units(W, {b_name})[0]), in_x_units(W, {b_name})[1])"
        )
        return log[: -len(")")] + " + " + original + ")"
    b = "b.item()" if settings.bias else "0.0"
    original = (
        "' | original x: W: {:.3f}, b: {:.3f}'.format(W.item() / x_std.item(),"
        f" {b} - W.item() * x_mean.item() / x_std.item())"
    )
    return log[: -len(")")] + " + " + original + ")"


def script_for(settings: Settings, dataset: Dataset | None = None) -> str:
    """The standalone plain-torch script that prints what ``lrtui run`` prints for ``settings``.

    ``dataset`` is the data the run already holds, if any; for a CSV file it only adds the
    number of points to a comment, since the script reads the file itself.
    """
    k = dataset.features if dataset is not None else len(SCORES_NAMES) if settings.data == "scores" else 1
    lines = [
        *_header(settings, k),
        *_imports(settings),
        *_data(settings, dataset),
        *_standardize(settings, k),
        "",
        *_model(settings, k),
        *_scheduler_lines(settings),
        "",
        *(_batch_loop(settings, k) if settings.mini_batches else _loop(settings, k)),
    ]
    return "\n".join(lines) + "\n"


def write_script(path: str | os.PathLike[str], settings: Settings, dataset: Dataset | None = None) -> None:
    """Write ``script_for(settings, dataset)`` to ``path`` atomically: a reader sees the old
    file or the whole new one, never half of it."""
    write_atomically(path, script_for(settings, dataset))


def phase_lines(script: str) -> dict[str, int]:
    """The 1-based line numbers of the loop's four phases in ``script``, found by their code.

    ``forward`` is the ``hypothesis = ...`` line (the cost follows it); ``zero_grad`` is the
    ``optimizer.zero_grad()`` line, commented out or not. Raises ValueError if one is missing.
    """
    lines = script.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == LOOP_START)
    except StopIteration:
        raise ValueError("no training loop (for epoch in range(nb_epochs + 1):) in the script") from None
    found: dict[str, int] = {}
    for number, line in enumerate(lines[start + 1 :], start=start + 2):
        code = line.strip()
        if code.startswith("hypothesis = "):
            phase = "forward"
        elif code in (ZERO_GRAD_LINE, ZERO_GRAD_OFF_LINE) or code.startswith(f"# {ZERO_GRAD_LINE}"):
            phase = "zero_grad"
        elif code == "cost.backward()":
            phase = "backward"
        elif code in ("optimizer.step()", "cost = optimizer.step(closure)"):
            phase = "step"
        else:
            continue
        found.setdefault(phase, number)
    missing = [phase for phase in PHASES if phase not in found]
    if missing:
        raise ValueError(f"the script's loop has no {', '.join(missing)} line")
    return {phase: found[phase] for phase in PHASES}
