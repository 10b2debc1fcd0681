"""``autopilot``: run the loop once, on a schedule, over history; its regimes, rules and log."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from core.cli._output import CommandError, emit, open_workstation


def register(commands, shared) -> None:
    parser = commands.add_parser(
        "autopilot",
        help="regime → strategy → ML/RL weights → risk approval → dry-run or paper",
        description="The autopilot: read the market regime, pick a strategy by the rules "
        "table, build target weights, approve them against the account's risk limits and "
        "log (dry-run) or book (paper) the trades. Idempotent per account and date.",
        parents=[shared],
    )
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    run = sub.add_parser("run", help="run the loop once on an account", parents=[shared])
    run.add_argument("--account", required=True, help="portfolio the autopilot manages")
    run.add_argument("--mode", choices=["dry-run", "paper"], default="dry-run")
    run.add_argument("--as-of", dest="as_of", help="decide on data up to this date (YYYY-MM-DD)")
    run.add_argument("--force", action="store_true", help="decide again on a date already settled")
    run.add_argument("--mock", action="store_true", help="plain fallbacks instead of ML/RL")
    run.set_defaults(handler=autopilot_run)
    _register_schedule(sub, shared)
    test = sub.add_parser("backtest", help="simulate the loop over history", parents=[shared])
    test.add_argument("--start", required=True, help="first day (YYYY-MM-DD)")
    test.add_argument("--end", required=True, help="last day (YYYY-MM-DD)")
    test.add_argument("--mock", action="store_true", help="ML and RL replaced by plain rules")
    test.add_argument("--cash", type=float, default=100_000.0, help="starting cash")
    test.add_argument("--account", help="whose risk limits apply (default: the defaults)")
    test.set_defaults(handler=autopilot_backtest)
    regime = sub.add_parser("regime", help="the market regime on a day", parents=[shared])
    regime.add_argument("--as-of", dest="as_of", help="day (default: today)")
    regime.add_argument("--start", help="compute and store every day from START to --as-of")
    regime.set_defaults(handler=autopilot_regime)
    rules = sub.add_parser("rules", help="show, set or reset the rules table", parents=[shared])
    rules.add_argument("--set", dest="set_file", metavar="FILE", help="a rules table as JSON")
    rules.add_argument("--reset", action="store_true", help="back to the defaults")
    rules.set_defaults(handler=autopilot_rules)
    log = sub.add_parser("log", help="the rebalancing log", parents=[shared])
    log.add_argument("--account", help="one account's runs")
    log.add_argument("--limit", type=int, default=20)
    log.set_defaults(handler=autopilot_log)


def _register_schedule(sub, shared) -> None:
    schedule = sub.add_parser(
        "schedule",
        help="a long-lived worker running the loop on a cron schedule",
        description="Runs until stopped ('autopilot stop' or the page): runs missed while it "
        "was down are caught up once at start. Cron fields: minute hour day month weekday "
        "(Sunday = 0), in --timezone.",
        parents=[shared],
    )
    schedule.add_argument("--account", required=True)
    schedule.add_argument("--cron", required=True, help='e.g. "30 16 * * 1-5"')
    schedule.add_argument("--mode", choices=["dry-run", "paper"], default="dry-run")
    schedule.add_argument("--timezone", default="America/New_York")
    schedule.add_argument("--poll", type=float, default=2.0, help=argparse.SUPPRESS)
    schedule.set_defaults(handler=autopilot_schedule)
    stop = sub.add_parser("stop", help="ask an account's schedule worker to stop", parents=[shared])
    stop.add_argument("--account", required=True)
    stop.set_defaults(handler=autopilot_stop)
    status = sub.add_parser("status", help="an account's schedule worker", parents=[shared])
    status.add_argument("--account", required=True)
    status.set_defaults(handler=autopilot_status)


def autopilot_run(args) -> None:
    ws = open_workstation(args)
    try:
        result = ws.autopilot.run(
            args.account, args.mode, args.as_of, force=args.force, mock=args.mock, actor="cli"
        )
    finally:
        ws.close()
    emit(args, result, _run_text(result))


def _run_text(r: dict) -> str:
    regime = r["regime"]
    lines = [
        f"{r.get('account', '')} {r['as_of']} [{r['mode']}]: {r['status']}",
        f"regime {regime['label']} (confidence {regime['confidence']:.2f}; "
        f"HMM {regime['hmm']['label']})",
        f"strategy {r['strategy']} (confidence {r['confidence']:.2f}): {r.get('reason', '')}",
        f"risk: {r['risk']['status']}",
    ]
    lines += [f"  {c['rule']}: {c['outcome']} — {c['message']}" for c in r["risk"]["checks"]]
    lines += [f"  fallback: {f}" for f in r["proposal"]["fallbacks"]]
    lines.append("trades:" if r["trades"] else "trades: none")
    for t in r["trades"]:
        lines.append(
            f"  {t['side']:<4} {t['quantity']:>8g} {t['symbol']:<6} ~{t['est_price']:,.2f}"
        )
    lines.append(f"value {r['value_before']:,.2f} → {r['value_after']:,.2f}; fills {r['n_fills']}")
    return "\n".join(lines)


def autopilot_schedule(args) -> None:
    from core.autopilot import ScheduleWorker

    ws = open_workstation(args)
    try:
        worker = ScheduleWorker(
            ws.autopilot.schedules,
            lambda: ws.autopilot.run(args.account, args.mode, actor="schedule"),
            account=args.account,
            mode=args.mode,
            cron=args.cron,
            timezone=args.timezone,
            poll=args.poll,
        )
        ws.portfolios.ledger(args.account)  # an unknown account is refused before serving
        worker.serve()
        status = ws.autopilot.schedule_status(args.account)
    finally:
        ws.close()
    emit(args, status or {}, f"schedule of {args.account} stopped")


def autopilot_stop(args) -> None:
    ws = open_workstation(args)
    try:
        asked = ws.autopilot.stop_schedule(args.account)
    finally:
        ws.close()
    text = "stop requested" if asked else f"no running schedule for {args.account}"
    emit(args, {"account": args.account, "stop_requested": asked}, text)


def autopilot_status(args) -> None:
    ws = open_workstation(args)
    try:
        status = ws.autopilot.schedule_status(args.account)
    finally:
        ws.close()
    if status is None:
        raise CommandError(f"--account: no schedule for {args.account!r}")
    emit(args, status)


def autopilot_backtest(args) -> None:
    ws = open_workstation(args)
    try:
        result = ws.autopilot.backtest(
            args.start, args.end, mock=args.mock, starting_cash=args.cash, account=args.account
        )
    finally:
        ws.close()
    emit(args, result, _backtest_text(result))


def _backtest_text(r: dict) -> str:
    rows = [("autopilot" + (" (mock)" if r["mock"] else ""), r["metrics"])]
    rows += [(name, m) for name, m in r["baselines"].items()]
    lines = [f"{r['start']} .. {r['end']}, {r['cadence']} rebalancing, with costs"]
    lines.append(
        f"{'':<18}{'total':>9}{'CAGR':>8}{'vol':>8}{'Sharpe':>8}{'max DD':>8}{'costs':>10}"
    )
    for name, m in rows:
        lines.append(
            f"{name:<18}{m['total_return']:>9.2%}{m['cagr']:>8.2%}{m['volatility']:>8.2%}"
            f"{m['sharpe']:>8.2f}{m['max_drawdown']:>8.2%}{m['costs']:>10,.0f}"
        )
    lines.append(
        "strategies: " + ", ".join(f"{k} {v}" for k, v in r["metrics"]["strategies"].items())
    )
    return "\n".join(lines)


def autopilot_regime(args) -> None:
    ws = open_workstation(args)
    try:
        if args.start:
            frame = ws.autopilot.regime_history(args.start, args.as_of)
            payload = {"stored": len(frame), "regimes": frame.to_dict(orient="records")}
            text = f"{len(frame)} daily regimes stored"
        else:
            payload = ws.autopilot.regime(args.as_of).to_dict()
            text = None
    finally:
        ws.close()
    emit(args, payload, text)


def autopilot_rules(args) -> None:
    from core.autopilot import DEFAULT_RULES

    ws = open_workstation(args)
    try:
        if args.set_file:
            try:
                data = json.loads(Path(args.set_file).read_text())
            except json.JSONDecodeError as exc:
                raise CommandError(f"--set: {args.set_file} is not JSON ({exc.msg})") from None
            table = ws.autopilot.save_rules(data, actor="cli")
        elif args.reset:
            table = ws.autopilot.save_rules(DEFAULT_RULES, actor="cli")
        else:
            table = ws.autopilot.rules()
    finally:
        ws.close()
    emit(args, table.model_dump(mode="json"))


def autopilot_log(args) -> None:
    ws = open_workstation(args)
    try:
        frame = ws.autopilot.log(args.account, args.limit)
    finally:
        ws.close()
    emit(args, {"runs": frame.to_dict(orient="records")}, frame.to_string(index=False))
