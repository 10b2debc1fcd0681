"""``risk``: a portfolio's current risk, its limits and its trading state (the kill switch)."""

from __future__ import annotations

import argparse

from core.cli._output import CommandError, emit, open_workstation
from core.risk import (
    TradingState,
    load_trading_state,
    set_trading_state,
)


def register(commands, shared) -> None:
    parser = commands.add_parser(
        "risk",
        help="a portfolio's VaR/CVaR, volatility, beta, limits, drawdown and stress results",
        description="Without an action: the portfolio's current risk from its positions held "
        "fixed over past daily returns. VaR and CVaR are losses as positive fractions of "
        "equity (and in currency). Actions: 'limits' shows or sets the limits, 'state' "
        "switches the trading state.",
        parents=[shared],
    )
    parser.add_argument("--portfolio", help="portfolio name")
    parser.add_argument("--horizon", type=int, default=1, help="VaR horizon in days (default 1)")
    parser.add_argument("--lookback", type=int, default=504, help="daily returns used (504)")
    parser.add_argument("--seed", type=int, default=0, help="Monte Carlo seed")
    parser.add_argument("--sims", type=int, default=50_000, help="Monte Carlo draws (50,000)")
    parser.set_defaults(handler=risk_report)
    sub = parser.add_subparsers(dest="risk_action", metavar="ACTION")
    limits = sub.add_parser("limits", help="show or set the portfolio's limits", parents=[shared])
    limits.add_argument("--portfolio", required=True, default=argparse.SUPPRESS)
    limits.add_argument(
        "--set",
        nargs="+",
        metavar="KEY=VALUE",
        default=[],
        help="e.g. max_position_weight=0.2 min_cash=none trading_hours.stock=09:30-16:00",
    )
    limits.set_defaults(handler=risk_limits)
    state = sub.add_parser("state", help="show or switch the trading state", parents=[shared])
    state.add_argument("--portfolio", required=True, default=argparse.SUPPRESS)
    state.add_argument("state", nargs="?", choices=[s.value for s in TradingState])
    state.add_argument("--reason", default="", help="recorded in the audit log")
    state.set_defaults(handler=risk_state)


def _portfolio(args) -> str:
    if not args.portfolio:
        raise CommandError("--portfolio NAME is required")
    return args.portfolio


def risk_report(args) -> None:
    name = _portfolio(args)
    ws = open_workstation(args)
    try:
        report = ws.risk.report(
            name,
            horizon=args.horizon,
            lookback=args.lookback,
            n_sims=args.sims,
            seed=args.seed,
        )
    finally:
        ws.close()
    payload = report.to_dict()
    emit(args, payload, _report_text(payload))


def risk_limits(args) -> None:
    ws = open_workstation(args)
    try:
        changes = {}
        if args.set:  # only the limits named change (a fresh portfolio enforces no other)
            current, changes = ws.risk.update_limits(args.portfolio, args.set, actor="cli")
        else:
            current = ws.risk.limits(args.portfolio)
    finally:
        ws.close()
    payload = {"portfolio": args.portfolio, "limits": current.to_dict(), "changes": changes}
    lines = [f"{k:<20} {v}" for k, v in payload["limits"].items()]
    if args.set:
        lines.append(f"changed: {', '.join(changes) or 'nothing'}")
    emit(args, payload, "\n".join([f"limits of {args.portfolio}", *lines]))


def risk_state(args) -> None:
    ws = open_workstation(args)
    try:
        with ws.sessions.begin() as session:
            before = load_trading_state(session, args.portfolio)
            after = before
            if args.state:
                after = set_trading_state(
                    session, args.portfolio, args.state, actor="cli", reason=args.reason
                )
    finally:
        ws.close()
    payload = {"portfolio": args.portfolio, "previous": before.value, "trading_state": after.value}
    emit(args, payload, f"{args.portfolio}: trading state {after.value} (was {before.value})")


def _report_text(r: dict) -> str:
    lines = [
        f"{r['portfolio']}: equity {r['equity']:,.2f}, cash {r['cash']:,.2f}, "
        f"trading {r['trading_state']}",
    ]
    if r["var"]:
        lines.append(
            f"{r['n_observations']} daily returns to {r['as_of']:%Y-%m-%d}, horizon "
            f"{r['horizon_days']} day(s); volatility {r['volatility']:.2%} a year, beta "
            f"{r['beta']:.2f} (correlation {r['correlation']:.2f}) to {r['benchmark']}"
        )
        lines += ["", "method        level    VaR      CVaR     VaR amount    CVaR amount"]
        for v in r["var"]:
            lines.append(
                f"{v['method']:<13} {v['level']:.0%}   {v['var']:>6.2%}  {v['cvar']:>6.2%}  "
                f"{v['var_amount']:>12,.0f}  {v['cvar_amount']:>13,.0f}"
            )
    d = r["drawdown"]
    lines += [
        "",
        f"drawdown {d['drawdown']:.2%} ({d['level']}, scale {d['scale']:g}); "
        f"worst {d['max_drawdown']:.2%}",
        "",
        "limits:",
    ]
    for u in r["limit_usage"]:
        lines.append(f"  {u['outcome']:<5} {u['rule']:<20} {u['message']}")
    lines += ["", "stress:"]
    for s in r["stress"]:
        lines.append(f"  {s['scenario']:<12} {s['pnl']:>14,.0f}  {s['return']:>7.2%}")
    return "\n".join(lines)
