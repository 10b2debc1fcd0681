"""``rl``: train a PPO portfolio agent or a Q-learning strategy allocator; list and show models.

``rl train --agent ppo`` trains PPO on the bars up to ``--train-end`` and prints the
out-of-sample comparison (PPO, equal weight, minimum variance, maximum Sharpe, buy and hold,
identical costs and rebalancing), turnover and the deflated Sharpe ratio. ``rl train --agent
qlearning`` trains the tabular allocator over ``--strategies`` on one instrument.
"""

from __future__ import annotations

from typing import Any

from core.cli._output import CommandError, emit, open_workstation

LARGE_KEYS = ("test_curves", "test_weights", "learning_curve")


def register(commands, shared) -> None:
    parser = commands.add_parser(
        "rl",
        help="reinforcement learning: PPO portfolio weights, Q-learning strategy weights",
        description="Train and inspect RL models (docs/RL.md).",
        parents=[shared],
    )
    sub = parser.add_subparsers(dest="action", metavar="SUBCOMMAND", required=True)
    train = sub.add_parser(
        "train",
        help="train an agent and compare it out of sample",
        description="PPO: --symbols or --data, --train-end, --timesteps, --seed. Q-learning: "
        "--strategies, --symbol or --data, --seed.",
        parents=[shared],
    )
    train.add_argument("--agent", required=True, choices=["ppo", "qlearning"])
    train.add_argument("--symbols", help="ppo: comma-separated, e.g. AAPL,KO,XOM")
    train.add_argument("--symbol", help="qlearning: the one instrument traded")
    train.add_argument("--data", metavar="FILE", help="CSV/Parquet of closes instead")
    train.add_argument("--strategies", help="qlearning: comma-separated strategy names (2-4)")
    train.add_argument("--train-start", help="ppo: first training day (YYYY-MM-DD)")
    train.add_argument("--train-end", help="last training day (YYYY-MM-DD)")
    train.add_argument("--test-end", help="ppo: last test day (default: the last bar)")
    train.add_argument("--timesteps", type=int, help="ppo: environment steps to learn")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--rebalance-every", type=int, help="ppo: bars between decisions")
    train.add_argument("--window", type=int, help="ppo: bars of returns observed")
    train.add_argument("--commission", type=float, help="fraction of traded notional")
    train.add_argument("--slippage-bps", type=float, help="basis points of traded notional")
    train.add_argument("--checkpoint-every", type=int, help="ppo: timesteps between checkpoints")
    train.add_argument(
        "--walk-forward",
        type=int,
        metavar="K",
        help="ppo: also K test folds, retrained before each",
    )
    train.add_argument("--name", default="", help="a display name for the model")
    train.add_argument(
        "--curves", action="store_true", help="ppo: include equity curves, weights, learning curve"
    )
    train.set_defaults(handler=train_command)
    listing = sub.add_parser("list", help="the PPO models recorded", parents=[shared])
    listing.set_defaults(handler=list_command)
    show = sub.add_parser("show", help="one PPO model's record", parents=[shared])
    show.add_argument("model_id")
    show.set_defaults(handler=show_command)


def ppo_request(args):
    """The :class:`core.rl.PPOTrainRequest` of ``rl train --agent ppo``."""
    from core.rl import PPOTrainRequest

    if not args.train_end:
        raise CommandError("--train-end: required with --agent ppo")
    env = {
        k: v
        for k, v in {
            "rebalance_every": args.rebalance_every,
            "window": args.window,
            "commission": args.commission,
            "slippage_bps": args.slippage_bps,
        }.items()
        if v is not None
    }
    values: dict[str, Any] = {
        "symbols": args.symbols or (),
        "data": args.data,
        "train_start": args.train_start,
        "train_end": args.train_end,
        "test_end": args.test_end,
        "seed": args.seed,
        "env": env,
        "name": args.name,
    }
    if args.timesteps is not None:
        values["timesteps"] = args.timesteps
    if args.checkpoint_every is not None:
        values["checkpoint_every"] = args.checkpoint_every
    if args.walk_forward is not None:
        values["walk_forward"] = args.walk_forward
    return PPOTrainRequest.model_validate(values)


def qlearning_request(args):
    """The ``QLearningRequest`` of ``rl train --agent qlearning`` (from ``core.qlearning``)."""
    from core.qlearning import QLearningRequest

    if not args.strategies:
        raise CommandError("--strategies: required with --agent qlearning")
    values: dict[str, Any] = {
        "strategies": [s.strip() for s in args.strategies.split(",") if s.strip()],
        "symbol": args.symbol,
        "data": args.data,
        "seed": args.seed,
        "name": args.name,
    }
    if args.train_end:
        values["train_end"] = args.train_end
    for key in ("commission", "slippage_bps"):
        if getattr(args, key) is not None:
            values[key] = getattr(args, key)
    return QLearningRequest(**values)


def train_command(args) -> None:
    request = ppo_request(args) if args.agent == "ppo" else qlearning_request(args)
    ws = open_workstation(args)
    try:
        if args.agent == "ppo":
            report = ws.rl.train(request)
            if not args.curves:
                report = {k: v for k, v in report.items() if k not in LARGE_KEYS}
        else:
            report = ws.qlearning.train(request)
    finally:
        ws.close()
    emit(args, report, _text(report) if args.agent == "ppo" else None)


def list_command(args) -> None:
    ws = open_workstation(args)
    try:
        models = ws.rl.list()
    finally:
        ws.close()
    lines = [
        f"{m['model_id']}  {m['name']}  test Sharpe PPO {_num(m['test_sharpe'].get('ppo'))} "
        f"vs equal weight {_num(m['test_sharpe'].get('equal_weight'))}"
        for m in models
    ]
    emit(args, {"models": models}, "\n".join(lines) or "no PPO models yet")


def show_command(args) -> None:
    ws = open_workstation(args)
    try:
        record = ws.rl.show(args.model_id)
    finally:
        ws.close()
    emit(args, record)


def _num(value) -> str:
    return "—" if value is None else f"{value:.2f}"


def _pct(value) -> str:
    return "—" if value is None else f"{value:.2%}"


def _text(report: dict) -> str:
    split = report["split"]
    lines = [
        f"model {report['model_id']}: PPO on {len(report['symbols'])} assets, "
        f"{report['timesteps']:,} timesteps, seed {report['seed']}"
        + (" (stopped early)" if report["stopped"] else ""),
        f"train {split['train_start']} → {split['train_end']}; "
        f"test {split['test_start']} → {split['test_end']}",
        f"{'policy':<14}{'train Sharpe':>13}{'test Sharpe':>12}{'test CAGR':>11}"
        f"{'test maxDD':>11}{'turnover/yr':>12}",
    ]
    for name, test in report["test"].items():
        train = report["train"][name]
        lines.append(
            f"{name:<14}{_num(train['sharpe']):>13}{_num(test['sharpe']):>12}"
            f"{_pct(test['cagr']):>11}{_pct(test['max_drawdown']):>11}{_num(test['turnover']):>12}"
        )
    for name, test in (report.get("walk_forward") or {}).get("test", {}).items():
        lines.append(
            f"walk-forward {name:<14} Sharpe {_num(test['sharpe'])}  CAGR {_pct(test['cagr'])}"
        )
    dsr = report["deflated_sharpe"]
    lines.append(f"deflated Sharpe (PPO, {dsr['n_trials']} trial(s)): {_num(dsr['dsr'])}")
    return "\n".join(lines)
