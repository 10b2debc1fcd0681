"""Weights against PyPortfolioOpt and skfolio (test-only dependencies) to 1e-4.

The references estimate their own inputs from the same prices: PyPortfolioOpt's
``mean_historical_return(compounding=False)`` and ``sample_cov`` are mean × 252 and
``cov()`` × 252 of ``pct_change().dropna()``; skfolio fits on the daily returns.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from pypfopt import EfficientCVaR, EfficientFrontier, HRPOpt, expected_returns, risk_models
from skfolio import RiskMeasure
from skfolio.cluster import HierarchicalClustering, LinkageMethod
from skfolio.optimization import (
    HierarchicalRiskParity,
    MeanRisk,
    ObjectiveFunction,
    RiskBudgeting,
)
from skfolio.seriation import HierarchicalSeriation

from core.allocation import AllocationSpec, GroupCap, allocate, efficient_frontier, estimate

ATOL = 1e-4


def ours(prices: pd.DataFrame, **spec) -> pd.Series:
    return pd.Series(allocate(prices, AllocationSpec(**spec)).weights)[prices.columns]


def pypfopt_frontier(prices, bounds=(0, 1), shrink=False) -> EfficientFrontier:
    mu = expected_returns.mean_historical_return(prices, compounding=False)
    if shrink:
        cov = risk_models.CovarianceShrinkage(prices).ledoit_wolf()
    else:
        cov = risk_models.sample_cov(prices)
    return EfficientFrontier(mu, cov, weight_bounds=bounds, solver="CLARABEL")


def weights_of(optimizer, columns) -> pd.Series:
    return pd.Series(optimizer.clean_weights(cutoff=0, rounding=None))[columns]


# -- PyPortfolioOpt --------------------------------------------------------------------------


@pytest.mark.parametrize("cap", [1.0, 0.1])
def test_min_variance_matches_pypfopt(stock_prices, cap):
    ef = pypfopt_frontier(stock_prices, (0, cap))
    ef.min_volatility()
    expected = weights_of(ef, stock_prices.columns)
    got = ours(stock_prices, method="min_variance", max_weight=cap)
    assert_allclose(got, expected, atol=ATOL)


def test_min_variance_with_ledoit_wolf_matches_pypfopt(stock_prices):
    ef = pypfopt_frontier(stock_prices, shrink=True)
    ef.min_volatility()
    got = ours(stock_prices, method="min_variance", shrinkage="ledoit_wolf")
    assert_allclose(got, weights_of(ef, stock_prices.columns), atol=ATOL)


@pytest.mark.parametrize(("cap", "rf"), [(1.0, 0.0), (0.15, 0.0), (1.0, 0.05)])
def test_max_sharpe_matches_pypfopt(stock_prices, cap, rf):
    ef = pypfopt_frontier(stock_prices, (0, cap))
    ef.max_sharpe(risk_free_rate=rf)
    got = ours(stock_prices, method="max_sharpe", max_weight=cap, risk_free_rate=rf)
    assert_allclose(got, weights_of(ef, stock_prices.columns), atol=ATOL)


def test_mean_variance_risk_aversion_matches_pypfopt(stock_prices):
    ef = pypfopt_frontier(stock_prices)
    ef.max_quadratic_utility(risk_aversion=3.0)
    got = ours(stock_prices, method="mean_variance", risk_aversion=3.0)
    assert_allclose(got, weights_of(ef, stock_prices.columns), atol=ATOL)


def test_mean_variance_target_return_matches_pypfopt(stock_prices):
    ef = pypfopt_frontier(stock_prices, (0, 0.2))
    ef.efficient_return(0.25)
    got = ours(stock_prices, method="mean_variance", target_return=0.25, max_weight=0.2)
    assert_allclose(got, weights_of(ef, stock_prices.columns), atol=ATOL)


def test_group_cap_matches_pypfopt_sector_constraints(stock_prices):
    staples = ("KO", "PEP", "PG", "WMT")
    ef = pypfopt_frontier(stock_prices)
    mapper = {s: ("staples" if s in staples else "other") for s in stock_prices.columns}
    ef.add_sector_constraints(mapper, {}, {"staples": 0.2})
    ef.min_volatility()
    cap = GroupCap(name="staples", symbols=staples, cap=0.2)
    got = ours(stock_prices, method="min_variance", group_caps=(cap,))
    assert_allclose(got, weights_of(ef, stock_prices.columns), atol=ATOL)


@pytest.mark.parametrize("cap", [1.0, 0.1])
def test_min_cvar_matches_pypfopt(stock_prices, stock_returns, cap):
    mu = expected_returns.mean_historical_return(stock_prices, compounding=False)
    ec = EfficientCVaR(mu, stock_returns, beta=0.95, weight_bounds=(0, cap), solver="CLARABEL")
    ec.min_cvar()
    got = ours(stock_prices, method="min_cvar", max_weight=cap)
    assert_allclose(got, weights_of(ec, stock_prices.columns), atol=ATOL)


def test_min_cvar_with_a_group_cap_matches_pypfopt(stock_prices, stock_returns):
    staples = ("KO", "PEP", "PG", "WMT")
    mu = expected_returns.mean_historical_return(stock_prices, compounding=False)
    ec = EfficientCVaR(mu, stock_returns, beta=0.95, solver="CLARABEL")
    mapper = {s: ("staples" if s in staples else "other") for s in stock_prices.columns}
    ec.add_sector_constraints(mapper, {}, {"staples": 0.15})
    ec.min_cvar()
    expected = weights_of(ec, stock_prices.columns)
    assert expected[list(staples)].sum() == pytest.approx(0.15, abs=1e-6)  # the cap binds
    cap = GroupCap(name="staples", symbols=staples, cap=0.15)
    got = ours(stock_prices, method="min_cvar", group_caps=(cap,))
    assert_allclose(got, expected, atol=ATOL)


def test_hrp_matches_pypfopt(stock_prices, stock_returns):
    expected = pd.Series(HRPOpt(stock_returns).optimize(linkage_method="single"))
    got = ours(stock_prices, method="hrp")
    assert_allclose(got, expected[stock_prices.columns], atol=ATOL)


def test_frontier_points_match_pypfopt_efficient_return(stock_prices):
    spec = AllocationSpec(method="max_sharpe", max_weight=0.2)
    points = efficient_frontier(estimate(stock_prices), spec, n_points=6)
    returns = [p.expected_return for p in points]
    assert returns == sorted(returns)
    for point in points[1:-1]:
        ef = pypfopt_frontier(stock_prices, (0, 0.2))
        ef.efficient_return(point.expected_return)
        got = pd.Series(point.weights)[stock_prices.columns]
        assert_allclose(got, weights_of(ef, stock_prices.columns), atol=ATOL)


# -- skfolio ---------------------------------------------------------------------------------


def skfolio_hrp(**kwargs) -> HierarchicalRiskParity:
    clustering = HierarchicalClustering(linkage_method=LinkageMethod.SINGLE)
    seriation = HierarchicalSeriation(
        hierarchical_clustering_estimator=clustering, optimal_ordering=False
    )
    return HierarchicalRiskParity(
        risk_measure=RiskMeasure.VARIANCE, seriation_estimator=seriation, **kwargs
    )


def fitted(model, returns) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(returns).weights_


@pytest.mark.parametrize(
    ("spec", "model"),
    [
        ({"method": "min_variance"}, lambda: MeanRisk(risk_measure=RiskMeasure.VARIANCE)),
        (
            {"method": "min_variance", "max_weight": 0.1},
            lambda: MeanRisk(risk_measure=RiskMeasure.VARIANCE, max_weights=0.1),
        ),
        (
            {"method": "max_sharpe"},
            lambda: MeanRisk(
                risk_measure=RiskMeasure.VARIANCE,
                objective_function=ObjectiveFunction.MAXIMIZE_RATIO,
            ),
        ),
        (
            {"method": "max_sharpe", "risk_free_rate": 0.0252},  # 1e-4 a day
            lambda: MeanRisk(
                risk_measure=RiskMeasure.VARIANCE,
                objective_function=ObjectiveFunction.MAXIMIZE_RATIO,
                risk_free_rate=1e-4,
            ),
        ),
        (
            # ours: max 252μᵀw − δ/2 · 252 wᵀΣw; skfolio: max μᵀw − λ wᵀΣw, so λ = δ/2
            {"method": "mean_variance", "risk_aversion": 3.0},
            lambda: MeanRisk(
                risk_measure=RiskMeasure.VARIANCE,
                objective_function=ObjectiveFunction.MAXIMIZE_UTILITY,
                risk_aversion=1.5,
            ),
        ),
        ({"method": "min_cvar"}, lambda: MeanRisk(risk_measure=RiskMeasure.CVAR, cvar_beta=0.95)),
        (
            {"method": "min_cvar", "max_weight": 0.1},
            lambda: MeanRisk(risk_measure=RiskMeasure.CVAR, max_weights=0.1),
        ),
        ({"method": "risk_parity"}, lambda: RiskBudgeting(risk_measure=RiskMeasure.VARIANCE)),
        ({"method": "hrp"}, skfolio_hrp),
        ({"method": "hrp", "max_weight": 0.07}, lambda: skfolio_hrp(max_weights=0.07)),
    ],
    ids=lambda v: "-".join(f"{x}" for x in v.values()) if isinstance(v, dict) else "",
)
def test_matches_skfolio(stock_prices, stock_returns, spec, model):
    expected = fitted(model(), stock_returns)
    assert_allclose(ours(stock_prices, **spec), expected, atol=ATOL)
