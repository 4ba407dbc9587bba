"""``script_for``: the written plain-torch script prints exactly what ``lrtui run`` prints.

Every configuration's script is written to a file and run by a fresh Python that never
imports lrtui; its stdout must equal, line for line, the stdout of ``lrtui.cli.run`` with
the same flags. Starting Python with torch costs seconds, so most scripts run in two batch
processes, each running its scripts one after another with ``runpy`` as ``__main__`` (the
scripts seed torch themselves, so one cannot change another's numbers). A few scripts run
alone with ``subprocess.run([sys.executable, path])``, one of them isolated (``-I``) from
another directory.
"""

from __future__ import annotations

import ast
import io
import json
import os
import stat
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import pytest
from filelock import FileLock

import lrtui.cli.commands
import lrtui.engine.script
from lrtui.engine import Settings, SettingsError, load
from lrtui.engine.script import PHASES, phase_lines, script_for, write_script

TIMEOUT = 60
MARK = "=== lrtui-test script: "
ALLOWED_IMPORTS = {
    "csv",
    "math",
    "torch",
    "torch.nn",
    "torch.nn.functional",
    "torch.optim",
    "torch.utils.data",
}

CSV_TEXT = "\ufeff X , y \n1, 2.5\n2,4.4\n\n   \n3.5 ,7.9\n-1,-1.7\n0.25,1.1\n"
# two features, the target between them
FEATURES_TEXT = "rooms, Y ,age\n3,2.5,10\n2,4.4,3\n\n4,7.9,1\n1,-1.7,30\n5,1.1,12\n"


@dataclass(frozen=True)
class Case:
    id: str
    argv: tuple[str, ...]
    exit_code: int = 0
    relative_csv: bool = False  # --data names the CSV relative to the working directory
    alone: str | None = None  # "plain": python script.py; "isolated": python -I, from elsewhere


def case(
    id: str, *argv: str, exit_code: int = 0, relative_csv: bool = False, alone: str | None = None
) -> Case:
    return Case(id, argv, exit_code, relative_csv, alone)


