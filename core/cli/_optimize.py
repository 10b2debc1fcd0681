"""``optimize``: search a strategy's parameters with a backtest objective."""

from __future__ import annotations

import argparse
from typing import Any

from core._kv import PairError, parse_value, split_pair
from core.backtest import BacktestConfig
from core.cli._backtest import add_run_options, config_from_args
from core.cli._output import CommandError, emit, open_workstation, table
from core.errors import InvalidInputError, join_problems
from core.execution import CommissionModel, ExecutionConfig
from core.optimize import (
    METHODS,
    GridTooLarge,
    Objective,
    optimize_allocation,
    optuna_storage,
    parse_range,
    run_job,
    run_optimization,
    run_walk_forward,
)
from core.strategies import InvalidParams, validate_field
from core.workstation import Workstation


def register(commands, shared) -> None:
    opt = commands.add_parser("optimize", help="optimize a strategy's parameters", parents=[shared])
    add_run_options(opt)
    opt.add_argument("--method", choices=METHODS, default="grid")
    opt.add_argument("--objective", default="sharpe", help="metric to maximise (see metrics)")
    opt.add_argument("--range", action="append", default=[], metavar="KEY=LO:HI[:STEP]")
    opt.add_argument("--trials", type=int, default=200, help="evaluation budget")
    opt.add_argument("--seed", type=int, default=0)
    opt.add_argument(
        "--max-drawdown", type=float, help="constraint: max drawdown ≥ this (e.g. -0.2)"
    )
    opt.add_argument("--min-trades", type=int, help="constraint: at least this many trades")
    opt.add_argument(
        "--workers",
        type=int,
        help="local processes evaluating in parallel (default one per CPU; 1: this process)",
    )
    opt.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="evaluate on the Dask distributed cluster of this scheduler (tcp://host:8786)",
    )
    opt.add_argument(
        "--walk-forward",
        metavar="TRAIN:TEST[:anchored]",
        help="optimise on rolling (or anchored) windows of TRAIN bars, test on TEST",
    )
    opt.set_defaults(handler=optimize)
    alloc = commands.add_parser(
        "optimize-allocation",
        help="tune strategies per asset, then weight the strategies × assets matrix",
        parents=[shared],
    )
    alloc.add_argument("--strategies", required=True, help="comma-separated strategy names")
    alloc.add_argument("--symbols", required=True, help="comma-separated symbols")
    alloc.add_argument("--start", help="first date (YYYY-MM-DD)")
    alloc.add_argument("--end", help="last date (YYYY-MM-DD)")
    alloc.add_argument("--cash", type=float, default=100_000.0)
    alloc.add_argument("--commission", type=float, default=0.0, help="fraction of notional")
    alloc.add_argument("--method", choices=METHODS, default="random")
    alloc.add_argument("--objective", default="sharpe", help="metric to maximise in sample")
    alloc.add_argument("--trials", type=int, default=50, help="budget per strategy and asset")
    alloc.add_argument("--seed", type=int, default=0)
    alloc.add_argument("--train-fraction", type=float, default=0.7, help="share of bars to tune on")
    alloc.add_argument("--risk-aversion", type=float, default=1.0, help="λ on the variance")
    alloc.add_argument(
        "--diversification", type=float, default=0.1, help="δ on the -Σw² diversity term"
    )
    alloc.add_argument("--workers", type=int, help="local processes (default one per CPU)")
    alloc.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler address")
    alloc.set_defaults(handler=optimize_allocation_command)
    worker = commands.add_parser(
        "optimize-worker",
        help="run a queued optimisation job (the page starts it)",
        parents=[shared],
    )
    worker.add_argument("--job", required=True, help="the job id")
    worker.set_defaults(handler=optimize_worker)


def optimize_worker(args) -> None:
    ws = Workstation.open(args.db, seed_demo=False)
    try:
        status = run_job(ws.jobs, args.job)
    finally:
        ws.close()
    emit(args, {"job": args.job, "status": status}, f"job {args.job}: {status}")


def fixed_params(strategy: str, pairs: list[str], ranges: dict[str, Any]) -> dict[str, Any]:
    """The parameters ``--param KEY=VALUE`` fixes.

    Each is validated by the strategy's params model on its own, so a fixed value may need a
    searched one to be feasible.
    """
    fixed: dict[str, Any] = {}
    for pair in pairs:
        try:
            key, raw = split_pair(pair, option="--param", form="KEY=VALUE", require_key=True)
        except PairError as exc:
            raise CommandError(f"optimize: {exc}") from None
        try:
            value, refusal = validate_field(strategy, key, parse_value(raw)), None
        except InvalidParams as exc:
            if exc.unknown:
                raise CommandError(f"optimize: --param {key}: {exc.problems[0]}") from None
            value, refusal = None, exc
        if key in ranges:
            raise CommandError(
                f"optimize: {key} is given by --param and by --range; fix it with --param "
                "or search it with --range, not both"
            )
        if refusal is not None:
            raise CommandError(join_problems(f"optimize: --param {key}={raw}", refusal.problems))
        fixed[key] = value
    return fixed


