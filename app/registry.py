"""The one list of pages: the menu, the home page's links and the tests read it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PageSpec:
    path: str  # relative to app/main.py
    title: str
    icon: str
    url_path: str
    section: str
    blurb: str


PAGES: tuple[PageSpec, ...] = (
    PageSpec(
        "../pages/home.py",
        "Home",
        ":material/home:",
        "home",
        "Workstation",
        "What the workstation does and the demo portfolio at a glance.",
    ),
    PageSpec(
        "../pages/portfolio_lab.py",
        "Portfolio Lab",
        ":material/account_balance_wallet:",
        "portfolio-lab",
        "Portfolios",
        "Create portfolios, trade, follow P&L, export, import and merge.",
    ),
    PageSpec(
        "../pages/risk.py",
        "Risk",
        ":material/shield:",
        "risk",
        "Portfolios",
        "VaR/CVaR, limits and how much is used, drawdown controller, stress, kill switch.",
    ),
    PageSpec(
        "../pages/audit.py",
        "Audit",
        ":material/verified_user:",
        "audit",
        "Portfolios",
        "The hash-chained log with filters, chain verification, compliance report.",
    ),
    PageSpec(
        "../pages/allocation.py",
        "Allocation",
        ":material/donut_large:",
        "allocation",
        "Portfolios",
        "Weights by eight methods under caps, efficient frontier, risk contributions, apply.",
    ),
    PageSpec(
        "../pages/paper.py",
        "Paper trading",
        ":material/monitoring:",
        "paper",
        "Trading",
        "Watch strategies trade a virtual portfolio on a live feed; orders, fills, P&L, risk.",
    ),
    PageSpec(
        "../pages/derivatives.py",
        "Derivatives",
        ":material/function:",
        "derivatives",
        "Trading",
        "Option pricer and Greeks, chain from a smile, multi-leg payoffs, pip and futures math.",
    ),
    PageSpec(
        "../pages/backtest.py",
        "Backtest",
        ":material/query_stats:",
        "backtest",
        "Research",
        "Run a strategy over history with costs; Monte Carlo, stress tests, compare runs.",
    ),
    PageSpec(
        "../pages/optimize.py",
        "Optimize",
        ":material/tune:",
        "optimize",
        "Research",
        "Search a strategy's parameters in the background: grid, random, MCMC, DE, Bayesian.",
    ),
    PageSpec(
        "../pages/regimes.py",
        "Regimes",
        ":material/insights:",
        "regimes",
        "Research",
        "Hidden Markov regimes: states, transitions, the regime now, strategy results by regime.",
    ),
    PageSpec(
        "../pages/market_data.py",
        "Market Data",
        ":material/candlestick_chart:",
        "market-data",
        "Data",
        "Browse bundled and imported history; upload your own CSV or Parquet.",
    ),
)
