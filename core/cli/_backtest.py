"""``backtest`` and ``strategies``: run a strategy over history; list what can run."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from core.analytics import METRIC_KEYS
from core.backtest import BacktestConfig, RiskOverlay
from core.cli._output import CommandError, emit, open_workstation, table
from core.errors import join_problems
from core.execution import (
    CommissionModel,
    ExecutionConfig,
    Sizing,
    SlippageModel,
    execution_config,
)
from core.strategies import get_strategy, param_space, parse_overrides, registry

TRADE_KEYS = [
    "symbol",
    "direction",
    "entry_time",
    "exit_time",
    "qty",
    "entry_price",
    "exit_price",
    "pnl",
    "pnl_net",
    "commission",
    "status",
]
SIZING = ["all_in", "fixed", "percent", "vol_target", "kelly"]
# execution_config's arguments → the options that set them
EXECUTION_OPTIONS = {
    "fill_timing": "--fill",
    "commission": "--commission",
    "slippage_bps": "--slippage-bps",
    "sizing": "--sizing",
    "size": "--size",
    "allow_short": "--allow-short",
}


def add_run_options(parser) -> None:
    """The data, cash, cost, fill and sizing options shared by backtest, montecarlo, optimize."""
    parser.add_argument("--strategy", required=True, help="see `python -m core strategies`")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--symbol", action="append", help="bundled or imported symbol (repeatable)")
    source.add_argument("--data", type=Path, help="CSV or Parquet file of bars")
    parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--start", help="first date (YYYY-MM-DD)")
    parser.add_argument("--end", help="last date (YYYY-MM-DD)")
    parser.add_argument("--cash", type=float, default=default(BacktestConfig, "cash"))
    add_execution_options(parser)


def add_execution_options(parser) -> None:
    """The cost, fill and sizing options of backtest, montecarlo, optimize and paper run.

    Their defaults are the execution models' own.
    """
    parser.add_argument(
        "--commission",
        type=float,
        default=default(CommissionModel, "rate"),
        help="fraction of notional",
    )
    parser.add_argument("--slippage-bps", type=float, default=default(SlippageModel, "bps"))
    parser.add_argument(
        "--fill",
        choices=["next_open", "same_close"],
        default=default(ExecutionConfig, "fill_timing"),
    )
    parser.add_argument("--sizing", choices=SIZING, default=default(Sizing, "method"))
    parser.add_argument("--size", type=float, help="units for fixed sizing, share for percent")
    parser.add_argument(
        "--allow-short", action=argparse_bool(), default=default(ExecutionConfig, "allow_short")
    )


def default(model, field: str):
    """A pydantic model's default for ``field`` (the command line's defaults are the models')."""
    return model.model_fields[field].default


def add_risk_options(parser) -> None:
    """The risk overlay's options, the same for ``backtest`` and ``paper run`` (all off)."""
    group = parser.add_argument_group("risk overlay (off by default)")
    group.add_argument(
        "--drawdown-control",
        action=argparse_bool(),
        default=None,
        help="scale new positions once the drawdown is critical (on when a level is given)",
    )
    group.add_argument("--drawdown-warning", type=float, help="warning level (default 0.10)")
    group.add_argument("--drawdown-critical", type=float, help="critical level (default 0.20)")
    group.add_argument(
        "--critical-scale", type=float, help="position scale once critical (default 0.5)"
    )
    group.add_argument(
        "--risk-checks", action="store_true", help="pre-trade checks (the portfolio's limits)"
    )


def risk_from_args(args) -> RiskOverlay:
    """The :class:`RiskOverlay` the risk options describe."""
    levels = {
        key: getattr(args, key)
        for key in ("drawdown_warning", "drawdown_critical", "critical_scale")
        if getattr(args, key, None) is not None
    }
    drawdown = args.drawdown_control if args.drawdown_control is not None else bool(levels)
    try:
        return RiskOverlay(drawdown=drawdown, pre_trade=args.risk_checks, **levels)
    except ValidationError as exc:
        problems = [
            f"--{str(e['loc'][0]).replace('_', '-') if e['loc'] else 'drawdown-warning'}: "
            + e["msg"].removeprefix("Value error, ")
            for e in exc.errors(include_url=False)
        ]
        raise CommandError(join_problems("risk overlay", problems)) from None


def execution_from_args(args) -> ExecutionConfig:
    """The :class:`ExecutionConfig` of the cost, fill and sizing options.

    A refusal names the option at fault: ``--commission: ...``.
    """
    return execution_config(
        fill_timing=args.fill,
        commission=args.commission,
        slippage_bps=args.slippage_bps,
        sizing=args.sizing,
        size=args.size,
        allow_short=args.allow_short,
        options=EXECUTION_OPTIONS,
    )


def argparse_bool():
    import argparse

    return argparse.BooleanOptionalAction


def register(commands, shared) -> None:
    run = commands.add_parser("backtest", help="run a strategy over history", parents=[shared])
    add_run_options(run)
    add_risk_options(run)
    run.add_argument("--vectorized", action="store_true", help="use the array path")
    run.add_argument("--no-save", action="store_true", help="do not store the run")
    run.set_defaults(handler=backtest)
    lister = commands.add_parser(
        "strategies", help="list strategies and parameters", parents=[shared]
    )
    lister.set_defaults(handler=list_strategies)


def config_from_args(args) -> BacktestConfig:
    cls = get_strategy(args.strategy)
    params = parse_overrides(cls.Params, args.param)
    execution = execution_from_args(args)
    symbols = tuple(s.strip().upper() for arg in args.symbol or [] for s in arg.split(","))
    return BacktestConfig(
        strategy=args.strategy,
        params=params.model_dump(),
        symbols=symbols,
        data_file=str(args.data) if args.data else None,
        start=args.start,
        end=args.end,
        cash=args.cash,
        execution=execution,
        risk=risk_from_args(args) if hasattr(args, "risk_checks") else RiskOverlay(),
    )


def backtest(args) -> None:
    ws = open_workstation(args)
    config = config_from_args(args)
    result = ws.backtests.run(config, vectorized=args.vectorized, save=not args.no_save)
    trades = result.all_trades()[TRADE_KEYS]
    payload = {
        "run_id": result.run_id,
        "strategy": config.strategy,
        "params": config.params,
        "start": result.equity.index[0],
        "end": result.equity.index[-1],
        "final_equity": result.final_equity,
        "metrics": result.metrics,
        "trades": trades,
    }
    metrics = "\n".join(f"{k:<14} {float(result.metrics[k]):.6g}" for k in METRIC_KEYS)
    head = f"run {result.run_id}: final equity {result.final_equity:,.2f}"
    if config.risk.active:
        payload["risk"] = config.risk.model_dump(mode="json")
        head += f"\n{config.risk.describe()}"
    text = f"{head}\n{metrics}\n\n{table(trades.tail(10))}"
    emit(args, payload, text)


def list_strategies(args) -> None:
    rows = []
    for name, cls in registry().items():
        specs = [s.__dict__ for s in param_space(cls.Params)]
        rows.append(
            {
                "name": name,
                "label": cls.label,
                "multi_asset": cls.multi_asset,
                "doc": (cls.__doc__ or "").strip(),
                "params": specs,
            }
        )
    text = "\n".join(
        f"{r['name']:<16} {r['label']}: "
        + ", ".join(f"{p['name']}={p['default']}" for p in r["params"])
        for r in rows
    )
    emit(args, {"strategies": rows}, text)
