"""The out-of-sample report of a PPO run: PPO against the baselines on train and test spans.

Every policy runs through :func:`~core.rl._evaluate.run_policy` with the same costs and
rebalance frequency. The deflated Sharpe ratio (Bailey & López de Prado, via
``core.optimize``) deflates PPO's daily test Sharpe by the number of PPO configurations
tried on the same universe and split (the registry's records); with one trial it is the
probabilistic Sharpe ratio against 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats

from core.optimize import deflated_sharpe, probabilistic_sharpe_ratio
from core.rl._evaluate import PolicyRun, baselines, run_policy
from core.rl._market import RLMarket
from core.rl._policy import TrainedPolicy

POLICIES = ("ppo", "equal_weight", "min_variance", "max_sharpe", "buy_hold")
CURVE_POINTS = 400  # equity points per curve in a report


def ppo_decide(policy: TrainedPolicy, market: RLMarket):
    """The trained policy as a decision rule on ``market`` (closes up to the bar only)."""
    need = policy.history_needed

    def decide(t: int, held: np.ndarray) -> np.ndarray:
        return policy.target(market.close[t - need + 1 : t + 1], held)

    return decide


def compare(
    policy: TrainedPolicy,
    market: RLMarket,
    train: tuple[int, int],
    test: tuple[int, int],
    spans: tuple[str, ...] = ("train", "test"),
) -> dict[str, dict[str, PolicyRun]]:
    """Runs of every policy on the train span (from the lookback on) and the test span.

    Baselines are fitted on the ``train`` bars; ``spans`` names the spans run.
    """
    fitted = baselines(market, train)
    bounds = {"train": (train[0] + policy.settings.lookback, train[1]), "test": test}
    runs: dict[str, dict[str, PolicyRun]] = {}
    for name in spans:
        first, last = bounds[name]
        runs[name] = {
            "ppo": run_policy(market, policy.settings, ppo_decide(policy, market), first, last)
        }
        for key, make in fitted.items():
            runs[name][key] = run_policy(market, policy.settings, make(), first, last)
    return runs


def deflated(returns: np.ndarray, trial_sharpes: Sequence[float]) -> dict[str, Any]:
    """DSR of PPO's daily test ``returns`` among ``trial_sharpes`` (daily, this run included)."""
    trials = [s for s in trial_sharpes if s is not None and np.isfinite(s)]
    r = returns[np.isfinite(returns)]
    if len(trials) >= 2:
        result = deflated_sharpe(r, np.asarray(trials))
        return {
            "dsr": result.dsr,
            "sharpe_daily": result.sharpe,
            "benchmark_daily": result.benchmark,
            "n_trials": result.n_trials,
            "n_obs": result.n_obs,
        }
    sharpe = float(r.mean() / r.std(ddof=1)) if len(r) > 2 and r.std(ddof=1) > 0 else float("nan")
    dsr = probabilistic_sharpe_ratio(
        sharpe,
        len(r),
        skew=float(stats.skew(r)),
        kurtosis=float(stats.kurtosis(r, fisher=False)),
    )
    return {
        "dsr": dsr,
        "sharpe_daily": sharpe,
        "benchmark_daily": 0.0,
        "n_trials": 1,
        "n_obs": len(r),
    }


def _thin(n: int) -> np.ndarray:
    step = max(1, int(np.ceil(n / CURVE_POINTS)))
    picks = np.arange(0, n, step)
    return picks if picks[-1] == n - 1 else np.append(picks, n - 1)


def curves(runs: dict[str, PolicyRun]) -> dict[str, Any]:
    """Equity curves of one span (thinned to about 400 points), for charts."""
    first = runs["ppo"]
    picks = _thin(len(first.equity))
    out: dict[str, Any] = {"dates": [d.date().isoformat() for d in first.dates[picks]]}
    for name, run in runs.items():
        out[name] = [float(v) for v in run.equity[picks]]
    return out


def weights_table(run: PolicyRun, symbols: Sequence[str]) -> dict[str, Any]:
    """PPO's targets at each decision: dates, columns (symbols, then CASH) and rows."""
    return {
        "dates": [d.date().isoformat() for d in run.decisions],
        "columns": [*symbols, "CASH"],
        "rows": np.round(run.weights, 6).tolist(),
    }