def search_config(args, fixed: dict[str, Any]) -> BacktestConfig:
    """The backtest config of the search: the strategy's defaults with ``fixed`` laid over.

    The searched parameters replace the rest point by point.
    """
    config = config_from_args(argparse.Namespace(**{**vars(args), "param": []}))
    return config.model_copy(update={"params": {**config.params, **fixed}})


def optimize(args) -> None:
    constraints = {}
    if args.max_drawdown is not None:
        constraints["max_drawdown"] = (">=", args.max_drawdown)
    if args.min_trades is not None:
        constraints["n_trades"] = (">=", args.min_trades)
    objective = Objective(metric=args.objective, constraints=constraints)
    ranges = dict(parse_range(r) for r in args.range)
    fixed = fixed_params(args.strategy, args.param, ranges)
    ws = open_workstation(args)
    if args.walk_forward:
        emit_walk_forward(args, ws, objective, ranges, fixed)
        return
    try:
        report = run_optimization(
            ws.backtests,
            search_config(args, fixed),
            method=args.method,
            objective=objective,
            ranges=ranges,
            fixed=fixed,
            trials=args.trials,
            seed=args.seed,
            storage=optuna_storage(ws.settings.database_url) if args.method == "bayes" else None,
            workers=args.workers,
            scheduler=args.scheduler,
        )
    except GridTooLarge as exc:
        raise CommandError(_grid_message(exc)) from None
    trials = report.pop("trials")
    report.pop("history")
    top = trials.sort_values("score", ascending=False).head(10)
    text = (
        f"{args.method}: {report['n_trials']} trials, best {report['best_params']} "
        f"score {report['best_score']:.4g}\n{table(top)}"
    )
    emit(args, report, text)


def _grid_message(exc: GridTooLarge) -> str:
    return (
        f"optimize: the grid has {exc.size:,} points, more than --trials {exc.limit:,}; "
        f"raise --trials to {exc.size} or narrow a --range"
    )


def emit_walk_forward(args, ws, objective, ranges, fixed) -> None:
    train, _, rest = args.walk_forward.partition(":")
    test, _, mode = rest.partition(":")
    if not train.isdigit() or not test.isdigit() or mode not in ("", "anchored", "rolling"):
        raise InvalidInputError(
            "--walk-forward expects TRAIN:TEST[:anchored|rolling] in bars", field="walk_forward"
        )
    try:
        report = run_walk_forward(
            ws.backtests,
            search_config(args, fixed),
            method=args.method,
            objective=objective,
            train=int(train),
            test=int(test),
            anchored=mode == "anchored",
            ranges=ranges,
            fixed=fixed,
            trials=args.trials,
            seed=args.seed,
            workers=args.workers,
            scheduler=args.scheduler,
        )
    except GridTooLarge as exc:
        raise CommandError(_grid_message(exc)) from None
    oos = report["out_of_sample_metrics"]
    text = (
        f"walk-forward {report['n_windows']} windows, efficiency {report['efficiency']:.3g}, "
        f"out-of-sample sharpe {oos['sharpe']:.3g}\n{table(report['windows'])}"
    )
    emit(args, {k: v for k, v in report.items() if k != "equity"}, text)


def optimize_allocation_command(args) -> None:
    ws = open_workstation(args)
    strategies = [s.strip() for s in args.strategies.split(",") if s.strip()]
    symbols = [s.strip().upper() for s in args.symbols.split(",") if s.strip()]
    base = BacktestConfig(
        strategy=strategies[0] if strategies else "sma_crossover",
        symbols=tuple(symbols[:1]),
        start=args.start,
        end=args.end,
        cash=args.cash,
        execution=ExecutionConfig(commission=CommissionModel(rate=args.commission)),
    )
    report = optimize_allocation(
        ws.backtests,
        base,
        strategies,
        symbols,
        method=args.method,
        objective=Objective(metric=args.objective),
        trials=args.trials,
        seed=args.seed,
        train_fraction=args.train_fraction,
        risk_aversion=args.risk_aversion,
        diversification=args.diversification,
        workers=args.workers,
        scheduler=args.scheduler,
    )
    lines = [
        f"{s:<16} {a:<8} {w:7.2%}" for s, row in report["weights"].items() for a, w in row.items()
    ]
    text = (
        "\n".join(lines) + f"\nexpected return {report['expected_return']:.2%}, volatility "
        f"{report['volatility']:.2%}, sharpe {report['sharpe']:.3g}"
    )
    emit(args, report, text)