SHORT = ("--epochs", "300", "--log-every", "30")
CASES: tuple[Case, ...] = (
    # the presets, raw W and b
    case("line-default", "--epochs", "1000", "--log-every", "100", alone="plain"),
    case("double", "--data", "double", *SHORT),
    case("noisy", "--data", "noisy", *SHORT),
    # a CSV file, by absolute and by relative path
    case("csv-raw", "--data", "{csv}", *SHORT),
    case("csv-linear", "--data", "{csv}", "--model", "linear", "--seed", "5", *SHORT),
    case("csv-relative", "--data", "points.csv", "--lr", "0.02", *SHORT, relative_csv=True),
    # nn.Linear and its seed
    case("linear-seed-1", "--model", "linear", *SHORT),
    case("linear-seed-7", "--model", "linear", "--seed", "7", *SHORT),
    case("linear-noisy-seed-3", "--data", "noisy", "--model", "linear", "--seed", "3", *SHORT),
    case("linear-double-big-seed", "--data", "double", "--model", "linear", "--seed", str(2**63 - 1), *SHORT),
    # bias off
    case("raw-no-bias", "--data", "double", "--no-bias", *SHORT),
    case("linear-no-bias", "--model", "linear", "--no-bias", "--seed", "2", *SHORT),
    # zero_grad off: .grad accumulates
    case("raw-no-zero-grad", "--no-zero-grad", *SHORT),
    case("linear-no-zero-grad", "--data", "noisy", "--model", "linear", "--no-zero-grad", *SHORT),
    # sum reduction
    case("raw-sum", "--data", "noisy", "--loss-reduction", "sum", "--lr", "0.001", *SHORT),
    case("linear-sum-no-bias", "--model", "linear", "--loss-reduction", "sum", "--no-bias", *SHORT),
    # the other optimizers
    case("adam-raw", "--optimizer", "adam", "--lr", "0.1", *SHORT),
    case(
        "adam-linear",
        *("--data", "noisy", "--model", "linear", "--seed", "11", "--optimizer", "adam", "--lr", "0.1"),
        *SHORT,
        alone="isolated",
    ),
    case("sgd-momentum", "--data", "double", "--momentum", "0.9", *SHORT),
    case("sgd-nesterov-linear", "--model", "linear", "--momentum", "0.9", "--nesterov", *SHORT),
    case("rmsprop", "--data", "noisy", "--optimizer", "rmsprop", "--lr", "0.01", *SHORT),
    case("rmsprop-momentum", "--optimizer", "rmsprop", "--momentum", "0.5", "--lr", "0.003", *SHORT),
    case("adagrad", "--optimizer", "adagrad", "--lr", "0.00123456789012345", *SHORT),
    # every optimizer of torch.optim with its options (issue 30)
    case(
        "sgd-options",
        "--data",
        "noisy",
        "--momentum",
        "0.9",
        "--dampening",
        "0.3",
        "--weight-decay",
        "0.1",
        *SHORT,
    ),
    case(
        "adagrad-options",
        "--optimizer",
        "adagrad",
        "--lr",
        "0.5",
        "--lr-decay",
        "0.01",
        "--eps",
        "1e-6",
        *SHORT,
    ),
    case(
        "rmsprop-options",
        *(
            "--data",
            "noisy",
            "--optimizer",
            "rmsprop",
            "--alpha",
            "0.9",
            "--centered",
            "--weight-decay",
            "0.1",
        ),
        *SHORT,
    ),
    case("adam-options", "--optimizer", "adam", "--lr", "0.1", "--betas", "0.8,0.99", "--amsgrad", *SHORT),
    case(
        "adam-decoupled",
        *("--model", "linear", "--optimizer", "adam", "--lr", "0.1", "--weight-decay", "0.5"),
        *("--decoupled-weight-decay", *SHORT),
    ),
    case("adamw", "--data", "noisy", "--optimizer", "adamw", "--lr", "0.1", *SHORT),
    case(
        "adamw-linear",
        "--model",
        "linear",
        "--optimizer",
        "adamw",
        "--lr",
        "0.1",
        "--weight-decay",
        "0.3",
        *SHORT,
    ),
    case("adadelta", "--optimizer", "adadelta", "--lr", "1", "--rho", "0.8", "--eps", "1e-5", *SHORT),
    case("adamax", "--data", "noisy", "--optimizer", "adamax", "--lr", "0.1", "--betas", "0.7,0.95", *SHORT),
    case("nadam", "--optimizer", "nadam", "--lr", "0.1", "--momentum-decay", "0.01", "--no-bias", *SHORT),
    case("radam", "--data", "double", "--optimizer", "radam", "--lr", "0.1", "--weight-decay", "0.2", *SHORT),
    case(
        "asgd",
        "--optimizer",
        "asgd",
        "--lr",
        "0.05",
        "--lambd",
        "0.001",
        "--alpha",
        "0.5",
        "--t0",
        "10",
        *SHORT,
    ),
    case(
        "rprop",
        "--data",
        "noisy",
        "--optimizer",
        "rprop",
        "--etas",
        "0.4,1.3",
        "--step-sizes",
        "1e-5,1",
        *SHORT,
    ),
    case("adafactor", "--model", "linear", "--optimizer", "adafactor", "--lr", "0.1", *SHORT),
    case(
        "adam-decay-bias-off",
        *("--optimizer", "adam", "--lr", "0.1", "--weight-decay", "0.5", "--decay-bias", "off", *SHORT),
    ),
    case(
        "sgd-decay-bias-off-linear",
        *("--data", "noisy", "--model", "linear", "--weight-decay", "1", "--decay-bias", "off", *SHORT),
    ),
    case(
        "lbfgs",
        "--data",
        "noisy",
        "--optimizer",
        "lbfgs",
        "--lr",
        "0.5",
        "--epochs",
        "20",
        "--log-every",
        "2",
    ),
    case(
        "lbfgs-wolfe-linear",
        *("--model", "linear", "--optimizer", "lbfgs", "--lr", "1", "--line-search", "strong_wolfe"),
        *("--max-iter", "4", "--history-size", "3", "--epochs", "10", "--log-every", "1"),
    ),
    case(
        "lbfgs-no-zero-grad",
        "--optimizer",
        "lbfgs",
        "--lr",
        "0.1",
        "--no-zero-grad",
        "--epochs",
        "10",
        "--log-every",
        "1",
    ),
    case(
        "lbfgs-batches-steplr",
        *(
            "--data",
            "noisy",
            "--batch-size",
            "30",
            "--optimizer",
            "lbfgs",
            "--lr",
            "0.5",
            "--scheduler",
            "step",
        ),
        *("--step-size", "2", "--epochs", "6", "--log-every", "1"),
    ),
    # the noisy lesson: W = 10, b = -5, lr 0.1
    case("noisy-lesson", "--data", "noisy", "--init-w", "10", "--init-b", "-5", "--lr", "0.1", *SHORT),
    case(
        "noisy-lesson-linear",
        "--data",
        "noisy",
        "--model",
        "linear",
        "--init-w",
        "10",
        "--init-b",
        "-5",
        "--lr",
        "0.1",
        "--no-zero-grad",
        *SHORT,
    ),
    case("init-w-only-no-bias", "--init-w", "-3.25", "--init-b", "7", "--no-bias", *SHORT),
    # divergence: the line of the diverging epoch, then the run stops
    case("diverge-line-lr-1", "--lr", "1", "--epochs", "1000", "--log-every", "100", exit_code=3),
    case(
        "diverge-no-bias-log-1", "--lr", "1", "--no-bias", "--epochs", "60", "--log-every", "1", exit_code=3
    ),
    case("diverge-linear-sum", "--model", "linear", "--loss-reduction", "sum", "--lr", "0.5", exit_code=3),
    # losses that are not squares (issue 14), and the outliers preset
    case("l1-raw", "--data", "outliers", "--loss", "l1", "--lr", "0.05", *SHORT),
    case(
        "l1-linear-sum-no-bias",
        "--model",
        "linear",
        "--loss",
        "l1",
        "--loss-reduction",
        "sum",
        "--no-bias",
        *SHORT,
    ),
    case(
        "huber-raw-delta",
        "--data",
        "outliers",
        "--loss",
        "huber",
        "--huber-delta",
        "0.5",
        "--lr",
        "0.1",
        *SHORT,
    ),
    case(
        "huber-linear-sum",
        "--data",
        "noisy",
        "--model",
        "linear",
        "--loss",
        "huber",
        "--loss-reduction",
        "sum",
        "--lr",
        "0.005",
        *SHORT,
    ),
    case("outliers-mse", "--data", "outliers", "--lr", "0.1", *SHORT),
    # --standardize (issue 14): x' = (x - mean) / std, the line also in x's units
    case("standardize-scaled", "--data", "scaled", "--standardize", "--lr", "0.3", *SHORT),
    case(
        "standardize-linear-no-bias",
        "--data",
        "noisy",
        "--model",
        "linear",
        "--no-bias",
        "--standardize",
        *SHORT,
    ),
    case(
        "standardize-csv-huber", "--data", "{csv}", "--standardize", "--loss", "huber", "--lr", "0.2", *SHORT
    ),
    case("scaled-raw", "--data", "scaled", "--lr", "0.009", *SHORT),
    # several features (issue 28): Lab 4-1 and a CSV file with two
    case("scores-lab", "--data", "scores", "--lr", "1e-5", "--epochs", "20", "--log-every", "1"),
    case(
        "scores-linear",
        "--data",
        "scores",
        "--lr",
        "1e-5",
        "--model",
        "linear",
        "--epochs",
        "20",
        "--log-every",
        "5",
    ),
    case("scores-standardize", "--data", "scores", "--standardize", "--lr", "0.1", *SHORT),
    case(
        "scores-standardize-linear-no-bias",
        *("--data", "scores", "--standardize", "--model", "linear", "--no-bias", "--lr", "0.1"),
        *SHORT,
    ),
    case(
        "scores-batches",
        "--data",
        "scores",
        "--batch-size",
        "2",
        "--shuffle",
        "--lr",
        "1e-5",
        "--epochs",
        "4",
    ),
    case(
        "scores-init-huber",
        "--data",
        "scores",
        "--init-w",
        "0.5,0.25,1",
        "--loss",
        "huber",
        "--lr",
        "1e-4",
        *SHORT,
    ),
    case("scores-diverges", "--data", "scores", "--lr", "1e-3", "--no-bias", *SHORT, exit_code=3),
    case("csv-features", "--data", "{features}", "--standardize", "--lr", "0.1", *SHORT),
    case("csv-features-linear", "--data", "{features}", "--model", "linear", "--lr", "0.001", *SHORT),
    case("standardize-diverges", "--data", "scaled", "--standardize", "--lr", "1.5", *SHORT, exit_code=3),
    # epochs 0: only epoch 0 runs
    case("zero-epochs", "--epochs", "0", "--log-every", "7"),
    # mini-batches through a DataLoader and lr schedules (issue 13)
    case("batches-32", "--data", "noisy", "--batch-size", "32", "--epochs", "20", "--log-every", "5"),
    case("batches-10-shuffle", "--data", "noisy", "--batch-size", "10", "--shuffle", *SHORT),
    case("batches-1-linear", "--data", "noisy", "--model", "linear", "--batch-size", "1", "--epochs", "2"),
    case("batches-all", "--batch-size", "7", "--shuffle", "--no-zero-grad", "--no-bias", *SHORT),
    case(
        "batches-adam-steplr",
        *("--data", "noisy", "--batch-size", "25", "--shuffle", "--optimizer", "adam", "--lr", "0.5"),
        *(
            "--scheduler",
            "step",
            "--step-size",
            "10",
            "--gamma",
            "0.5",
            "--epochs",
            "40",
            "--log-every",
            "10",
        ),
    ),
    case("full-exponential", "--scheduler", "exponential", "--gamma", "0.99", "--lr", "0.1", *SHORT),
    case("full-cosine", "--data", "noisy", "--scheduler", "cosine", "--t-max", "50", "--lr", "0.1", *SHORT),
    case("full-steplr-defaults", "--scheduler", "step", "--lr", "0.05", *SHORT),
    case(
        "batches-diverge", "--data", "noisy", "--batch-size", "4", "--lr", "3", "--epochs", "5", exit_code=3
    ),
    # mini-batches with the losses and the scaling of issue 14
    case(
        "batches-standardized",
        "--data",
        "noisy",
        "--batch-size",
        "32",
        "--standardize",
        "--lr",
        "0.1",
        *SHORT,
    ),
    case(
        "batches-l1-shuffled", "--data", "outliers", "--batch-size", "10", "--shuffle", "--loss", "l1", *SHORT
    ),
    case(
        "batches-huber-linear-steplr",
        *("--data", "noisy", "--batch-size", "25", "--loss", "huber", "--model", "linear"),
        *("--scheduler", "step", "--step-size", "2", "--gamma", "0.5", *SHORT),
    ),
    # the lessons' own print lines (issue 26): Lab 3 prints before the step, the nn.Module lesson the loss
    case("print-before-lab-3", "--no-bias", "--lr", "0.15", "--epochs", "10", "--log-every", "1", "--print", "before-step"),
    case("print-before-diverges", "--lr", "1", "--epochs", "1000", "--log-every", "100", "--print", "before-step", exit_code=3),
    case("print-before-standardized", "--data", "scaled", "--standardize", "--lr", "0.3", *SHORT, "--print", "before-step"),
    case("print-loss-linear", "--model", "linear", *SHORT, "--print", "loss"),
    case("print-loss-batches", "--data", "noisy", "--batch-size", "32", "--epochs", "20", "--log-every", "5", "--print", "loss"),
    case("print-loss-diverges", "--lr", "1", "--no-bias", "--epochs", "60", "--log-every", "7", "--print", "loss", exit_code=3),
)  # fmt: skip


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = lrtui.cli.run(argv, out, err)
    return code, out.getvalue(), err.getvalue()


