"""Q-learning of strategy weights (issue 14): learner speed, training time, out-of-sample table.

Run from the repository root:  python benchmarks/bench_qlearning.py [--quick]
Prints markdown: (1) Q updates per second of the learner alone (synthetic experience,
2 sleeves, 8 states, 5 actions); (2) the default training run on the bundled SPX (1999–2018,
70 % train / 30 % test, 200 episodes) split into its phases; (3) the out-of-sample table of
every configuration tried (all shown, none picked): q_weights against each strategy alone and
equal weights, costs 5 bp commission + 2 bp slippage, every contender through the same
backtest engine. Uses a throw-away database and models folder.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from core.config import Settings
from core.qlearning import Experience, QLearningRequest, epsilon_schedule, learn, simplex_grid
from core.workstation import Workstation

CONFIGS = [
    (("sma_crossover", "rsi_reversal"), 0),
    (("sma_crossover", "rsi_reversal"), 1),
    (("sma_crossover", "rsi_reversal"), 2),
    (("sma_crossover", "rsi_reversal", "momentum"), 0),
    (("donchian", "rsi_reversal"), 0),
    (("momentum", "mean_reversion"), 0),
]


def learner_speed(decisions: int = 1000, episodes: int = 100) -> str:
    rng = np.random.default_rng(0)
    exp = Experience(
        [rng.integers(8, size=decisions)],
        [rng.normal(0, 0.01, (decisions, 2))],
        [np.ones((decisions, 2))],
    )
    kwargs = dict(
        episodes=episodes,
        learning_rate=0.1,
        discount=0.9,
        risk_aversion=0.0,
        cost_rate=0.0007,
        seed=0,
        epsilon=epsilon_schedule(1.0, 0.05, 0.98),
    )
    best = min(
        _timed(lambda: learn(exp, simplex_grid(2, 0.25), 8, averaging=True, **kwargs))
        for _ in range(3)
    )
    n = decisions * episodes
    return f"| learner alone, {n:,} updates | {best:.3f} s | {n / best:,.0f} updates/s |"


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(quick: bool) -> None:
    print("| what | time | rate |\n|---|---|---|")
    print(learner_speed())
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            database_url=f"sqlite:///{tmp}/ws.db",
            models_dir=Path(tmp) / "models",
            seed_demo=False,
        )
        ws = Workstation(settings)
        ws.prepare()
        rows = []
        for strategies, seed in CONFIGS[:1] if quick else CONFIGS:
            request = QLearningRequest(strategies=strategies, symbol="SPX", seed=seed)
            out = ws.qlearning.train(request)
            if not rows:
                print(
                    f"| default run on SPX ({'+'.join(strategies)}, 200 episodes), all phases "
                    f"| {out['seconds']:.2f} s | learning {out['learn_seconds']:.2f} s |"
                )
            rows.append((strategies, seed, out))
        ws.close()
    fold = rows[0][2]["folds"][0]
    print(f"\nTest span {fold['test_start'][:10]} → {fold['test_end'][:10]} (out of sample)\n")
    print("| strategies | seed | contender | return | Sharpe | max DD | turnover/yr |")
    print("|---|---|---|---|---|---|---|")
    for strategies, seed, out in rows:
        for name, m in out["test"].items():
            print(
                f"| {'+'.join(strategies)} | {seed} | {name} | {m['total_return']:+.1%} | "
                f"{_f(m['sharpe'])} | {m['max_drawdown']:.1%} | {_f(m['turnover'])} |"
            )


def _f(x) -> str:
    return "–" if x is None else f"{x:.2f}"


if __name__ == "__main__":
    main("--quick" in sys.argv[1:])
