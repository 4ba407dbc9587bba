"""Every dense optimizer of torch.optim and its options (issue 30): exact against the lessons'
loop in plain torch, validated with torch's own rules, refused where an optimizer takes none."""

from __future__ import annotations

import inspect
from typing import Any

import plain_torch as pt
import pytest
import torch
from cli_support import invoke

from lrtui.engine.choices import OPTIMIZER_NAMES, OPTIMIZER_OPTIONS, OPTIMIZERS, REFUSED_OPTIMIZERS
from lrtui.engine.settings import FIELD, OPTION_SETTINGS, Settings, SettingsError, parse_field
from lrtui.engine.simulation import Simulation

# (lrtui settings, torch class, lr, the torch constructor's keyword arguments): written out by hand.
CASES: list[tuple[dict[str, Any], str, float, dict[str, Any]]] = [
    ({"optimizer": "sgd", "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.1}, "SGD", 0.01,
     {"momentum": 0.9, "dampening": 0.3, "weight_decay": 0.1}),
    ({"optimizer": "adagrad", "lr_decay": 0.01, "weight_decay": 0.1, "eps": 1e-6}, "Adagrad", 0.5,
     {"lr_decay": 0.01, "weight_decay": 0.1, "eps": 1e-6}),
    ({"optimizer": "rmsprop", "alpha": 0.9, "eps": 1e-6, "weight_decay": 0.1, "momentum": 0.5, "centered": True},
     "RMSprop", 0.01, {"alpha": 0.9, "eps": 1e-6, "weight_decay": 0.1, "momentum": 0.5, "centered": True}),
    ({"optimizer": "adam", "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.1, "amsgrad": True}, "Adam", 0.1,
     {"betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.1, "amsgrad": True}),
    ({"optimizer": "adam", "weight_decay": 0.5, "decoupled_weight_decay": True}, "Adam", 0.1,
     {"weight_decay": 0.5, "decoupled_weight_decay": True}),
    ({"optimizer": "adamw"}, "AdamW", 0.1, {}),
    ({"optimizer": "adamw", "weight_decay": 0.3, "amsgrad": True, "betas": (0.5, 0.9)}, "AdamW", 0.1,
     {"weight_decay": 0.3, "amsgrad": True, "betas": (0.5, 0.9)}),
    ({"optimizer": "adadelta", "rho": 0.8, "eps": 1e-5, "weight_decay": 0.1}, "Adadelta", 1.0,
     {"rho": 0.8, "eps": 1e-5, "weight_decay": 0.1}),
    ({"optimizer": "adamax", "betas": (0.7, 0.95), "eps": 1e-6, "weight_decay": 0.1}, "Adamax", 0.1,
     {"betas": (0.7, 0.95), "eps": 1e-6, "weight_decay": 0.1}),
    ({"optimizer": "nadam", "momentum_decay": 0.01, "weight_decay": 0.2, "decoupled_weight_decay": True},
     "NAdam", 0.1, {"momentum_decay": 0.01, "weight_decay": 0.2, "decoupled_weight_decay": True}),
    ({"optimizer": "radam", "betas": (0.8, 0.9), "weight_decay": 0.2}, "RAdam", 0.1,
     {"betas": (0.8, 0.9), "weight_decay": 0.2}),
    ({"optimizer": "radam", "weight_decay": 0.2, "decoupled_weight_decay": True}, "RAdam", 0.1,
     {"weight_decay": 0.2, "decoupled_weight_decay": True}),
    ({"optimizer": "asgd", "lambd": 1e-3, "alpha": 0.5, "t0": 10.0, "weight_decay": 0.1}, "ASGD", 0.05,
     {"lambd": 1e-3, "alpha": 0.5, "t0": 10.0, "weight_decay": 0.1}),
    ({"optimizer": "rprop", "etas": (0.4, 1.3), "step_sizes": (1e-5, 1.0)}, "Rprop", 0.01,
     {"etas": (0.4, 1.3), "step_sizes": (1e-5, 1.0)}),
    ({"optimizer": "adafactor", "weight_decay": 0.1}, "Adafactor", 0.1, {"weight_decay": 0.1}),
    ({"optimizer": "lbfgs"}, "LBFGS", 0.5, {}),
    ({"optimizer": "lbfgs", "max_iter": 4, "history_size": 3, "line_search": "strong_wolfe"}, "LBFGS", 1.0,
     {"max_iter": 4, "history_size": 3, "line_search_fn": "strong_wolfe"}),
]  # fmt: skip
IDS = [
    "sgd", "adagrad", "rmsprop", "adam", "adam_decoupled", "adamw_default", "adamw", "adadelta", "adamax",
    "nadam", "radam", "radam_decoupled", "asgd", "rprop", "adafactor", "lbfgs", "lbfgs_wolfe",
]  # fmt: skip
DEFAULTS = [({"optimizer": key}, name, 0.05, {}) for key, name in OPTIMIZER_NAMES.items()]


def records(settings: Settings) -> list[dict[str, Any]]:
    simulation = Simulation(settings)
    done = []
    while not simulation.finished and not simulation.diverged:
        record = simulation.step()
        row = {name: getattr(record, name) for name in pt.FIELDS}
        row["batch"], row["learning_rate"], row["probes"] = (
            record.batch,
            record.learning_rate,
            list(record.probes),
        )
        done.append(row)
    return done


def plain(
    data: str, epochs: int, name: str, lr: float, options: dict[str, Any], **loop: Any
) -> list[dict[str, Any]]:
    return pt.lesson_loop(*pt.DATA[data](), epochs, optimizer=name, lr=lr, options=options, **loop)


def test_every_dense_optimizer_is_offered_and_each_case_covers_one() -> None:
    assert [name for name in OPTIMIZERS] == [key for key in OPTIMIZER_NAMES]
    assert {case[0]["optimizer"] for case in CASES} == set(OPTIMIZERS)
    for key, name in OPTIMIZER_NAMES.items():
        assert name.lower() == key and issubclass(getattr(torch.optim, name), torch.optim.Optimizer)


@pytest.mark.parametrize("data", ["line", "double", "noisy"])
@pytest.mark.parametrize("model", ["raw", "linear"])
@pytest.mark.parametrize(("changes", "name", "lr", "options"), CASES, ids=IDS)
def test_each_optimizer_and_option_matches_the_plain_loop(
    data: str, model: str, changes: dict[str, Any], name: str, lr: float, options: dict[str, Any]
) -> None:
    settings = Settings(data=data, model=model, learning_rate=lr, epochs=12, **changes)
    assert records(settings) == plain(data, 12, name, lr, options, model=model)


@pytest.mark.parametrize(("changes", "name", "lr", "options"), DEFAULTS, ids=list(OPTIMIZERS))
def test_each_optimizer_with_torchs_defaults_matches_the_plain_loop(
    changes: dict[str, Any], name: str, lr: float, options: dict[str, Any]
) -> None:
    for model in ("raw", "linear"):
        settings = Settings(data="double", model=model, learning_rate=lr, epochs=8, **changes)
        assert records(settings) == plain("double", 8, name, lr, options, model=model)


@pytest.mark.parametrize(("changes", "name", "lr", "options"), CASES, ids=IDS)
def test_without_bias_and_zero_grad_off(
    changes: dict[str, Any], name: str, lr: float, options: dict[str, Any]
) -> None:
    settings = Settings(data="noisy", bias=False, zero_grad=False, learning_rate=lr, epochs=10, **changes)
    assert records(settings) == plain("noisy", 10, name, lr, options, bias=False, zero_grad=False)
    linear = settings.with_changes(model="linear", bias=True)
    assert records(linear) == plain("noisy", 10, name, lr, options, model="linear", zero_grad=False)


@pytest.mark.parametrize(("changes", "name", "lr", "options"), CASES, ids=IDS)
def test_mini_batches_with_a_schedule(
    changes: dict[str, Any], name: str, lr: float, options: dict[str, Any]
) -> None:
    settings = Settings(
        data="noisy",
        batch_size=32,
        scheduler="step",
        step_size=2,
        gamma=0.5,
        learning_rate=lr,
        epochs=4,
        **changes,
    )
    expected = plain(
        "noisy",
        4,
        name,
        lr,
        options,
        batch_size=32,
        scheduler="step",
        schedule={"step_size": 2, "gamma": 0.5},
    )
    assert records(settings) == expected


def test_the_options_are_torchs_own_arguments_and_unset_ones_leave_torchs_defaults() -> None:
    for optimizer, options in OPTIMIZER_OPTIONS.items():
        arguments = inspect.signature(getattr(torch.optim, OPTIMIZER_NAMES[optimizer])).parameters
        for option in options:
            assert {"line_search": "line_search_fn"}.get(option, option) in arguments, (optimizer, option)
        for option in set(OPTION_SETTINGS) - set(options):
            if (optimizer, option) == ("adafactor", "eps"):
                continue  # Adafactor's eps is a pair (eps1, eps2), not one number: not offered
            assert {"line_search": "line_search_fn"}.get(option, option) not in arguments, (optimizer, option)
        # nothing set: the optimizer is built with lr alone, torch's defaults for every option
        built = Simulation(Settings(optimizer=optimizer)).optimizer
        fresh = getattr(torch.optim, OPTIMIZER_NAMES[optimizer])(
            [torch.zeros(1, requires_grad=True)], lr=0.01
        )
        assert built.defaults == fresh.defaults
    for option in OPTION_SETTINGS:  # an option that is a switch is off in torch, as in lrtui
        if FIELD[option].switch is not None:
            for optimizer in OPTIMIZERS:
                if option in OPTIMIZER_OPTIONS[optimizer]:
                    kind = getattr(torch.optim, OPTIMIZER_NAMES[optimizer])
                    assert inspect.signature(kind).parameters[option].default is False


# Values torch refuses (or takes) for each option, by the optimizer that takes it.
TORCH_RULES: list[tuple[str, str, Any]] = [
    ("weight_decay", "sgd", -0.1), ("weight_decay", "adamw", -1e-9), ("weight_decay", "adafactor", -1.0),
    ("weight_decay", "asgd", 0.0), ("weight_decay", "adam", 3.0),
    ("eps", "adam", -1e-8), ("eps", "adagrad", 0.0), ("eps", "rmsprop", -1.0),
    ("betas", "adam", (1.0, 0.9)), ("betas", "nadam", (0.9, 1.0)), ("betas", "radam", (-0.1, 0.9)),
    ("betas", "adamax", (0.0, 0.0)), ("betas", "adamw", (0.99, 0.5)),
    ("dampening", "sgd", -2.0), ("dampening", "sgd", 1.5),
    ("alpha", "rmsprop", -0.5), ("alpha", "rmsprop", 0.0), ("alpha", "asgd", -0.5),
    ("rho", "adadelta", 1.0), ("rho", "adadelta", 1.01), ("rho", "adadelta", -0.01),
    ("lr_decay", "adagrad", -0.1), ("momentum_decay", "nadam", -0.1), ("momentum_decay", "nadam", 0.0),
    ("etas", "rprop", (0.5, 1.0)), ("etas", "rprop", (0.0, 1.2)), ("etas", "rprop", (1.0, 1.2)),
    ("etas", "rprop", (0.3, 2.0)), ("step_sizes", "rprop", (1.0, 0.1)),
    ("lambd", "asgd", -1.0), ("t0", "asgd", -5.0),
]  # fmt: skip


@pytest.mark.parametrize(("option", "optimizer", "value"), TORCH_RULES)
def test_an_option_is_refused_exactly_when_torch_refuses_it(option: str, optimizer: str, value: Any) -> None:
    kind = getattr(torch.optim, OPTIMIZER_NAMES[optimizer])
    try:
        kind([torch.zeros(1, requires_grad=True)], lr=0.01, **{option: value})
        torch_refuses = False
    except ValueError:
        torch_refuses = True
    try:
        Settings(optimizer=optimizer, **{option: value})
        lrtui_refuses = False
    except SettingsError as error:
        assert error.field == option
        lrtui_refuses = True
    assert lrtui_refuses == torch_refuses


def test_nesterov_with_dampening_is_refused_as_torch_does() -> None:
    with pytest.raises(ValueError, match="zero dampening"):
        torch.optim.SGD(
            [torch.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9, nesterov=True, dampening=0.1
        )
    with pytest.raises(SettingsError, match="zero dampening") as refused:
        Settings(momentum=0.9, nesterov=True, dampening=0.1)
    assert refused.value.field == "dampening"


def test_typed_options_parse_as_torch_takes_them() -> None:
    assert parse_field("betas", "0.8,0.99") == (0.8, 0.99)
    assert parse_field("betas", "(0.8, 0.99)") == (0.8, 0.99)
    assert parse_field("etas", "0.4 1.3") == (0.4, 1.3)
    assert parse_field("betas", "default") is None
    assert parse_field("line_search", "strong_wolfe") == "strong_wolfe"
    assert parse_field("line_search", "none") == "none"
    for name, text in (
        ("betas", "0.9"),
        ("betas", "0.9,1"),
        ("etas", "1,2"),
        ("max_iter", "0"),
        ("eps", "-1"),
    ):
        with pytest.raises(SettingsError):
            parse_field(name, text)
    assert Settings(optimizer="lbfgs", line_search="none").optimizer_options() == {"line_search_fn": None}


def test_an_optimizer_change_takes_its_options_along_and_keeps_the_shared_ones() -> None:
    adam = Settings(optimizer="adam", betas=(0.8, 0.9), weight_decay=0.1, amsgrad=True)
    sgd = adam.changing(optimizer="sgd")
    assert (sgd.betas, sgd.amsgrad, sgd.weight_decay) == (None, False, 0.1)
    rprop = adam.changing(optimizer="rprop")
    assert (rprop.weight_decay, rprop.betas) == (None, None)
    assert adam.changing(optimizer="adamw").betas == (0.8, 0.9)
    with pytest.raises(SettingsError, match="Rprop has no betas"):
        adam.changing(optimizer="rprop", betas=(0.5, 0.5))


@pytest.mark.parametrize(
    ("argv", "flag", "words"),
    [
        (
            ["--optimizer", "adam", "--dampening", "0.1"],
            "--dampening",
            "Adam has no dampening; it is an option of SGD",
        ),
        (["--optimizer", "sgd", "--betas", "0.9,0.99"], "--betas", "SGD has no betas"),
        (["--optimizer", "rprop", "--weight-decay", "0.1"], "--weight-decay", "Rprop has no weight decay"),
        (["--optimizer", "adamw", "--decoupled-weight-decay"], "--decoupled-weight-decay", "AdamW has no"),
        (
            ["--optimizer", "adam", "--line-search", "strong_wolfe"],
            "--line-search",
            "Adam has no line search",
        ),
        (["--optimizer", "adam", "--betas", "0.9,1.5"], "--betas", "beta2 must be at least 0 and below 1"),
        (["--optimizer", "rprop", "--etas", "2,3"], "--etas", "0 < etaminus < 1 < etaplus"),
        (["--optimizer", "lbfgs", "--line-search", "armijo"], "--line-search", "strong_wolfe, none"),
        (["--optimizer", "sparseadam"], "--optimizer", "SparseAdam takes sparse gradients only"),
        (["--optimizer", "muon"], "--optimizer", "Muon updates 2-D weight matrices only"),
    ],
)
def test_bad_options_exit_2_with_one_line_naming_the_flag(
    capsys: pytest.CaptureFixture[str], argv: list[str], flag: str, words: str
) -> None:
    code, out, err = invoke(capsys, *argv, "--epochs", "1")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and f"argument {flag}: " in err and words in err, err


def test_sparse_adam_and_muon_are_refused_because_torch_cannot_train_w_and_b_with_them() -> None:
    assert set(REFUSED_OPTIMIZERS) == {"sparseadam", "muon"}
    W = torch.zeros(1, requires_grad=True)
    (W * 2).sum().backward()
    with pytest.raises(RuntimeError, match="does not support dense gradients"):
        torch.optim.SparseAdam([W], lr=0.1).step()
    with pytest.raises(ValueError, match="2D"):
        torch.optim.Muon([W], lr=0.1)


@pytest.mark.parametrize(("changes", "name", "lr", "options"), CASES, ids=IDS)
def test_a_session_and_undo_keep_each_optimizers_exact_state(
    tmp_path: Any, changes: dict[str, Any], name: str, lr: float, options: dict[str, Any]
) -> None:
    from lrtui.engine.run import Run
    from lrtui.engine.session import load_session, save_session

    run = Run(Settings(data="noisy", learning_rate=lr, epochs=40, **changes))
    run.run_to(6)
    save_session(tmp_path / "run.json", run)
    loaded = load_session(tmp_path / "run.json")
    assert loaded.settings == run.settings and list(loaded.history) == list(run.history)
    ahead = [run.step() for _ in range(5)]
    assert [loaded.step() for _ in range(5)] == ahead
    assert loaded.undo() and loaded.undo() and loaded.epoch == 9
    assert [loaded.step() for _ in range(2)] == ahead[3:]


def test_a_session_with_a_broken_lbfgs_history_is_refused(tmp_path: Any) -> None:
    import json

    from lrtui.engine.run import Run
    from lrtui.engine.session import SessionError, load_session, save_session

    run = Run(Settings(data="noisy", optimizer="lbfgs", learning_rate=0.1, history_size=5))
    run.run_to(3)
    save_session(tmp_path / "run.json", run)
    document = json.loads((tmp_path / "run.json").read_text())
    state = document["optimizer"]["state"]["0"]
    assert len(state["old_dirs"]) == len(state["ro"]) > 0 and len(state["al"]) == 5
    state["ro"] = state["ro"][:-1]
    (tmp_path / "bad.json").write_text(json.dumps(document))
    with pytest.raises(SessionError, match="old_dirs, old_stps and ro differ in length"):
        load_session(tmp_path / "bad.json")
    del state["old_dirs"]
    (tmp_path / "bad.json").write_text(json.dumps(document))
    with pytest.raises(SessionError, match="LBFGS keeps"):
        load_session(tmp_path / "bad.json")


def test_a_contender_types_a_pair_with_a_comma_between_its_numbers() -> None:
    from lrtui.engine.contenders import contender_settings

    typed = contender_settings(Settings(), "optimizer=adam betas=0.8,0.99,lr=0.1 weight-decay=0.1")
    assert (typed.optimizer, typed.betas, typed.learning_rate, typed.weight_decay) == (
        "adam",
        (0.8, 0.99),
        0.1,
        0.1,
    )
    assert contender_settings(Settings(), "optimizer=rprop,etas=0.4,1.3").etas == (0.4, 1.3)


async def test_the_panel_shows_the_chosen_optimizers_options_and_marks_a_bad_one() -> None:
    from app_support import make_app, shown_text

    from lrtui.engine.choices import OPTIMIZER_OPTIONS

    def shown(app: Any) -> set[str]:
        return {name for name in OPTION_SETTINGS if app.query_one(f"#row-{name}").display}

    async def type_into(pilot: Any, field: str, text: str) -> None:
        widget = pilot.app.query_one(f"#field-{field}")
        widget.focus()
        await pilot.pause()
        widget.value = ""
        await pilot.press(*list(text), "enter")
        await pilot.pause()

    app = make_app(Settings(weight_decay=0.1))
    async with app.run_test(size=(120, 40)) as pilot:
        assert shown(app) == set(OPTIMIZER_OPTIONS["sgd"])
        assert app.query_one("#row-decay_bias").display  # a weight decay is set: b can be left out of it
        for _ in range(3):  # sgd -> adagrad -> rmsprop -> adam
            await pilot.press("o")
        await pilot.pause()
        assert app.leader.settings.optimizer == "adam" and shown(app) == set(OPTIMIZER_OPTIONS["adam"])
        assert app.leader.settings.weight_decay == 0.1  # Adam takes it too
        await type_into(pilot, "betas", "0.9,1.5")
        assert app.query_one("#row-betas").has_class("-invalid")
        assert "beta2 must be at least 0 and below 1" in shown_text(app.query_one("#reason-betas"))
        assert app.leader.settings.betas is None
        await type_into(pilot, "betas", "0.8,0.9")
        assert app.leader.settings.betas == (0.8, 0.9) and not app.query_one("#row-betas").has_class(
            "-invalid"
        )
        await pilot.press("n")
        await pilot.pause()
        assert app.leader.simulation.optimizer.param_groups[0]["betas"] == (0.8, 0.9)
        app.query_one("#field-optimizer").value = "rmsprop"
        await pilot.pause()
        assert shown(app) == set(OPTIMIZER_OPTIONS["rmsprop"]) and app.leader.settings.betas is None
        app.query_one("#field-optimizer").value = "rprop"
        await pilot.pause()
        assert not app.query_one("#row-decay_bias").display and app.leader.settings.weight_decay is None
        app.query_one("#field-optimizer").value = "rmsprop"
        await pilot.pause()
        await type_into(pilot, "alpha", "-0.5")  # a number, but RMSprop's alpha is at least 0 (torch's rule)
        assert "RMSprop's alpha must be at least 0" in shown_text(app.query_one("#reason-alpha"))
        assert app.leader.settings.alpha is None


def diverges(settings: Settings, epochs: int = 400) -> bool:
    import math

    last = pt.lesson_loop(
        *pt.DATA[settings.data](), epochs, optimizer="SGD", lr=settings.learning_rate,
        options={"momentum": settings.momentum, "weight_decay": settings.weight_decay or 0.0},
    )[-1]  # fmt: skip
    return not (math.isfinite(last["cost"]) and abs(last["w_next"]) < 1e3)


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_weight_decay_adds_to_the_curvature_of_sgds_stability_limit(momentum: float) -> None:
    settings = Settings(data="double", momentum=momentum, weight_decay=3.0)
    simulation = Simulation(settings)
    limit = simulation.surface.limit_for(settings).limit
    without = simulation.surface.limit_for(settings.with_changes(weight_decay=None)).limit
    assert limit is not None and without is not None and limit < 0.8 * without
    assert not diverges(settings.with_changes(learning_rate=0.97 * limit))
    assert diverges(settings.with_changes(learning_rate=1.03 * limit))
    assert diverges(
        settings.with_changes(learning_rate=(limit + without) / 2)
    )  # past it, below the plain one
    assert simulation.surface.limit_for(settings.with_changes(dampening=0.5)).limit is None


def test_the_divergence_report_reasons_about_stability_only_where_it_holds() -> None:
    from lrtui.engine.report import divergence_of
    from lrtui.engine.run import Run

    def report(**changes: Any) -> str:
        run = Run(Settings(data="noisy", epochs=300, **changes))
        run.run_to(300)
        assert run.diverged, changes
        return divergence_of(run)

    adam = report(optimizer="adam", learning_rate=1e30)
    assert "steps scale with the learning rate" in adam and "moves W and b by lr each" in adam
    rmsprop = report(optimizer="rmsprop", learning_rate=1e30, alpha=0.5)
    assert "steps scale with the learning rate" in rmsprop and "10 × lr" not in rmsprop
    assert "10 × lr" in report(optimizer="rmsprop", learning_rate=1e30)
    asgd = report(optimizer="asgd", learning_rate=1.0)
    assert "no stability limit worked out here" in asgd and "scale with the learning rate" not in asgd
    decayed = report(learning_rate=0.5, weight_decay=2.0)
    assert "converges only for learning rates below" in decayed


@pytest.mark.parametrize(("changes", "name", "lr", "options"), CASES, ids=IDS)
def test_the_state_pane_reads_torchs_own_state(
    changes: dict[str, Any], name: str, lr: float, options: dict[str, Any]
) -> None:
    simulation = Simulation(Settings(data="noisy", learning_rate=lr, **changes))
    simulation.run(3)
    W = torch.zeros(1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    opt = pt.make_optimizer(name, [W, b], lr, **options)
    x_train, y_train = pt.noisy_data()

    def closure() -> torch.Tensor:
        opt.zero_grad()
        cost = torch.mean((x_train * W + b - y_train) ** 2)
        cost.backward()
        return cost

    for _ in range(3):
        if isinstance(opt, torch.optim.LBFGS):
            opt.step(closure)
        else:
            closure()
            opt.step()
    expected = []
    names = ("W, b",) if name == "LBFGS" else ("W", "b")
    for param_name, param in zip(names, (W, b), strict=False):
        for key, value in opt.state[param].items():
            if isinstance(value, torch.Tensor):
                value = value.item() if value.numel() == 1 else tuple(value.tolist())
            elif isinstance(value, list):
                value = f"{sum(v is not None for v in value)} kept"
            expected.append((param_name, key, value))
    assert simulation.optimizer_state() == expected and expected


@pytest.mark.parametrize(
    "changes", [{}, {"zero_grad": False}, {"batch_size": 10}], ids=["on", "off", "batches"]
)
def test_the_code_view_finds_the_four_phases_inside_lbfgss_closure(changes: dict[str, Any]) -> None:
    from lrtui.engine.script import phase_lines, script_for

    script = script_for(Settings(data="noisy", optimizer="lbfgs", **changes))
    lines = script.splitlines()
    at = {phase: lines[number - 1].strip() for phase, number in phase_lines(script).items()}
    assert at["forward"].startswith("hypothesis = ") and at["backward"] == "cost.backward()"
    assert at["step"] == "cost = optimizer.step(closure)"
    closure = next(i for i, line in enumerate(lines) if line.strip() == "def closure():") + 1
    assert closure < min(phase_lines(script)[p] for p in ("forward", "zero_grad", "backward"))
    assert ("sum of the gradients at all the points tried" in script) == ("zero_grad" in changes)


@pytest.mark.parametrize("data", ["line", "double", "noisy"])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("bias", [True, False])
def test_the_ridge_optimum_is_the_closed_form_and_where_coupled_decay_settles(
    data: str, reduction: str, bias: bool
) -> None:
    import numpy as np

    decay = 0.7
    x, y = (t.double().numpy().ravel() for t in pt.DATA[data]())
    X = np.column_stack([x, np.ones_like(x)]) if bias else x[:, None]
    scale = 1 / len(x) if reduction == "mean" else 1.0
    # the minimum of scale * |X θ - y|² + decay/2 |θ|²: (2 scale XᵀX + decay I) θ = 2 scale Xᵀy
    expected = np.linalg.solve(2 * scale * X.T @ X + decay * np.eye(X.shape[1]), 2 * scale * X.T @ y)
    settings = Settings(
        data=data, bias=bias, loss_reduction=reduction, weight_decay=decay, learning_rate=0.01
    )
    simulation = Simulation(settings)
    ridge = simulation.surface.ridge_optimum(decay)
    assert ridge is not None
    assert ridge[0] == pytest.approx(expected[0], rel=1e-12)
    assert (ridge[1] is None) == (not bias) and (
        not bias or ridge[1] == pytest.approx(expected[1], rel=1e-12)
    )
    if reduction == "mean":  # plain torch's SGD with weight_decay settles there, not at the plain optimum
        W = torch.zeros(1, requires_grad=True)
        b = torch.zeros(1, requires_grad=True)
        params = [W, b] if bias else [W]
        opt = torch.optim.SGD(params, lr=0.05, weight_decay=decay)
        x_train, y_train = pt.DATA[data]()
        for _ in range(3000):
            opt.zero_grad()
            torch.mean((x_train * W + (b if bias else 0) - y_train) ** 2).backward()
            opt.step()
        assert W.item() == pytest.approx(expected[0], abs=1e-4)
        assert abs(W.item() - simulation.surface.optimum.w) > 1e-2


def test_the_chart_says_where_coupled_and_decoupled_decay_settle() -> None:
    from lrtui.charts.scene import ridge_optimum, scene_of
    from lrtui.charts.titles import surface_titles
    from lrtui.engine.race import Race

    def scene(**changes: Any) -> Any:
        return scene_of(Race.of(Settings(data="noisy", **changes)))

    coupled = scene(optimizer="adam", weight_decay=0.5)
    assert ridge_optimum(coupled) == coupled.surface.ridge_optimum(0.5)
    assert "◈ optimum with L2 decay 0.5" in surface_titles(coupled)[0]
    adamw = scene(optimizer="adamw")  # torch's default decay, 0.01, decoupled
    assert ridge_optimum(adamw) is None and (adamw.weight_decay, adamw.decoupled_decay) == (0.01, True)
    assert "decoupled decay 0.01: settles off ◆, not at a ridge optimum" in surface_titles(adamw)[0]
    assert ridge_optimum(scene(optimizer="adam", weight_decay=0.5, decoupled_weight_decay=True)) is None
    assert ridge_optimum(scene()) is None and "decay" not in surface_titles(scene())[0]


@pytest.mark.parametrize("model", ["raw", "linear"])
@pytest.mark.parametrize(("optimizer", "name"), [("sgd", "SGD"), ("adam", "Adam"), ("adamw", "AdamW")])
def test_decay_bias_off_is_two_parameter_groups_as_in_plain_torch(
    model: str, optimizer: str, name: str
) -> None:
    settings = Settings(data="noisy", model=model, optimizer=optimizer, learning_rate=0.05, weight_decay=0.5)
    x_train, y_train = pt.noisy_data()
    torch.manual_seed(1)
    linear = torch.nn.Linear(1, 1)
    W, b = (linear.weight, linear.bias) if model == "linear" else (torch.zeros(1, requires_grad=True),) * 2
    if model == "raw":
        b = torch.zeros(1, requires_grad=True)
    groups = [{"params": [W]}, {"params": [b], "weight_decay": 0.0}]
    opt = getattr(torch.optim, name)(groups, lr=0.05, weight_decay=0.5)
    expected = []
    for _ in range(20):
        cost = torch.nn.functional.mse_loss(x_train * W.view(1) + b, y_train)
        opt.zero_grad()
        cost.backward()
        opt.step()
        expected.append((cost.item(), W.item(), b.item()))
    simulation = Simulation(settings.changing(decay_bias=False))
    got = [(r.cost, r.w_next, r.b_next) for r in simulation.run(20)]
    if model == "raw":
        assert got == expected
    else:  # nn.Linear's addmm and x * W + b may round the last bit apart
        for one, other in zip(got, expected, strict=True):
            assert one == pytest.approx(other, rel=1e-5)
    assert got != [(r.cost, r.w_next, r.b_next) for r in Simulation(settings).run(20)]


def test_decay_bias_off_ridge_optimum_and_refusals(capsys: pytest.CaptureFixture[str]) -> None:
    import numpy as np

    x, y = (t.double().numpy().ravel() for t in pt.noisy_data())
    X = np.column_stack([x, np.ones_like(x)])
    hessian = 2 / len(x) * X.T @ X + np.diag([0.7, 0.0])
    expected = np.linalg.solve(hessian, 2 / len(x) * X.T @ y)
    settings = Settings(data="noisy", weight_decay=0.7, decay_bias=False)
    surface = Simulation(settings).surface
    assert surface.ridge_optimum(0.7, 0.0) == pytest.approx(tuple(expected), rel=1e-12)
    assert surface.decayed_curvatures(0.7, 0.0) == pytest.approx(
        tuple(np.linalg.eigvalsh(hessian)), rel=1e-12
    )
    assert surface.limit_for(settings).limit == pytest.approx(2 / np.linalg.eigvalsh(hessian)[-1], rel=1e-12)
    for argv, words in (
        (["--optimizer", "rprop", "--decay-bias", "off"], "Rprop has no weight decay to leave b out of"),
        (["--no-bias", "--decay-bias", "off"], "needs a b: the model has no bias"),
    ):
        code, out, err = invoke(capsys, *argv, "--epochs", "1")
        assert code == 2 and "argument --decay-bias: " in err and words in err and err.count("\n") == 1
    assert Settings(decay_bias=False).changing(optimizer="rprop").decay_bias is True


def test_a_session_with_b_left_out_of_decay_steps_on_bit_for_bit(tmp_path: Any) -> None:
    from lrtui.engine.run import Run
    from lrtui.engine.session import load_session, save_session

    run = Run(Settings(data="noisy", optimizer="adam", learning_rate=0.1, weight_decay=0.5, decay_bias=False))
    run.run_to(5)
    save_session(tmp_path / "run.json", run)
    loaded = load_session(tmp_path / "run.json")
    assert [g["weight_decay"] for g in loaded.simulation.optimizer.param_groups] == [0.5, 0.0]
    assert [loaded.step() for _ in range(5)] == [run.step() for _ in range(5)]
