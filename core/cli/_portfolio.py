"""``portfolio``: list, show, create, trade, export, import, merge (and a few helpers)."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

from core.cli._output import CommandError, emit, open_workstation, table
from core.portfolio import lab_json_schema, to_csv, to_excel, to_json
from core.risk import checked_trade

EXPORTERS = {"json": lambda d: to_json(d).encode(), "csv": to_csv, "xlsx": to_excel}


def register(commands, shared) -> None:
    portfolio = commands.add_parser("portfolio", help="virtual portfolios", parents=[shared])
    sub = portfolio.add_subparsers(dest="action", metavar="ACTION", required=True)

    def add(name: str, handler, help_text: str):
        parser = sub.add_parser(name, help=help_text, parents=[shared])
        parser.set_defaults(handler=handler)
        return parser

    add("list", list_portfolios, "every portfolio with equity and P&L")
    add("show", show_portfolio, "summary, positions and recent trades").add_argument("name")
    create = add("create", create_portfolio, "a new portfolio with starting cash")
    create.add_argument("name")
    create.add_argument("--cash", type=float, default=100_000.0)
    create.add_argument("--currency", default="USD")
    create.add_argument("--allow-short", action="store_true")
    create.add_argument("--margin", action="store_true", help="allow buying beyond cash")
    create.add_argument("--description", default="")
    trade = add("trade", trade_portfolio, "book a filled buy or sell")
    trade.add_argument("name")
    trade.add_argument("--symbol", required=True)
    trade.add_argument("--side", required=True, choices=["buy", "sell"])
    trade.add_argument("--qty", type=float, required=True)
    trade.add_argument("--price", type=float, help="default: the last known price")
    trade.add_argument("--commission", type=float, default=0.0)
    trade.add_argument("--fees", type=float, default=0.0)
    trade.add_argument("--time", type=datetime.fromisoformat, help="ISO time (default: now, UTC)")
    trade.add_argument("--order-id", help="client order id; a repeat is not booked twice")
    export = add("export", export_portfolio, "write the lab JSON, CSV or Excel file")
    export.add_argument("name")
    export.add_argument("--format", choices=list(EXPORTERS), default="json")
    export.add_argument("--out", type=Path, help="file to write (JSON goes to stdout without it)")
    export.add_argument("--no-trades", action="store_true", help="leave out the trade history")
    imp = add("import", import_portfolio, "create a portfolio from a lab JSON file")
    imp.add_argument("file", type=Path)
    imp.add_argument("--name", help="name for the new portfolio (default: the file's)")
    merge = add("merge", merge_portfolios, "combine two portfolios into a new or existing one")
    merge.add_argument("first")
    merge.add_argument("second")
    merge.add_argument("--into", required=True, help="target portfolio (created when new)")
    rename = add("rename", rename_portfolio, "rename a portfolio")
    rename.add_argument("name")
    rename.add_argument("new_name")
    add("delete", delete_portfolio, "delete a portfolio and its history").add_argument("name")
    cash = add("cash", cash_portfolio, "deposit (positive) or withdraw (negative) cash")
    cash.add_argument("name")
    cash.add_argument("amount", type=float)
    add("schema", print_schema, "print the lab format's JSON Schema")


def list_portfolios(args) -> None:
    frame = open_workstation(args).portfolios.list()
    emit(args, {"portfolios": frame}, table(frame))


def show_portfolio(args) -> None:
    ws = open_workstation(args)
    summary = ws.portfolios.summary(args.name).to_dict()
    positions = ws.portfolios.positions(args.name)
    trades = ws.portfolios.trades(args.name)
    payload = {
        **summary,
        "positions": positions,
        "n_trades": len(trades),
        "recent_trades": trades.tail(10),
    }
    lines = [f"{k}: {v}" for k, v in summary.items() if k != "target_weights"]
    emit(args, payload, "\n".join(lines) + "\n\nPositions\n" + table(positions))


def create_portfolio(args) -> None:
    ws = open_workstation(args)
    ws.portfolios.create(
        args.name,
        args.cash,
        base_currency=args.currency,
        allow_short=args.allow_short,
        allow_margin=args.margin,
        description=args.description,
    )
    emit(
        args,
        ws.portfolios.summary(args.name).to_dict(),
        f"created {args.name!r} with {args.cash:,.2f}",
    )


def trade_portfolio(args) -> None:
    ws = open_workstation(args)
    result, report = checked_trade(  # through the portfolio's pre-trade checks
        ws,
        args.name,
        args.symbol,
        args.side,
        args.qty,
        args.price,
        commission=args.commission,
        fees=args.fees,
        ts=args.time,
        client_order_id=args.order_id,
    )
    for r in report.results if report else ():  # stderr: the JSON keeps its contract
        if r.outcome == "warn":
            print(f"pre-trade warning ({r.rule}): {r.message}", file=sys.stderr)
    payload = {
        **result.__dict__,
        "side": str(result.side),
        "equity": ws.portfolios.summary(args.name).equity,
    }
    verb = "already booked" if result.duplicate else "filled"
    emit(
        args,
        payload,
        f"{verb}: {result.side} {result.quantity:g} {result.symbol} "
        f"@ {result.price:,.4f}; cash {result.cash_after:,.2f}",
    )


def export_portfolio(args) -> None:
    lab = open_workstation(args).lab
    document = lab.export_portfolio(args.name, include_trades=not args.no_trades)
    content = EXPORTERS[args.format](document)
    if args.out is None:
        if args.format != "json":
            raise CommandError(f"--format {args.format} needs --out FILE")
        print(content.decode())
        return
    args.out.write_bytes(content)
    emit(
        args,
        {"path": str(args.out), "format": args.format, "bytes": len(content)},
        f"wrote {args.out} ({len(content):,} bytes)",
    )


def import_portfolio(args) -> None:
    ws = open_workstation(args)
    name = ws.lab.import_portfolio(args.file.read_bytes(), name=args.name)
    emit(args, {"name": name, **ws.portfolios.summary(name).to_dict()}, f"imported {name!r}")


def merge_portfolios(args) -> None:
    ws = open_workstation(args)
    name = ws.lab.merge_portfolios(args.first, args.second, into=args.into)
    emit(
        args,
        ws.portfolios.summary(name).to_dict(),
        f"merged {args.first!r} and {args.second!r} into {name!r}",
    )


def rename_portfolio(args) -> None:
    open_workstation(args).portfolios.rename(args.name, args.new_name)
    emit(args, {"name": args.new_name, "previous": args.name}, f"renamed to {args.new_name!r}")


def delete_portfolio(args) -> None:
    open_workstation(args).portfolios.delete(args.name)
    emit(args, {"deleted": args.name}, f"deleted {args.name!r}")


def cash_portfolio(args) -> None:
    ws = open_workstation(args)
    ws.portfolios.cash_movement(args.name, args.amount)
    emit(
        args,
        ws.portfolios.summary(args.name).to_dict(),
        f"cash is now {ws.portfolios.ledger(args.name).cash:,.2f}",
    )


def print_schema(args) -> None:
    print(json.dumps(lab_json_schema(), indent=2))
