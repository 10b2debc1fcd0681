"""``python -m core``: the workstation's jobs from a terminal, ``--json`` for scripts."""

from __future__ import annotations

import argparse
import sys

from core.cli import (
    _allocate,
    _audit,
    _backtest,
    _data,
    _features,
    _metrics,
    _montecarlo,
    _optimize,
    _paper,
    _portfolio,
    _rebalance,
    _regime,
    _risk,
)
from core.cli._output import CommandError, emit_error

COMMANDS = (
    _data,
    _portfolio,
    _backtest,
    _metrics,
    _montecarlo,
    _optimize,
    _regime,
    _features,
    _paper,
    _risk,
    _audit,
    _allocate,
    _rebalance,
)


def build_parser() -> argparse.ArgumentParser:
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
    for module in COMMANDS:
        module.register(commands, shared)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code = args.handler(args)  # a handler may return an exit status
    except (CommandError, ValueError, KeyError, LookupError, OSError) as exc:
        return emit_error(exc, args.json)
    return code if isinstance(code, int) else 0


if __name__ == "__main__":
    sys.exit(main())