def settings_for(argv: list[str]) -> Settings:
    parser = lrtui.cli.commands.run_parser()
    return lrtui.cli.commands.settings_from_args(parser, parser.parse_args(argv))


def imported_modules(script: str) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(script)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.add(node.module or "")
    return names


BATCH_RUNNER = f"""\
import runpy, sys
for path in sys.argv[1:]:
    print({MARK!r} + path, flush=True)
    runpy.run_path(path, run_name="__main__")
    sys.stdout.flush()
leaked = sorted(name for name in sys.modules if name == "lrtui" or name.startswith("lrtui."))
assert not leaked, leaked
"""


@dataclass
class Outcome:
    script: str
    expected_code: int
    expected_out: str
    got_out: str


def finish(process: subprocess.Popen[str]) -> str:
    """The process's stdout once it has exited 0 (the scripts exit 0 even when the run diverges)."""
    try:
        stdout, stderr = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise
    assert process.returncode == 0, stderr
    return stdout


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    """Every case: its script run in a batch process, and what ``lrtui run`` printed. Under
    pytest-xdist the first worker to ask works them out and the others read what it wrote (in
    this session's own temporary folder), so the scripts run once however the tests are dealt."""
    if "PYTEST_XDIST_WORKER" not in os.environ:
        return run_every_case(tmp_path_factory)
    shared = tmp_path_factory.getbasetemp().parent / "script-outcomes.json"
    with FileLock(f"{shared}.lock"):
        if not shared.exists():
            found = run_every_case(tmp_path_factory)
            shared.write_text(json.dumps({id: asdict(outcome) for id, outcome in found.items()}))
        return {id: Outcome(**fields) for id, fields in json.loads(shared.read_text()).items()}


