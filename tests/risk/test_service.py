"""The risk service is given its collaborators: the stress use case it is handed is the one
its report uses, and the module-level doors delegate to the ``risk`` they are given."""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace

import pytest

from core.risk import RiskService, portfolio_risk, portfolio_state
from core.whatif import STRESS_SCENARIOS, StressResult

BOUGHT = datetime(2020, 1, 2, 16)


def test_report_uses_the_stress_case_it_is_given(ws):
    ws.portfolios.create("R", 10_000.0, created_at=BOUGHT)
    calls = []

    def stress(name, scenario):
        calls.append((name, scenario.name))
        return StressResult(scenario.name, {}, -1.0, 4.0, 2.0, -0.5)

    risk = RiskService(ws.portfolios, ws.market, ws.sessions, stress)
    report = risk.report("R")

    assert calls == [("R", s) for s in STRESS_SCENARIOS]
    assert [(r["scenario"], r["pnl"], r["return"], r["equity_after"]) for r in report.stress] == [
        (s, -1.0, -0.5, 2.0) for s in STRESS_SCENARIOS
    ]
    assert report.equity == report.cash == 10_000.0  # nothing held: no measures
    assert report.var == [] and report.n_observations == 0
    # the JSON of python -m core risk: the keys of before the typed report, and no var_95 ...
    # when nothing is held
    assert list(report.to_dict()) == [
        "portfolio", "equity", "cash", "trading_state", "limits", "limit_usage", "drawdown",
        "stress", "as_of", "n_observations", "horizon_days", "var", "volatility", "beta",
        "correlation", "benchmark", "contributions",
    ]  # fmt: skip


def test_module_doors_delegate_to_the_risk_they_are_given():
    risk = SimpleNamespace(
        state=lambda name, now=None: ("state", name, now),
        report=lambda name, **options: {"name": name, **options},
    )
    owner = SimpleNamespace(risk=risk)  # stands in for the workstation

    assert portfolio_state(owner, "X", now=BOUGHT) == ("state", "X", BOUGHT)
    assert portfolio_risk(owner, "X", horizon=5) == {
        "name": "X",
        "horizon": 5,
        "lookback": 504,
        "n_sims": 50_000,
        "seed": 0,
    }


def test_lookback_below_thirty_days_is_refused_before_any_read():
    class Nothing:
        def __getattr__(self, name):
            raise AssertionError(f"read {name} although the lookback was refused")

    risk = RiskService(Nothing(), Nothing(), Nothing(), Nothing())
    with pytest.raises(ValueError, match="lookback must be at least 30 days, got 29"):
        risk.report("R", lookback=29)


# -- what the Risk page reads and changes, through the service (no session in the panel) ------
def test_risk_service_limits_and_kill_switch_round_trip(ws, table_counts):
    from core.risk import RiskConflict, RiskLimits, TradingState

    ws.portfolios.create("R", 10_000.0)
    version = ws.risk.log_version()
    assert ws.risk.limits("R") == RiskLimits() and not ws.risk.limits_saved("R")
    tight = RiskLimits(max_position_weight=0.05)
    assert ws.risk.save_limits("R", tight, actor="ui") == {"max_position_weight": [0.1, 0.05]}
    assert ws.risk.limits("R") == tight and ws.risk.limits_saved("R")
    assert ws.risk.log_version() == version + 1  # the change was audited: one more event
    assert ws.risk.trading_state("R") is TradingState.ACTIVE
    assert ws.risk.set_trading_state("R", "halted", actor="ui", reason="t") is TradingState.HALTED
    assert ws.risk.trading_state("R") is TradingState.HALTED
    before = table_counts(ws)
    with pytest.raises(RiskConflict, match="already halted"):
        ws.risk.set_trading_state("R", "halted")
    assert table_counts(ws) == before


def test_saving_one_limit_on_a_fresh_portfolio_switches_on_that_limit_only(ws):
    """Saving one limit used to store (and enforce) every example default."""
    ws.portfolios.create("F", 10_000.0, created_at=BOUGHT)
    assert not ws.risk.limits_saved("F")
    stored, changes = ws.risk.update_limits("F", ["max_position_weight=0.25"], actor="test")
    assert ws.risk.limits_saved("F")
    assert (
        ws.risk.limits("F").to_dict()
        == stored.to_dict()
        == {
            "max_position_weight": 0.25,
            "max_top3_weight": None,
            "min_cash": None,
            "max_daily_turnover": None,
            "max_drawdown": None,
            "daily_loss_limit": None,
            "min_adv": None,
            "trading_hours": None,
            "warn_at": 0.8,
        }
    )
    assert changes == {"max_position_weight": [None, 0.25]}


def test_saving_one_limit_leaves_the_other_stored_limits_as_they_were(ws):
    ws.portfolios.create("S", 10_000.0, created_at=BOUGHT)
    ws.risk.update_limits("S", ["min_cash=0.05", "max_drawdown=0.2", "warn_at=0.9"])
    _, changes = ws.risk.update_limits("S", ["min_cash=0.03"])
    limits = ws.risk.limits("S")
    assert (limits.min_cash, limits.max_drawdown, limits.warn_at) == (0.03, 0.2, 0.9)
    assert limits.max_position_weight is None and limits.daily_loss_limit is None
    assert changes == {"min_cash": [0.05, 0.03]}


def test_a_holding_whose_history_ended_is_measured_on_its_own_dates(ws):
    """SPX's bundled history ends in 2018 while the S&P 500 benchmark runs to 2022: its last
    close carried forward read as four flat years (zero returns), and the report refused
    ("cannot fit a Student-t to constant returns"). The window now ends at SPX's last bar."""
    ws.portfolios.create("Solo", 100_000.0, created_at=datetime(2018, 6, 1, 16))
    ws.portfolios.trade("Solo", "SPX", "buy", 10, ts=datetime(2018, 6, 1, 16))
    report = ws.risk.report("Solo", lookback=252)
    spx = ws.market.bars("SPX")["close"]
    returns = spx.pct_change().dropna().tail(252)  # the second method: the series itself
    assert report.as_of == spx.index[-1]
    assert report.n_observations == 252
    weight = 10 * spx.iloc[-1] / report.equity
    assert report.volatility == pytest.approx(weight * returns.std(ddof=1) * 252**0.5, rel=1e-9)
