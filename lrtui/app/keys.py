"""Every key of the app with its one-line explanation (the help screen and the command palette
read the explanation from the binding's tooltip)."""

from __future__ import annotations

from textual.binding import Binding

from ..engine.choices import OPTIMIZER_NAMES, OPTIMIZERS, PRESETS


def key(keys: str, action: str, description: str, id: str, tooltip: str, show: bool = True) -> Binding:
    return Binding(keys, action, description, show=show, id=id, tooltip=tooltip)


KEYS: list[Binding] = [
    key("space", "toggle_run", "Run", "run", "run or pause: epochs keep coming at the chosen speed"),
    key("n,right", "step(1)", "Step", "step-1",
        "run one step: forward, cost, zero_grad, backward, step (an epoch; with mini-batches, one batch)"),
    key("u,left", "step_back", "Undo", "step-back",
        "undo one step (an epoch, or a batch): W, b, .grad and the optimizer's state as they were (bit for bit); after a"
        " divergence, back to before the cost began to grow, in one press"),
    key("N", "step(10)", "×10", "step-10", "run 10 steps (epochs, or batches)", show=False),
    key("ctrl+n", "step(100)", "×100", "step-100", "run 100 steps (epochs, or batches)", show=False),
    key("f", "step_epoch", "Epoch", "step-epoch",
        "finish the epoch: run the rest of its batches (a whole epoch between epochs)", show=False),
    key("r", "reset", "Reset", "reset", "start again from epoch 0 with the same settings"),
    key("z", "toggle_zero_grad", "zero_grad", "zero-grad",
        "turn optimizer.zero_grad() on or off (off: .grad accumulates)"),
    key("plus", "scale_learning_rate(2)", "lr×2", "lr-double", "double the learning rate (from the next epoch)", show=False),
    key("minus", "scale_learning_rate(0.5)", "lr÷2", "lr-halve", "halve the learning rate (from the next epoch)",
        show=False),
    key("o", "next_optimizer", "Opt", "optimizer",
        f"next optimizer: {', '.join(OPTIMIZER_NAMES[name] for name in OPTIMIZERS)} (a fresh one, empty state)"),
    key("b", "toggle_bias", "Bias", "bias", "fit with or without b (a new problem: the run resets)", show=False),
    key("d", "next_dataset", "Data", "dataset",
        f"next dataset: {', '.join(PRESETS)} (a new problem: the run resets)", show=False),
    key("v", "next_view", "View", "view", "switch the chart: cost surface, cost per epoch, data and fitted line"),
    key("t", "toggle_x_units", "x units", "x-units",
        "with standardize on: the surface over x' (as trained) or over raw x (the valley it removed)",
        show=False),
    key("w", "next_slice", "Slice", "slice",
        "with several features: the cost over the next pair of parameters (w1..wk, b), then each alone, the others"
        " held where they are", show=False),
    key("s", "toggle_panel", "Params", "panel",
        "show or hide the parameter panel on a small screen (tab moves between its fields)", show=False),
    key("c", "toggle_code", "Code", "code",
        "show the plain PyTorch code being run, and optimizer.state (c again: the chart)"),
    key("p", "phase_step", "Phase", "phase",
        "run the next phase of the epoch: forward and cost, zero_grad, backward, step", show=False),
    key("g", "toggle_graph", "Graph", "graph",
        "show the autograd graph of the cost (torch's nodes, values, and the gradients backward sends) in place of"
        " the chart; g again: the chart", show=False),
    key("B", "backward_node", "Backward", "backward-node",
        "in the graph view: step cost.backward() one node at a time, in the order autograd runs them (on a copy)",
        show=False),
    key("2", "second_backward", "Backward again", "second-backward",
        "in the graph view: call cost.backward() a second time on the same graph (on a copy): torch's error, and"
        " what retain_graph=True would change", show=False),
    key("ctrl+s", "save_session", "Save", "save",
        "save the session (settings, history, exact torch state) as JSON", show=False),
    key("ctrl+o", "load_session", "Load", "load", "load a saved session and go on from where it stopped",
        show=False),
    key("e", "export_history", "Export", "export", "export every epoch of the history as CSV", show=False),
    key("x", "export_script", "Script", "script",
        "write the plain PyTorch script for these settings (python prints what lrtui shows)", show=False),
    key("a", "add_contender", "Race", "race-add",
        "race another configuration in lockstep on the same data (up to 4 in all)", show=False),
    key("h", "race_heavy_ball", "Heavy ball", "race-heavy-ball",
        "race heavy-ball momentum at the β and lr the curvature predicts are best", show=False),
    key("A", "remove_contender", "Unrace", "race-remove", "take the last contender out of the race", show=False),
    key("l", "pick_lesson", "Lessons", "lessons",
        "guided lessons: the classic PyTorch lessons, each with a goal the app checks", show=False),
    key("L", "close_lesson", "Close lesson", "lesson-close", "close the lesson box (the run goes on)", show=False),
    key("S", "save_screenshot", "Picture", "screenshot", "save a picture of the screen (SVG, for slides)", show=False),
    key("question_mark", "help", "Help", "help", "show this help"),
    key("escape", "focus_app", "Leave field", "focus-app", "leave a field and hand the keys back to the app"),
    key("q", "quit", "Quit", "quit", "quit lrtui"),
]  # fmt: skip


def _typed(key_name: str) -> bool:
    """True for a key an input field takes as text (or as moving its cursor)."""
    return len(key_name) == 1 or key_name in ("space", "plus", "minus", "question_mark", "left", "right")


# The actions whose every key types into a focused input: the footer leaves them out then.
TYPED_ACTIONS: frozenset[str] = frozenset(
    binding.action for binding in KEYS if all(_typed(name.strip()) for name in binding.key.split(","))
)
