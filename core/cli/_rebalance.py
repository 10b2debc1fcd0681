"""``rebalance``: is a stored portfolio due a rebalance, which orders, at what cost; execute."""

from __future__ import annotations

from core.cli._output import emit, open_workstation
from core.execution import CommissionModel, SlippageModel
from core.rebalance import RebalancePolicy


def register(commands, shared) -> None:
    parser = commands.add_parser(
        "rebalance",
        help="drift of a portfolio against its target weights, the orders and their costs",
        description="Compare a portfolio's weights at the last known prices with the target "
        "weights set on the Allocation page. A drift of at least --abs (absolute) or --rel × "
        "target (relative) makes a rebalance due. Orders reach the targets in whole quantity "
        "steps; costs are commission + slippage. --execute books them (sales first).",
        parents=[shared],
    )
    parser.add_argument("--portfolio", required=True, help="portfolio name")
    parser.add_argument("--abs", type=float, default=0.05, help="absolute band (0.05 = 5 pp)")
    parser.add_argument("--rel", type=float, default=0.20, help="relative band (0.2 = 20 %%)")
    parser.add_argument(
        "--schedule",
        choices=["none", "monthly", "quarterly"],
        default="none",
        help="also due in a new month or quarter since the last rebalance",
    )
    parser.add_argument("--min-interval", type=int, default=0, help="business days between")
    parser.add_argument("--drawdown-trigger", action="store_true", help="due on a level change")
    parser.add_argument("--vol-bound", type=float, default=0.0, help="annualised, 0 = off")
    parser.add_argument("--commission", type=float, default=0.0, help="rate of notional")
    parser.add_argument("--slippage-bps", type=float, default=0.0, help="basis points")
    parser.add_argument("--execute", action="store_true", help="book the orders")
    parser.set_defaults(handler=rebalance)


def rebalance(args) -> None:
    policy = RebalancePolicy(
        abs_threshold=args.abs,
        rel_threshold=args.rel,
        schedule=args.schedule,
        min_interval_bars=args.min_interval,
        drawdown_trigger=args.drawdown_trigger,
        vol_bound=args.vol_bound,
    )
    costs = {
        "commission": CommissionModel(rate=args.commission),
        "slippage": SlippageModel(bps=args.slippage_bps),
    }
    ws = open_workstation(args)
    try:
        plan = ws.rebalance.plan(args.portfolio, policy, **costs)
        executed = None
        if args.execute:
            executed = ws.rebalance.execute(args.portfolio, plan, actor="cli")
    finally:
        ws.close()
    payload = {**plan.to_dict(), "executed": executed is not None}
    emit(args, payload, _text(payload))


def _text(p: dict) -> str:
    due = "due" if p["rebalance"] else "not due"
    lines = [f"{p['portfolio']}: rebalance {due}; equity {p['equity']:,.2f}"]
    lines += [f"  reason: {r}" for r in p["reasons"]]
    if p["blocked_by"]:
        lines.append(f"  held back: {p['blocked_by']}")
    lines.append("symbol     weight   target    drift")
    for symbol, drift in p["drifts"].items():
        target = p["targets"].get(symbol, 0.0)
        lines.append(f"{symbol:<8} {target + drift:>8.2%} {target:>8.2%} {drift * 100:>+7.2f} pp")
    lines.append("orders:" if p["orders"] else "orders: none")
    for o in p["orders"]:
        lines.append(
            f"  {o['side']:<4} {o['quantity']:>10g} {o['symbol']:<8} at ~{o['est_price']:,.4f}"
            f"  cost {o['est_cost']:,.2f}"
        )
    lines.append(f"total estimated cost {p['total_cost']:,.2f}")
    if p["executed"]:
        lines.append("executed: orders booked, rebalance recorded in the audit log")
    return "\n".join(lines)
