"""``paper``: run a paper-trading session (or resume it), read its status, send commands."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from core._kv import parse_pairs, split_pair
from core.backtest import RiskOverlay
from core.cli._backtest import (
    add_execution_options,
    add_risk_options,
    default,
    execution_from_args,
    risk_from_args,
)
from core.cli._output import CommandError, emit, open_workstation, table
from core.paper import (
    FeedConfig,
    PaperError,
    PaperServiceError,
    SessionConfig,
    SleeveConfig,
    parse_speed,
)
from core.strategies import get_strategy, parse_overrides, strategy_configs

MAX_SPEED = "max"  # --speed's default: SessionConfig.speed None, as fast as the feed goes


def register(commands, shared) -> None:
    paper = commands.add_parser("paper", help="live paper trading sessions", parents=[shared])
    sub = paper.add_subparsers(dest="paper_command", metavar="ACTION", required=True)

    def add(name, handler, text):
        parser = sub.add_parser(name, help=text, parents=[shared])
        parser.set_defaults(handler=handler)
        return parser

    run = add("run", run_session, "start a session, or resume it when it exists")
    run.add_argument("--session", required=True)
    run.add_argument("--strategy", action="append", help="strategy name (repeatable)")
    run.add_argument(
        "--config",
        action="append",
        metavar="NAME",
        help="a saved strategy configuration (from the Optimize page; repeatable)",
    )
    run.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="[STRATEGY:]KEY=VALUE",
        help="a parameter of the (first, or named) strategy",
    )
    run.add_argument(
        "--allocation",
        action="append",
        type=float,
        help="share of the cash per strategy, in order (default: equal shares)",
    )
    source = run.add_mutually_exclusive_group()
    source.add_argument("--symbol", action="append", help="bundled or imported symbol")
    source.add_argument("--data", type=Path, help="CSV or Parquet file of bars to replay")
    run.add_argument(
        "--feed",
        choices=["replay", "synthetic", "yahoo"],
        default=default(FeedConfig, "kind"),
        help="yahoo: live bars polled from Yahoo Finance (needs WORKSTATION_ALLOW_NETWORK=1)",
    )
    run.add_argument(
        "--interval",
        default=default(FeedConfig, "interval"),
        help="live feed bar interval (1m … 60m, 1d)",
    )
    run.add_argument(
        "--poll-seconds",
        type=float,
        default=default(FeedConfig, "poll_seconds"),
        help="live feed polling",
    )
    run.add_argument("--speed", default=MAX_SPEED, help="'max' or N × real time")
    run.add_argument("--start", help="first date to replay (YYYY-MM-DD)")
    run.add_argument("--end", help="last date to replay (YYYY-MM-DD)")
    run.add_argument(
        "--preset", choices=["equity", "crypto", "forex"], default=default(FeedConfig, "preset")
    )
    run.add_argument(
        "--seed", type=int, default=default(FeedConfig, "seed"), help="synthetic market seed"
    )
    run.add_argument(
        "--events",
        type=int,
        default=default(FeedConfig, "events"),
        help="synthetic ticks to generate",
    )
    run.add_argument("--cash", type=float, default=default(SessionConfig, "cash"))
    add_execution_options(run)
    run.add_argument("--portfolio", help="portfolio to trade (default 'Paper · SESSION')")
    add_risk_options(run)
    run.add_argument(
        "--regime-states",
        type=int,
        default=default(SessionConfig, "regime_states"),
        help="HMM states (0: off)",
    )
    run.add_argument("--max-events", type=int, help="stop after this many new events")
    run.add_argument("--create-only", action="store_true", help="store the session, do not run")

    status = add("status", session_status, "a session's equity, cash, positions and fills")
    status.add_argument("--session", required=True)

    add("list", list_sessions, "sessions and their state")

    for kind in ("pause", "resume", "stop"):
        cmd = add(kind, send_simple, f"{kind} a running session")
        cmd.add_argument("--session", required=True)
        cmd.set_defaults(kind=kind)

    order = add("order", send_order, "a manual order (through the pre-trade checks)")
    order.add_argument("--session", required=True)
    order.add_argument("--side", choices=["buy", "sell"], required=True)
    order.add_argument("--quantity", type=float, required=True)
    order.add_argument("--symbol")
    order.add_argument(
        "--type", choices=["market", "limit", "stop", "stop_limit"], default="market"
    )
    order.add_argument("--limit-price", type=float)
    order.add_argument("--stop-price", type=float)
    order.add_argument("--strategy", help="the strategy's sleeve that trades it (default first)")

    cancel = add("cancel", send_cancel, "cancel an open order")
    cancel.add_argument("--session", required=True)
    cancel.add_argument("--order-id", type=int, required=True)
    cancel.add_argument("--strategy")

    params = add("params", send_params, "change a running strategy's parameters")
    params.add_argument("--session", required=True)
    params.add_argument("--strategy")
    params.add_argument("--param", action="append", required=True, metavar="KEY=VALUE")

    rec = add("reconcile", reconcile, "replay the recorded bars through the backtester")
    rec.add_argument("--session", required=True)

    export = add("export", export_session, "the session's portfolio in the lab format")
    export.add_argument("--session", required=True)
    export.add_argument("--out", type=Path)

    remove = add("delete", delete_session, "delete a stopped session (its portfolio stays)")
    remove.add_argument("--session", required=True)


def _config(args, sessions) -> SessionConfig:
    names = list(args.strategy or [])
    saved_params: dict[int, dict] = {}
    if args.config:
        saved = {c["name"]: c for c in strategy_configs(sessions)}
        for name in args.config:
            if name not in saved:
                known = ", ".join(sorted(saved)) or "none saved yet"
                raise CommandError(f"no saved strategy configuration {name!r} ({known})")
            saved_params[len(names)] = saved[name]["params"]
            names.append(saved[name]["strategy"])
    if not names:
        raise CommandError("a new session needs --strategy or --config")
    keys, sleeves = [], []
    allocations = args.allocation or [round(1 / len(names), 12)] * len(names)
    if len(allocations) != len(names):
        raise CommandError(f"{len(names)} strategies but {len(allocations)} allocations")
    by_key: dict[str, list[str]] = {}
    for item in args.param:
        head, _, rest = item.partition(":") if ":" in item.split("=")[0] else ("", "", item)
        by_key.setdefault(head, []).append(rest)
    for name, allocation in zip(names, allocations, strict=True):
        key = name if name not in keys else f"{name}#{keys.count(name) + 1}"
        cls = get_strategy(name)
        overrides = by_key.get(key, []) + (by_key.get("", []) if not keys else [])
        if len(keys) in saved_params:  # a saved configuration, --param on top of it
            given = parse_pairs(overrides, value=_scalar)
            params = cls.Params.model_validate({**saved_params[len(keys)], **given})
        else:
            params = parse_overrides(cls.Params, overrides)
        keys.append(key)
        sleeves.append(
            SleeveConfig(
                key=key, strategy=name, params=params.model_dump(mode="json"), allocation=allocation
            )
        )
    execution = execution_from_args(args)
    symbols = tuple(s.strip().upper() for arg in args.symbol or [] for s in arg.split(","))
    feed = FeedConfig(
        kind=args.feed,
        symbols=symbols,
        data_file=str(args.data) if args.data else None,
        start=args.start,
        end=args.end,
        preset=args.preset,
        seed=args.seed,
        events=args.events,
        interval=args.interval,
        poll_seconds=args.poll_seconds,
    )
    return SessionConfig(
        sleeves=tuple(sleeves),
        feed=feed,
        cash=args.cash,
        execution=execution,
        speed=parse_speed(args.speed),
        risk=risk_from_args(args),
        regime_states=args.regime_states or None,
    )


def run_session(args) -> None:
    ws = open_workstation(args)
    paper = ws.paper
    created = False
    if args.max_events is not None and args.max_events < 1:
        raise CommandError(f"--max-events: must be at least 1, got {args.max_events}")
    try:
        if not paper.exists(args.session):
            paper.create(args.session, _config(args, ws.sessions), portfolio=args.portfolio)
            created = True
        elif args.strategy or args.config:
            # a session that never traded takes the corrected flags; one that did keeps its own
            row = paper.check_can_run(args.session)
            if not row.events and paper.reconfigure(args.session, _config(args, ws.sessions)):
                _note(args, f"{args.session!r} had not traded: it now uses the flags given")
            elif row.events:
                _note(args, f"resuming {args.session!r}: its stored configuration is used")
    except (PaperError, PaperServiceError) as exc:
        raise CommandError(f"paper run: {exc}") from exc
    if args.create_only:
        emit(args, {"session": args.session, "created": created, **paper.status(args.session)})
        return
    try:
        paper.check_can_run(args.session)
        log = None if args.json else (lambda m: print(m, file=sys.stderr, flush=True))
        worker = paper.worker(args.session, log=log)
        worker.run(max_events=args.max_events)
    except (PaperError, PaperServiceError) as exc:
        raise CommandError(f"paper run: {exc}") from exc
    status = paper.status(args.session)
    emit(args, {"created": created, **status}, _status_text(status))


def _note(args, text: str) -> None:
    if not args.json:
        print(text, file=sys.stderr)


def _status_text(status: dict) -> str:
    lines = [
        f"session {status['session']} ({status['status']}), portfolio {status['portfolio']}",
        f"events {status['events']:,} of {status['n_events'] or '?'}; last {status['last_ts']}",
        f"equity {status['equity']:,.2f}  cash {status['cash']:,.2f}  "
        f"P&L {status['pnl']:+,.2f}  fills {status['n_fills']}",
        f"drawdown {status['drawdown']:.2%}  regime {status['regime'] or '—'}",
    ]
    if status.get("risk"):
        lines.append(RiskOverlay.model_validate(status["risk"]).describe())
    if status["positions"]:
        lines.append("positions " + ", ".join(f"{s} {q:g}" for s, q in status["positions"].items()))
    for key, sleeve in status["strategies"].items():
        lines.append(
            f"  {key}: equity {sleeve['equity']:,.2f}, P&L {sleeve['pnl']:+,.2f}, "
            f"{sleeve['n_fills']} fills"
        )
    if status.get("error"):
        lines.append(f"error: {status['error']}")
    return "\n".join(lines)


def session_status(args) -> None:
    status = _service(args).status(args.session)
    emit(args, status, _status_text(status))


def list_sessions(args) -> None:
    frame = _service(args).list()
    emit(args, {"sessions": frame}, table(frame) if len(frame) else "no paper sessions")


def _service(args):
    return open_workstation(args).paper


def _send(args, kind: str, payload: dict) -> None:
    try:
        command_id = _service(args).send(args.session, kind, payload)
    except PaperServiceError as exc:
        raise CommandError(str(exc)) from exc
    emit(
        args,
        {"session": args.session, "command": kind, "id": command_id, "payload": payload},
        f"{kind} queued as command {command_id}; the session's worker applies it",
    )


def send_simple(args) -> None:
    _send(args, args.kind, {})


def send_order(args) -> None:
    payload = {"side": args.side, "quantity": args.quantity, "type": args.type}
    for key in ("symbol", "strategy", "limit_price", "stop_price"):
        value = getattr(args, key)
        if value is not None:
            payload[key] = value
    _send(args, "order", payload)


def send_cancel(args) -> None:
    payload = {"order_id": args.order_id}
    if args.strategy:
        payload["strategy"] = args.strategy
    _send(args, "cancel", payload)


def send_params(args) -> None:
    ws = open_workstation(args)
    config = ws.paper.config(args.session)
    sleeve = next((s for s in config.sleeves if s.key == args.strategy), None)
    if sleeve is None and args.strategy:
        raise CommandError(f"no strategy {args.strategy!r} in session {args.session!r}")
    sleeve = sleeve or config.sleeves[0]
    cls = get_strategy(sleeve.strategy)
    changes = {}
    for item in args.param:
        key, value = split_pair(item)
        if key not in cls.Params.model_fields:
            raise CommandError(f"{sleeve.strategy} has no parameter {key!r}")
        changes[key] = _param_value(key, value)
    _send(args, "params", {"strategy": sleeve.key, "params": changes})


def _param_value(key: str, text: str):
    """A sent parameter's value: JSON for a list or an object, else :func:`_scalar`."""
    if not text.startswith(("[", "{")):
        return _scalar(text)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CommandError(f"--param {key}: not valid JSON ({exc.msg})", "--param") from None


