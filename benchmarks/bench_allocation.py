"""Allocation benchmarks: every method beside PyPortfolioOpt and skfolio, and 500 assets.

Run from the repository root:  python benchmarks/bench_allocation.py [repeats]
(PyPortfolioOpt and skfolio come from requirements-dev.txt.) Prints markdown rows, best of
``repeats`` (default 5) after a warm-up run. Each timing starts from the same prices
(ours) or the same returns (the references) and includes estimating the moments. Targets
on the 2-core reference machine: each method on 20 assets × 1,250 days no slower than the
references; maximum Sharpe and minimum variance on 500 assets under 1 s.
"""

from __future__ import annotations

import gc
import sys
import time
import warnings

import numpy as np
import pandas as pd
from pypfopt import EfficientCVaR, EfficientFrontier, HRPOpt, expected_returns, risk_models
from skfolio import RiskMeasure
from skfolio.cluster import HierarchicalClustering, LinkageMethod
from skfolio.optimization import (
    EqualWeighted,
    HierarchicalRiskParity,
    InverseVolatility,
    MeanRisk,
    ObjectiveFunction,
    RiskBudgeting,
)
from skfolio.seriation import HierarchicalSeriation

from core.allocation import AllocationSpec, allocate
from core.marketdata import load_bundled
from core.marketdata._bundled import STOCK_SYMBOLS

warnings.filterwarnings("ignore")


def best_of(fn, repeats: int) -> float:
    """Best wall time of ``repeats`` runs after a warm-up, garbage collector paused (as timeit)."""
    fn()
    best = float("inf")
    gc.collect()
    gc.disable()
    try:
        for _ in range(repeats):
            start = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - start)
    finally:
        gc.enable()
    return best


def stock_prices(n_days: int = 1_250) -> pd.DataFrame:
    closes = pd.DataFrame({s: load_bundled(s)["close"] for s in STOCK_SYMBOLS}).dropna()
    return closes.iloc[-(n_days + 1) :]


def synthetic_prices(n_assets: int, n_days: int, seed: int = 0) -> pd.DataFrame:
    """A seeded five-factor market: daily returns = loadings × factors + noise."""
    rng = np.random.default_rng(seed)
    factors = rng.normal(0, 0.01, (n_days, 5))
    loadings = rng.normal(0.5, 0.3, (5, n_assets))
    noise = rng.normal(0, 1, (n_days, n_assets)) * rng.uniform(0.005, 0.025, n_assets)
    returns = 0.0004 + factors @ loadings / 2 + noise
    prices = 100 * np.cumprod(1 + np.vstack([np.zeros(n_assets), returns]), axis=0)
    index = pd.bdate_range("2018-01-01", periods=n_days + 1)
    return pd.DataFrame(prices, index=index, columns=[f"A{i:03d}" for i in range(n_assets)])


def pypfopt(prices: pd.DataFrame, method: str):
    """The PyPortfolioOpt run of ``method`` (None where it has none)."""
    returns = prices.pct_change().iloc[1:]

    def frontier() -> EfficientFrontier:
        mu = expected_returns.mean_historical_return(prices, compounding=False)
        return EfficientFrontier(mu, risk_models.sample_cov(prices), solver="CLARABEL")

    if method == "min_variance":
        return lambda: frontier().min_volatility()
    if method == "max_sharpe":
        return lambda: frontier().max_sharpe()
    if method == "mean_variance":
        return lambda: frontier().max_quadratic_utility(risk_aversion=1.0)
    if method == "min_cvar":
        mu = expected_returns.mean_historical_return(prices, compounding=False)
        return lambda: EfficientCVaR(mu, returns, solver="CLARABEL").min_cvar()
    if method == "hrp":
        return lambda: HRPOpt(prices.pct_change().iloc[1:]).optimize(linkage_method="single")
    return None


def skfolio(prices: pd.DataFrame, method: str):
    clustering = HierarchicalClustering(linkage_method=LinkageMethod.SINGLE)
    models = {
        "equal": lambda: EqualWeighted(),
        "inverse_vol": lambda: InverseVolatility(),
        "min_variance": lambda: MeanRisk(risk_measure=RiskMeasure.VARIANCE),
        "mean_variance": lambda: MeanRisk(
            risk_measure=RiskMeasure.VARIANCE,
            objective_function=ObjectiveFunction.MAXIMIZE_UTILITY,
            risk_aversion=0.5,
        ),
        "max_sharpe": lambda: MeanRisk(
            risk_measure=RiskMeasure.VARIANCE,
            objective_function=ObjectiveFunction.MAXIMIZE_RATIO,
        ),
        "risk_parity": lambda: RiskBudgeting(risk_measure=RiskMeasure.VARIANCE),
        "min_cvar": lambda: MeanRisk(risk_measure=RiskMeasure.CVAR),
        "hrp": lambda: HierarchicalRiskParity(
            risk_measure=RiskMeasure.VARIANCE,
            seriation_estimator=HierarchicalSeriation(
                hierarchical_clustering_estimator=clustering, optimal_ordering=False
            ),
        ),
    }
    return lambda: models[method]().fit(prices.pct_change().iloc[1:])


def ms(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds * 1e3:.1f} ms"


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    prices = stock_prices()
    print(f"20 bundled stocks × {len(prices) - 1} daily returns (best of {repeats})\n")
    print("| method | ours | PyPortfolioOpt | skfolio |\n| --- | --- | --- | --- |")
    methods = [
        "equal", "inverse_vol", "min_variance", "mean_variance",
        "max_sharpe", "risk_parity", "min_cvar", "hrp",
    ]  # fmt: skip
    for method in methods:
        spec = AllocationSpec(method=method)
        ours = best_of(lambda spec=spec: allocate(prices, spec), repeats)
        reference = pypfopt(prices, method)
        theirs = best_of(reference, repeats) if reference else None
        sk = best_of(skfolio(prices, method), repeats)
        print(f"| {method} | {ms(ours)} | {ms(theirs)} | {ms(sk)} |")

    big = synthetic_prices(500, 1_250)
    print(f"\n500 synthetic assets × 1,250 daily returns (seed 0, best of {repeats})\n")
    print("| method | ours | PyPortfolioOpt | skfolio |\n| --- | --- | --- | --- |")
    for method in ["min_variance", "max_sharpe"]:
        for cap in (1.0, 0.01):
            spec = AllocationSpec(method=method, max_weight=cap)
            ours = best_of(lambda spec=spec: allocate(big, spec), repeats)
            label = method if cap == 1 else f"{method}, max weight {cap}"
            refs = ("", "")
            if cap == 1:
                refs = (ms(best_of(pypfopt(big, method), 1)), ms(best_of(skfolio(big, method), 1)))
            print(f"| {label} | {ms(ours)} | {refs[0]} | {refs[1]} |")


if __name__ == "__main__":
    main()
