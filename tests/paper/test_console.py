"""The console's cost summary: commissions beside the P&L, and when they dominate it."""

from __future__ import annotations

import pytest

from core.paper._console import cost_summary


def test_the_default_sessions_loss_is_almost_all_commissions():
    # the session: 21.7 % of 100,000 lost, 99.5 % of it commissions
    costs = cost_summary(-21_700.0, 21_591.5)
    assert costs["share_of_loss"] == pytest.approx(21_591.5 / 21_700)  # 0.995
    assert costs["gross_pnl"] == pytest.approx(-108.5)  # what trading lost before costs
    assert costs["dominate"]
    assert costs["message"].startswith("Commissions of 21,591.50 are 99.5% of the 21,700.00 lost")
    assert "(before costs: -108.50)" in costs["message"]


@pytest.mark.parametrize(
    ("pnl", "commissions", "share", "dominate"),
    [
        (-1000.0, 400.0, 0.4, False),  # 40 % of the loss: below half
        (-1000.0, 600.0, 0.6, True),  # 60 % of the loss
        (1000.0, 200.0, None, False),  # a profit larger than its costs
        (1000.0, 1500.0, None, True),  # costs larger than the whole P&L
        (-100.0, 100.0, 1.0, True),
        (0.0, 0.0, None, False),  # nothing traded
    ],
)
def test_costs_dominate_above_half_the_loss_or_the_absolute_pnl(pnl, commissions, share, dominate):
    costs = cost_summary(pnl, commissions)
    assert costs["share_of_loss"] == (None if share is None else pytest.approx(share))
    assert costs["gross_pnl"] == pytest.approx(pnl + commissions)
    assert costs["dominate"] is dominate
    assert (costs["message"] is not None) is dominate
