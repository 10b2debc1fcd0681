"""``montecarlo``: resample a backtest's (or a price series') returns into many futures."""

from __future__ import annotations

from core.cli._backtest import add_run_options, config_from_args
from core.cli._output import emit, open_workstation
from core.whatif import MonteCarloConfig, monte_carlo_trades, run_monte_carlo


def register(commands, shared) -> None:
    mc = commands.add_parser(
        "montecarlo",
        help="Monte Carlo on a backtest's daily returns or trades",
        parents=[shared],
        description="Runs the backtest described by the options (as `backtest` does), then "
        "simulates --paths futures of --horizon periods from its returns or trades.",
    )
    add_run_options(mc)
    mc.add_argument(
        "--method",
        default="bootstrap",
        choices=["bootstrap", "block_bootstrap", "normal", "student_t"],
    )
    mc.add_argument("--source", choices=["returns", "trades"], default="returns")
    mc.add_argument("--paths", type=int, default=10_000)
    mc.add_argument("--horizon", type=int, default=252)
    mc.add_argument("--block-size", type=int, default=20)
    mc.add_argument("--seed", type=int, default=0)
    mc.set_defaults(handler=montecarlo)


def montecarlo(args) -> None:
    ws = open_workstation(args)
    result = ws.backtests.run(config_from_args(args), save=False)
    config = MonteCarloConfig(
        method="bootstrap" if args.source == "trades" else args.method,
        n_paths=args.paths,
        horizon=args.horizon,
        block_size=args.block_size,
        seed=args.seed,
        initial_equity=result.final_equity,
    )
    if args.source == "trades":
        mc = monte_carlo_trades(result.trades["pnl_net"].to_numpy(), None, config)
    else:
        mc = run_monte_carlo(result.returns.to_numpy(), config)
    summary = mc.summary()
    payload = {"run_id": result.run_id, "source": args.source, **summary}
    lines = [f"{k:<22} {v:.6g}" for k, v in summary.items() if isinstance(v, float)]
    emit(
        args,
        payload,
        f"Monte Carlo ({config.method}, {config.n_paths} paths × {config.horizon})\n"
        + "\n".join(lines),
    )