def _scalar(text: str):
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text.lower(), text)


def reconcile(args) -> None:
    report = _service(args).reconcile(args.session)
    lines = [
        f"session {report['session']}: {report['events']} events, "
        + ("paper and backtest agree fill for fill" if report["match"] else "differences")
    ]
    for key, s in report["strategies"].items():
        lines.append(
            f"  {key}: {s['matched']} of {s['paper_fills']} paper / {s['backtest_fills']} "
            f"backtest fills match; equity paper {s['paper_equity']} backtest "
            f"{s['backtest_equity']:.2f}"
        )
    for row in report["fills"]:
        if not row["match"]:
            lines.append(
                f"  #{row['n']} {row['strategy']} event {row['event']}: paper "
                f"{row['paper']} vs backtest {row['backtest']} — {row['reason']}"
            )
    emit(args, report, "\n".join(lines))


def export_session(args) -> None:
    ws = open_workstation(args)
    document = ws.export_portfolio(ws.paper.portfolio_name(args.session))
    text = document.model_dump_json(indent=2)
    if args.out:
        args.out.write_text(text)
        emit(args, {"session": args.session, "out": str(args.out)}, f"wrote {args.out}")
    else:
        print(text)


def delete_session(args) -> None:
    try:
        _service(args).delete(args.session)
    except PaperServiceError as exc:
        raise CommandError(str(exc)) from exc
    emit(args, {"session": args.session, "deleted": True}, f"deleted {args.session}")
