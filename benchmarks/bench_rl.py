"""RL benchmarks: the environment alone, PPO training, and the default PPO run.

Run from the repository root:  python benchmarks/bench_rl.py [--default-run]

1. ``PortfolioEnv`` steps per second over the 20 bundled stocks (default settings, actions
   drawn beforehand, resets included): target ≥ 20,000.
2. PPO training timesteps per second with the default hyperparameters (4 environments,
   torch on one thread; the machine has 2 cores), over 20,000 timesteps.
3. With ``--default-run``: the default ``rl train --agent ppo`` on the 20 bundled stocks
   (train to 2016-12-31, test 2017-2022, default timesteps, seed 0) end to end in a fresh
   process, on a throw-away database: target under 5 minutes. Prints its out-of-sample table.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from core.marketdata import STOCK_SYMBOLS, load_bundled
from core.rl import (
    DEFAULT_TIMESTEPS,
    EnvSettings,
    PortfolioEnv,
    PPOParams,
    RLMarket,
    build_ppo,
    train_ppo,
)

ROOT = Path(__file__).resolve().parents[1]


def bundled_market() -> RLMarket:
    closes = pd.DataFrame({s: load_bundled(s)["close"] for s in STOCK_SYMBOLS}).dropna()
    return RLMarket.from_frames(closes, closes)


def env_steps_per_second(market: RLMarket, steps: int = 200_000) -> float:
    env = PortfolioEnv(market, EnvSettings())
    actions = np.random.default_rng(0).uniform(-1, 1, (steps, market.n_assets + 1))
    actions = actions.astype(np.float32)
    env.reset(seed=0)
    start = time.perf_counter()
    for action in actions:
        _, _, _, truncated, _ = env.step(action)
        if truncated:
            env.reset()
    return steps / (time.perf_counter() - start)


def ppo_steps_per_second(market: RLMarket, timesteps: int = 20_000) -> tuple[float, int]:
    train_last = market.bar_at_or_before("2016-12-31")
    model = build_ppo(market, EnvSettings(), PPOParams(), (0, train_last), 0)
    start = time.perf_counter()
    trained = train_ppo(model, timesteps)
    return trained.timesteps / (time.perf_counter() - start), trained.timesteps


def default_run() -> tuple[float, dict]:
    with tempfile.TemporaryDirectory() as tmp:
        env = os.environ | {"WORKSTATION_MODELS_DIR": f"{tmp}/models", "PYTHONPATH": str(ROOT)}
        argv = [
            sys.executable, "-m", "core", "--db", f"sqlite:///{tmp}/ws.db", "rl", "train",
            "--agent", "ppo", "--symbols", ",".join(STOCK_SYMBOLS), "--train-end", "2016-12-31",
            "--seed", "0", "--json",
        ]  # fmt: skip
        start = time.perf_counter()
        out = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True, check=True)
        return time.perf_counter() - start, json.loads(out.stdout)


def table(report: dict) -> str:
    rows = [
        "| policy | train Sharpe | test Sharpe | test CAGR | test max DD | test vol | "
        "turnover / yr | costs |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, test in report["test"].items():
        rows.append(
            f"| {name} | {report['train'][name]['sharpe']:.2f} | {test['sharpe']:.2f} | "
            f"{test['cagr']:.2%} | {test['max_drawdown']:.2%} | {test['volatility']:.2%} | "
            f"{test['turnover']:.2f} | {test['costs']:.2%} |"
        )
    return "\n".join(rows)


def main() -> None:
    market = bundled_market()
    print(f"| env steps/s, 20 assets | {env_steps_per_second(market):,.0f} |")
    rate, steps = ppo_steps_per_second(market)
    print(f"| PPO training timesteps/s (default params, {steps:,} steps) | {rate:,.0f} |")
    if "--default-run" in sys.argv:
        seconds, report = default_run()
        print(
            f"| default run ({DEFAULT_TIMESTEPS:,} timesteps, 20 stocks), wall | {seconds:.1f} s |"
        )
        dsr = report["deflated_sharpe"]
        print(f"\nmodel {report['model_id']}, split {report['split']}")
        print(table(report))
        print(f"\ndeflated Sharpe of PPO: {dsr['dsr']:.3f} over {dsr['n_trials']} trial(s)")


if __name__ == "__main__":
    main()