def run_every_case(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    base = tmp_path_factory.mktemp("scripts")
    data_dir = base / "data"
    data_dir.mkdir()
    csv_path = data_dir / "points.csv"
    csv_path.write_text(CSV_TEXT, encoding="utf-8")
    features_path = data_dir / "features.csv"
    features_path.write_text(FEATURES_TEXT, encoding="utf-8")
    scripts_dir = base / "written"
    scripts_dir.mkdir()
    elsewhere = base / "elsewhere"
    elsewhere.mkdir()

    argvs: dict[str, list[str]] = {}
    paths: dict[str, Path] = {}
    for c in CASES:
        given = {"{csv}": str(csv_path), "{features}": str(features_path)}
        argv = [given.get(arg, arg) for arg in c.argv]
        argvs[c.id] = argv
        paths[c.id] = scripts_dir / f"{c.id}.py"
        with pytest.MonkeyPatch.context() as mp:
            if c.relative_csv:
                mp.chdir(data_dir)
            settings = settings_for(argv)
            write_script(paths[c.id], settings, load(settings.data))

    # The scripts that run alone, and two batch processes for the rest, cases dealt
    # alternately; all started before the in-process runs so the work overlaps.
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}
    no_python_env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    alone: dict[str, subprocess.Popen[str]] = {}
    for c in CASES:
        if c.alone == "plain":
            alone[c.id] = subprocess.Popen([sys.executable, str(paths[c.id])], **pipes)
        elif c.alone == "isolated":
            alone[c.id] = subprocess.Popen(
                [sys.executable, "-I", str(paths[c.id])], cwd=elsewhere, env=no_python_env, **pipes
            )
    in_batches = [c for c in CASES if c.alone is None]
    processes = [
        subprocess.Popen(
            [sys.executable, "-I", "-c", BATCH_RUNNER, *(str(paths[c.id]) for c in batch)],
            cwd=elsewhere,
            **pipes,
        )
        for batch in (in_batches[0::2], in_batches[1::2])
    ]

    expected: dict[str, tuple[int, str]] = {}
    for c in CASES:
        with pytest.MonkeyPatch.context() as mp:
            if c.relative_csv:
                mp.chdir(data_dir)
            code, out, _ = run_cli(argvs[c.id])
        expected[c.id] = (code, out)

    got: dict[str, str] = {id: finish(process) for id, process in alone.items()}
    for process in processes:
        stdout = finish(process)
        for chunk in stdout.split(MARK)[1:]:
            path, _, printed = chunk.partition("\n")
            got[Path(path).stem] = printed

    return {
        c.id: Outcome(
            script=paths[c.id].read_text(encoding="utf-8"),
            expected_code=expected[c.id][0],
            expected_out=expected[c.id][1],
            got_out=got[c.id],
        )
        for c in CASES
    }


