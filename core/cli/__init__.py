"""``python -m core``: the workstation's jobs from a terminal, ``--json`` for scripts.

Errors: a refusal prints ``command: message`` on stderr (and ``{"error": ...}`` on stdout with
``--json``) and exits 1; an unexpected error prints one line with a reference and writes its
traceback to ``data/logs/cli-errors.log``; a closed pipe (``| head``) ends quietly. Commands
keep their own exit codes (``audit verify`` exits 2 on a broken chain).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from core import errors
from core._processes import lower_priority
from core.cli._output import (
    CommandError as CommandError,
)
from core.cli._output import (
    check_dates,
    command_name,
    emit_error,
    emit_unexpected,
)

# the command modules, in help order; each is imported only when its command runs (or for
# ``--help``): a worker (``paper run``, ``optimize-worker``) starts without importing the rest
COMMANDS = (
    "_data",
    "_portfolio",
    "_backtest",
    "_metrics",
    "_montecarlo",
    "_optimize",
    "_regime",
    "_features",
    "_paper",
    "_risk",
    "_audit",
    "_allocate",
    "_rebalance",
    "_tasks",
    "_options",
    "_ml",
    "_api",
    "_rl",
    "_autopilot",
)
# each top-level command and the module that registers it
COMMAND_MODULES = {
    "data": "_data",
    "portfolio": "_portfolio",
    "backtest": "_backtest",
    "strategies": "_backtest",
    "metrics": "_metrics",
    "montecarlo": "_montecarlo",
    "optimize": "_optimize",
    "optimize-allocation": "_optimize",
    "optimize-worker": "_optimize",
    "regime": "_regime",
    "features": "_features",
    "paper": "_paper",
    "risk": "_risk",
    "audit": "_audit",
    "allocate": "_allocate",
    "rebalance": "_rebalance",
    "autopilot": "_autopilot",
    "tasks": "_tasks",
    "task-worker": "_tasks",
    "options": "_options",
    "fx": "_options",
    "futures": "_options",
    "ml": "_ml",
    "api": "_api",
    "rl": "_rl",
}


def _modules_for(argv: list[str] | None) -> tuple[str, ...]:
    """The command modules ``argv`` needs: its command's alone, or all (help, an unknown name)."""
    if argv is None:
        return COMMANDS
    args = iter(argv)
    for token in args:
        if token == "--db":
            next(args, None)
        elif not token.startswith("-"):
            module = COMMAND_MODULES.get(token)
            return (module,) if module else COMMANDS
    return COMMANDS


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The ``python -m core`` parser: global options and the commands' subparsers.

    With ``argv``, only the module of the command it names is imported and registered (all of
    them when it names none, or one that does not exist, so help and errors list them all).
    """
    parser = argparse.ArgumentParser(
        prog="python -m core",
        description="Quant workstation: market data, portfolios, backtests, paper trading.",
    )
    parser.add_argument(
        "--db",
        metavar="URL",
        help="SQLAlchemy database URL "
        "(default: $WORKSTATION_DATABASE_URL or sqlite:///data/workstation.db)",
    )
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")
    shared = argparse.ArgumentParser(add_help=False)
    shared.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print machine-readable JSON"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in _modules_for(argv):
        importlib.import_module(f"core.cli.{name}").register(commands, shared)
    return parser


# the workstation's own refusals (and pydantic's) and a file that cannot be read or written
REFUSALS = (*errors.REFUSALS, OSError)


def main(argv: list[str] | None = None) -> int:
    """Run one command; the exit status.

    Parameters
    ----------
    argv : list of str, optional
        The arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success, 1 for a refusal (``command: where: what is wrong`` on standard error,
        ``{"error": ...}`` with ``--json``) or an unexpected error (a reference to the log).
    """
    if argv is None:
        argv = sys.argv[1:]
    lower_priority()  # a spawned worker yields the CPU to the app that launched it
    args = build_parser(argv).parse_args(argv)
    command = command_name(args)
    try:
        check_dates(args)
        code = args.handler(args)  # a handler may return an exit status
        sys.stdout.flush()  # a closed pipe shows here, not at exit
    except BrokenPipeError:
        return _closed_pipe()
    except REFUSALS as exc:
        return emit_error(exc, args.json, command)
    except Exception as exc:  # a defect: one line for the user, the traceback to the log
        return emit_unexpected(exc, args.json, command)
    return code if isinstance(code, int) else 0


def _closed_pipe() -> int:
    """The reader went away (``python -m core ... | head``): stop quietly.

    Python's documented recipe (the ``signal`` module's notes on SIGPIPE): point stdout at
    devnull so the interpreter's final flush does not fail again, and exit 1.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a real file (tests capture it)
        pass
    return 1


if __name__ == "__main__":
    sys.exit(main())
