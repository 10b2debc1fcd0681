"""``python -m core COMMAND`` imports only COMMAND's module (a worker starts faster)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from core.cli import COMMAND_MODULES, COMMANDS, _modules_for, build_parser

ROOT = Path(__file__).resolve().parents[2]


def _cli_modules_after(argv: list[str]) -> list[str]:
    code = (
        "import json, sys\n"
        "from core.cli import build_parser\n"
        f"build_parser({argv!r}).parse_args({argv!r})\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('core.cli.'))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@pytest.mark.slow
def test_the_paper_worker_imports_only_its_command_modules():
    # _paper reuses _backtest's execution options; _output is shared by all
    modules = _cli_modules_after(["paper", "run", "--session", "s"])
    assert modules == ["core.cli._backtest", "core.cli._output", "core.cli._paper"]


@pytest.mark.slow
def test_the_optimize_worker_imports_only_its_command_modules():
    modules = _cli_modules_after(["--db", "sqlite://", "optimize-worker", "--job", "j"])
    assert modules == ["core.cli._backtest", "core.cli._optimize", "core.cli._output"]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["paper", "run"], ("_paper",)),
        (["--json", "backtest", "--strategy", "x"], ("_backtest",)),
        (["--db", "paper", "strategies"], ("_backtest",)),  # "paper" is the --db value
        (["--db=sqlite://", "risk", "limits"], ("_risk",)),
        (["optimize-allocation"], ("_optimize",)),
        (["no-such-command"], COMMANDS),  # the error lists every command
        (["--help"], COMMANDS),
        ([], COMMANDS),
    ],
)
def test_the_modules_a_command_line_needs(argv, expected):
    assert _modules_for(argv) == expected


def test_every_command_is_mapped_to_the_module_that_registers_it():
    parser = build_parser()  # all modules
    choices = next(a for a in parser._actions if a.dest == "command").choices
    assert set(choices) == set(COMMAND_MODULES)
    for name, module in COMMAND_MODULES.items():
        alone = build_parser([name])
        sub = next(a for a in alone._actions if a.dest == "command").choices
        assert name in sub, (name, module)
    assert set(COMMAND_MODULES.values()) == set(COMMANDS)