@pytest.mark.parametrize("c", CASES, ids=[c.id for c in CASES])
def test_script_prints_what_lrtui_run_prints(c: Case, outcomes: dict[str, Outcome]) -> None:
    outcome = outcomes[c.id]
    assert outcome.expected_code == c.exit_code
    assert outcome.expected_out.startswith(
        "Epoch: 0 | " if "--print=loss" in "=".join(c.argv) else "Epoch    0/"
    )
    assert outcome.got_out.splitlines() == outcome.expected_out.splitlines()
    assert outcome.got_out == outcome.expected_out


def test_diverging_case_prints_its_epoch_then_stops(outcomes: dict[str, Outcome]) -> None:
    lines = outcomes["diverge-line-lr-1"].got_out.splitlines()
    assert [line.split("/")[0] for line in lines] == ["Epoch    0", "Epoch   19"]
    assert lines[-1].endswith("Cost: inf")


def test_a_print_before_the_step_prints_the_diverging_epoch_off_the_interval(
    outcomes: dict[str, Outcome],
) -> None:
    lines = outcomes["print-before-diverges"].got_out.splitlines()
    assert [line.split("/")[0] for line in lines] == ["Epoch    0", "Epoch   19"]
    assert lines[0].startswith("Epoch    0/1000 W: 0.000, b: 0.000 Cost: 4.666667")  # before the step
    assert lines[-1].endswith("Cost: inf")
    assert outcomes["print-loss-diverges"].got_out.splitlines()[-1].endswith("| Loss: inf ")


