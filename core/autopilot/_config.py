"""The autopilot's settings: the universe, the regime's windows, costs and guards (pydantic).

One frozen, keyword-only model; its defaults are what ``python -m core autopilot`` uses. The
risk limits are not here: they are the account's own (:class:`core.risk.RiskLimits`, the
issue's defaults until saved on the Risk page).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from core.execution import CommissionModel, SlippageModel

STOCKS: tuple[str, ...] = (
    "AAPL", "AMD", "BAC", "BBY", "CVX", "GE", "HD", "JNJ", "JPM", "KO",
    "LLY", "MRK", "MSFT", "PEP", "PFE", "PG", "RRC", "UNH", "WMT", "XOM",
)  # fmt: skip
"""The bundled universe: 20 S&P 500 stocks, adjusted closes 1990-01-02 .. 2022-12-28."""

Cadence = Literal["daily", "weekly", "monthly"]


class AutopilotConfig(BaseModel):
    """How the loop reads the market and trades.

    Attributes
    ----------
    universe : tuple of str
        Symbols the generators may hold.
    index : str
        The market index the volatility, trend and HMM components read (closes).
    vol_window : int
        Days of log returns in the realized volatility (annualised with √252).
    vol_history : int
        Days of past realized volatility its percentile is taken against.
    vol_edges : tuple of float
        Percentile edges low | medium | high | extreme (three increasing numbers in (0, 1)).
    trend_fast, trend_slow : int
        The simple moving averages (days) of the trend rule.
    breadth_window : int
        The moving average (days) a stock must be above to count in breadth.
    hmm_states, hmm_window, seed : int
        The HMM: states, training days before each month's first trading day, seed.
    top_n : int
        Names a ranking generator holds.
    max_stale_days : int
        Business days the last bar may lag ``as_of`` before the run refuses (stale data).
    model_max_age_days : int
        Calendar days after its training end a model is still fresh.
    commission, slippage
        Cost models for planned orders (paper fills are booked at those prices and fees).
    cadence : str
        How often :func:`simulate` rebalances (``daily``, ``weekly`` on the week's first
        trading day, ``monthly`` on the month's).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    universe: tuple[str, ...] = STOCKS
    index: str = "SP500"
    vol_window: int = Field(20, ge=5)
    vol_history: int = Field(756, ge=60)
    vol_edges: tuple[float, float, float] = (0.5, 0.8, 0.95)
    trend_fast: int = Field(50, ge=5)
    trend_slow: int = Field(200, ge=10)
    breadth_window: int = Field(50, ge=5)
    hmm_states: int = Field(3, ge=2, le=4)
    hmm_window: int = Field(756, ge=100)
    seed: int = 0
    top_n: int = Field(10, ge=1)
    max_stale_days: int = Field(4, ge=0)
    model_max_age_days: int = Field(190, ge=1)
    commission: CommissionModel = CommissionModel(rate=0.0005)
    slippage: SlippageModel = SlippageModel(bps=5.0)
    cadence: Cadence = "monthly"
