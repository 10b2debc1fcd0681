"""``data``: list, show and import market data."""

from __future__ import annotations

from pathlib import Path

from core.cli._output import emit, open_workstation, table
from core.instruments import AssetClass


def register(commands, shared) -> None:
    data = commands.add_parser("data", help="market data: list, show, import", parents=[shared])
    sub = data.add_subparsers(dest="action", metavar="ACTION", required=True)
    sub.add_parser("list", help="bundled and imported symbols", parents=[shared]).set_defaults(
        handler=list_symbols
    )
    show = sub.add_parser("show", help="one symbol's range and latest bars", parents=[shared])
    show.add_argument("symbol")
    show.add_argument("--start")
    show.add_argument("--end")
    show.add_argument("--tail", type=int, default=10, help="how many latest bars to print")
    show.set_defaults(handler=show_symbol)
    imp = sub.add_parser(
        "import", help="validate and store a CSV or Parquet file", parents=[shared]
    )
    imp.add_argument("file", type=Path)
    imp.add_argument("--symbol", required=True)
    imp.add_argument("--asset-class", default="stock", choices=[a.value for a in AssetClass])
    imp.add_argument("--adjusted", action="store_true", help="use 'Adj Close' and scale OHLC")
    imp.add_argument("--replace", action="store_true", help="overwrite the symbol's stored bars")
    imp.set_defaults(handler=import_file)


def list_symbols(args) -> None:
    frame = open_workstation(args).market.symbols()
    emit(args, {"symbols": frame}, table(frame))


def show_symbol(args) -> None:
    ws = open_workstation(args)
    bars = ws.market.bars(args.symbol, args.start, args.end)
    instrument = ws.market.instrument(args.symbol)
    latest = bars.tail(max(args.tail, 0)).reset_index()
    payload = {
        "symbol": args.symbol,
        "instrument": instrument.model_dump(mode="json") if instrument else None,
        "start": bars.index[0] if len(bars) else None,
        "end": bars.index[-1] if len(bars) else None,
        "bars": len(bars),
        "last_close": float(bars["close"].iloc[-1]) if len(bars) else None,
        "rows": latest,
    }
    head = {k: v for k, v in payload.items() if k not in ("rows", "instrument")}
    emit(args, payload, "\n".join(f"{k}: {v}" for k, v in head.items()) + "\n" + table(latest))


def import_file(args) -> None:
    report = open_workstation(args).market.import_file(
        args.file,
        args.symbol,
        filename=args.file.name,
        asset_class=args.asset_class,
        use_adjusted=args.adjusted,
        replace=args.replace,
    )
    payload = {
        "symbol": report.symbol,
        "rows": report.rows,
        "start": report.start,
        "end": report.end,
        "has_ohlc": report.has_ohlc,
        "replaced": report.replaced,
    }
    emit(
        args,
        payload,
        f"imported {report.rows} bars of {report.symbol} "
        f"({report.start:%Y-%m-%d} to {report.end:%Y-%m-%d})",
    )