def test_scripts_import_torch_and_the_standard_library_only(outcomes: dict[str, Outcome]) -> None:
    for outcome in outcomes.values():
        modules = imported_modules(outcome.script)
        assert modules <= ALLOWED_IMPORTS
        assert {"torch", "torch.optim"} <= modules
        assert "import lrtui" not in outcome.script and "from lrtui" not in outcome.script


def test_scripts_import_only_what_they_use(outcomes: dict[str, Outcome]) -> None:
    """A raw-tensor script has no use for nn or F, a preset's script none for csv."""
    for case_id, outcome in outcomes.items():
        tree = ast.parse(outcome.script)
        bound = {
            alias.asname or alias.name.split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        }
        used = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
        assert bound <= used, f"{case_id}: unused {sorted(bound - used)}"


def test_scripts_run_alone(outcomes: dict[str, Outcome]) -> None:
    """``python train.py``, and ``python -I`` from another directory (no PYTHON* variables,
    neither the script's nor the working directory on sys.path), print the same lines."""
    assert {c.alone for c in CASES} == {None, "plain", "isolated"}
    golden = outcomes["line-default"].got_out.splitlines()
    assert golden[-1] == "Epoch 1000/1000 W: 0.985, b: 0.033 Cost: 0.000158"
    assert "optimizer = optim.Adam(model.parameters(), lr=0.1)" in outcomes["adam-linear"].script


