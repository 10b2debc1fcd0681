"""``allocate``: portfolio weights by one of eight methods over a date range of closes."""

from __future__ import annotations

from pydantic import ValidationError

from core.allocation import METHODS, AllocationSpec, GroupCap
from core.cli._output import CommandError, emit, open_workstation


def register(commands, shared) -> None:
    parser = commands.add_parser(
        "allocate",
        help="portfolio weights: equal, inverse vol, min variance, mean-variance, max Sharpe, "
        "risk parity, min CVaR, HRP",
        description="Allocate across symbols from their closes between --start and --end "
        "(returns start at the second price). Long-only and fully invested; expected return "
        "and volatility are annual (mean daily return × 252, sample covariance × 252), CVaR 95 %% "
        "is the daily historical loss (positive = loss). Conventions: docs/ALLOCATION.md.",
        parents=[shared],
    )
    parser.add_argument("--method", required=True, choices=METHODS)
    parser.add_argument("--symbols", required=True, help="comma-separated, e.g. AAPL,KO,XOM")
    parser.add_argument("--start", help="first date (YYYY-MM-DD)")
    parser.add_argument("--end", help="last date (YYYY-MM-DD)")
    parser.add_argument("--max-weight", type=float, default=1.0, help="per-asset cap (default 1)")
    parser.add_argument(
        "--group-cap",
        action="append",
        default=[],
        metavar="NAME=A,B:CAP",
        help="at most CAP in symbols A,B together (repeatable), e.g. tech=AAPL,MSFT:0.4",
    )
    parser.add_argument("--target-return", type=float, help="mean_variance: annual target")
    parser.add_argument("--risk-aversion", type=float, help="mean_variance: δ (default 1)")
    parser.add_argument("--risk-free-rate", type=float, default=0.0, help="annual (default 0)")
    parser.add_argument("--shrinkage", choices=["none", "ledoit_wolf"], default="none")
    parser.add_argument("--apply-to", metavar="PORTFOLIO", help="set as its target weights")
    parser.set_defaults(handler=allocate_command)


def allocate_command(args) -> None:
    spec = _spec(args)
    ws = open_workstation(args)
    try:
        result = ws.allocation.allocate(args.symbols.split(","), spec, args.start, args.end)
        if args.apply_to:
            ws.allocation.apply(args.apply_to, result)
    finally:
        ws.close()
    payload = result.summary()
    if args.apply_to:
        payload["applied_to"] = args.apply_to
    emit(args, payload, _text(payload))


def _spec(args) -> AllocationSpec:
    try:
        return AllocationSpec(
            method=args.method,
            max_weight=args.max_weight,
            group_caps=tuple(GroupCap.parse(text) for text in args.group_cap),
            target_return=args.target_return,
            risk_aversion=args.risk_aversion,
            risk_free_rate=args.risk_free_rate,
            shrinkage=None if args.shrinkage == "none" else args.shrinkage,
        )
    except ValidationError as exc:
        problems = [
            f"--{'-'.join(str(p) for p in e['loc']).replace('_', '-')}: {e['msg']}"
            if e["loc"]
            else e["msg"].removeprefix("Value error, ")
            for e in exc.errors()
        ]
        raise CommandError("; ".join(problems)) from None


def _text(payload: dict) -> str:
    head = (
        f"{payload['method']} on {len(payload['weights'])} symbols, {payload['n_returns']} daily "
        f"returns {payload['start']} to {payload['end']}"
    )
    rows = ["symbol     weight   risk share"]
    volatility = payload["volatility"] or 1.0
    for symbol, weight in payload["weights"].items():
        share = payload["risk_contributions"][symbol] / volatility
        rows.append(f"{symbol:<8} {weight:>8.2%} {share:>12.2%}")
    measures = (
        f"expected return {payload['expected_return']:.2%}/yr   volatility "
        f"{payload['volatility']:.2%}/yr   Sharpe {payload['sharpe']:.2f}   "
        f"CVaR 95% {payload['cvar_95']:.2%}/day (loss)"
    )
    lines = [head, "", *rows, "", measures]
    if "applied_to" in payload:
        lines.append(f"target weights of {payload['applied_to']!r} set")
    return "\n".join(lines)