# --------------------------------------------------------------- what it reads like
@pytest.mark.parametrize(
    ("argv", "snippets"),
    [
        (
            [],
            [
                "x_train = torch.FloatTensor([[1], [2], [3]])",
                "y_train = torch.FloatTensor([[1], [2], [3]])",
                "W = torch.zeros(1, requires_grad=True)",
                "b = torch.zeros(1, requires_grad=True)",
                "optimizer = optim.SGD([W, b], lr=0.01)",
                "nb_epochs = 1000",
                "for epoch in range(nb_epochs + 1):",
                "    hypothesis = x_train * W + b",
                "    cost = torch.mean((hypothesis - y_train) ** 2)",
                "    optimizer.zero_grad()",
                "    cost.backward()",
                "    optimizer.step()",
                "    if epoch % 100 == 0 or diverged:",
            ],
        ),
        (
            ["--data", "noisy", "--init-w", "10", "--init-b", "-5", "--lr", "0.1", "--loss-reduction", "sum"],
            [
                "torch.manual_seed(43052)",
                "x, _ = torch.randn(100).sort()",
                "eps = torch.randn(100) * 0.5",
                "y = 2.5 + 4 * x + eps",
                "with torch.no_grad():\n    W.fill_(10.0)\n    b.fill_(-5.0)\n",
                "optimizer = optim.SGD([W, b], lr=0.1)",
                "    cost = torch.sum((hypothesis - y_train) ** 2)",
            ],
        ),
        (
            ["--data", "double", "--model", "linear", "--seed", "9", "--no-bias", "--momentum", "0.9"],
            [
                "torch.manual_seed(9)\nmodel = nn.Linear(1, 1, bias=False)\n",
                "optimizer = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)",
                "    hypothesis = model(x_train)",
                "    cost = F.mse_loss(hypothesis, y_train)\n",
                "print('Epoch {:4d}/{} W: {:.3f}, Cost: {:.6f}'.format(epoch, nb_epochs, W.item(), cost.item()))",
            ],
        ),
        (
            ["--model", "linear", "--momentum", "0.5", "--nesterov", "--loss-reduction", "sum"],
            [
                "model = nn.Linear(1, 1)\n",
                "optimizer = optim.SGD(model.parameters(), lr=0.01, momentum=0.5, nesterov=True)",
                "    cost = F.mse_loss(hypothesis, y_train, reduction='sum')",
            ],
        ),
        (["--optimizer", "adam", "--lr", "0.1"], ["optimizer = optim.Adam([W, b], lr=0.1)"]),
        (["--optimizer", "adagrad", "--lr", "1e-5"], ["optimizer = optim.Adagrad([W, b], lr=1e-05)"]),
        (
            ["--optimizer", "rmsprop", "--momentum", "0.25", "--no-bias"],
            ["optimizer = optim.RMSprop([W], lr=0.01, momentum=0.25)", "    hypothesis = x_train * W\n"],
        ),
        (["--lr", "0.30000000000000004"], ["lr=0.30000000000000004)"]),
    ],
)
def test_script_reads_like_the_lessons(argv: list[str], snippets: list[str]) -> None:
    script = script_for(settings_for(argv))
    for snippet in snippets:
        assert snippet in script
    compile(script, "<script>", "exec")


def test_momentum_left_from_sgd_is_not_in_an_adam_script() -> None:
    """The app's `o` key goes from SGD with momentum to Adam, which takes none: the change drops
    momentum (``Settings.changing``), Settings refuses it for Adam, and the script has none."""
    script = script_for(Settings(momentum=0.9).changing(optimizer="adam"))
    assert "optimizer = optim.Adam([W, b], lr=0.01)" in script and "momentum" not in script
    with pytest.raises(SettingsError, match="adam has no momentum"):
        Settings(optimizer="adam", momentum=0.9)


def test_zero_grad_line_is_commented_out_when_off() -> None:
    on = script_for(Settings()).splitlines()
    off = script_for(Settings(zero_grad=False)).splitlines()
    assert "    optimizer.zero_grad()" in on
    assert "    # optimizer.zero_grad()  # turned off: .grad accumulates" in off
    assert "    optimizer.zero_grad()" not in off
    # the two scripts differ only in the zero_grad comment and line
    differing = [(a, b) for a, b in zip(on, off, strict=True) if a != b]
    assert len(differing) == 3  # the header's "zero_grad on", the phase comment, the line


def test_csv_script_reads_the_file_by_absolute_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pts.csv").write_text("x,y\n1,2\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    script = script_for(Settings(data="pts.csv"), load("pts.csv"))
    assert f"with open({str(tmp_path / 'pts.csv')!r}, newline='', encoding='utf-8-sig') as f:" in script
    assert "# the data: 1 point of a CSV file with the header line x,y" in script
    assert "import csv" in script.splitlines()


# --------------------------------------------------------------------- phase_lines
@pytest.mark.parametrize(
    "settings",
    [
        Settings(),
        Settings(zero_grad=False),
        Settings(model="linear", bias=False, loss_reduction="sum"),
        Settings(data="noisy", init_w=10.0, init_b=-5.0, optimizer="adam"),
    ],
    ids=["default", "zero-grad-off", "linear-no-bias", "noisy-init-adam"],
)
def test_phase_lines_point_at_the_four_phases(settings: Settings) -> None:
    script = script_for(settings)
    lines = script.splitlines()
    found = phase_lines(script)
    assert list(found) == list(PHASES)
    at = {phase: lines[number - 1].strip() for phase, number in found.items()}
    assert at["forward"].startswith("hypothesis = ")
    assert lines[found["forward"]].strip().startswith("cost = ")
    if settings.zero_grad:
        assert at["zero_grad"] == "optimizer.zero_grad()"
    else:
        assert at["zero_grad"] == "# optimizer.zero_grad()  # turned off: .grad accumulates"
    assert at["backward"] == "cost.backward()"
    assert at["step"] == "optimizer.step()"
    assert found["forward"] < found["zero_grad"] < found["backward"] < found["step"]


def test_phase_lines_follow_the_text() -> None:
    script = script_for(Settings())
    shifted = "# one\n# two\n# three\n" + script
    assert phase_lines(shifted) == {phase: number + 3 for phase, number in phase_lines(script).items()}
    with pytest.raises(ValueError, match="no training loop"):
        phase_lines("print('hello')\n")
    with pytest.raises(ValueError, match="backward"):
        phase_lines(script.replace("    cost.backward()\n", ""))


# -------------------------------------------------------------------- write_script
def test_write_script_creates_then_replaces(tmp_path: Path) -> None:
    path = tmp_path / "train.py"
    write_script(path, Settings())
    assert path.read_text(encoding="utf-8") == script_for(Settings())
    assert os.listdir(tmp_path) == ["train.py"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o644

    path.chmod(0o755)
    new = Settings(data="double", optimizer="adam")
    write_script(str(path), new)
    assert path.read_text(encoding="utf-8") == script_for(new)
    assert os.listdir(tmp_path) == ["train.py"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o755  # an existing file keeps its mode


def test_write_script_leaves_the_old_file_when_it_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "train.py"
    path.write_text("old\n", encoding="utf-8")

    def broken_replace(source: str, target: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        write_script(path, Settings())
    assert path.read_text(encoding="utf-8") == "old\n"
    assert os.listdir(tmp_path) == ["train.py"]


def test_write_script_into_a_missing_directory_fails_cleanly(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        write_script(tmp_path / "nowhere" / "train.py", Settings())
    assert os.listdir(tmp_path) == []


def test_script_module_imports_no_ui() -> None:
    source = (Path(lrtui.engine.script.__file__)).read_text(encoding="utf-8")
    assert not any(name.split(".")[0] in ("textual", "rich", "plotext") for name in imported_modules(source))
