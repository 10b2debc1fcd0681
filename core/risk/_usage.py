"""How much of each limit a portfolio uses now, before any order (the Risk page's gauges).

Same rules and arithmetic as the pre-trade checks; ``block`` here means the limit is
already breached, so new risk-taking orders would be blocked.
"""

from __future__ import annotations

import math

from core.risk._errors import RiskInputError
from core.risk._limits import RiskLimits, TradingState
from core.risk._pretrade import PortfolioState, RuleResult, ratio_rule


def _weights(state: PortfolioState) -> dict[str, float]:
    if state.equity <= 0:
        return {s: math.inf for s, q in state.positions.items() if q}
    weights = {}
    for symbol, qty in state.positions.items():
        if qty == 0:
            continue
        price = state.prices.get(symbol)
        if price is None or not math.isfinite(price):
            raise RiskInputError(
                f"no price for held symbol {symbol} in the portfolio state's prices"
            )
        weights[symbol] = abs(qty * price * state.multipliers.get(symbol, 1.0)) / state.equity
    return weights


def limit_usage(state: PortfolioState, limits: RiskLimits) -> list[RuleResult]:
    """One result per configured rule for the portfolio as it stands."""
    weights = _weights(state)
    ranked = sorted(weights.items(), key=lambda kv: -kv[1])
    warn_at, equity = limits.warn_at, state.equity
    results = [_state_result(state.trading_state)]
    if limits.max_position_weight is not None:
        symbol, weight = ranked[0] if ranked else ("no position", 0.0)
        text = f"largest position {symbol} weighs"
        results.append(
            ratio_rule("max_position_weight", weight, limits.max_position_weight, warn_at, text)
        )
    if limits.max_top3_weight is not None:
        top = ranked[:3]
        text = f"largest three ({', '.join(s for s, _ in top) or 'none'}) weigh"
        value = sum(w for _, w in top)
        results.append(ratio_rule("max_top3_weight", value, limits.max_top3_weight, warn_at, text))
    if limits.min_cash is not None:
        value = state.cash / equity if equity > 0 else -math.inf
        text = f"cash {state.cash:,.2f} of equity {equity:,.2f} ="
        results.append(ratio_rule("min_cash", value, limits.min_cash, warn_at, text, True))
    if limits.max_daily_turnover is not None:
        value = state.day_turnover / equity if equity > 0 else math.inf
        text = f"traded today {state.day_turnover:,.2f} of equity {equity:,.2f} ="
        results.append(
            ratio_rule("max_daily_turnover", value, limits.max_daily_turnover, warn_at, text)
        )
    results += _loss_results(state, limits)
    if limits.min_adv is not None and weights:
        results.append(_liquidity(state, limits, list(weights)))
    return results


def _state_result(trading_state: TradingState) -> RuleResult:
    outcome = {"active": "pass", "reducing_only": "warn", "halted": "block"}[trading_state]
    return RuleResult(
        "trading_state", outcome, trading_state.value, None, f"trading {trading_state.value}"
    )


def _loss_results(state: PortfolioState, limits: RiskLimits) -> list[RuleResult]:
    results = []
    for rule, limit, base, what in (
        ("max_drawdown", limits.max_drawdown, state.peak_equity, "peak"),
        ("daily_loss_limit", limits.daily_loss_limit, state.day_start_equity, "day start"),
    ):
        if limit is None:
            continue
        base = state.equity if base is None else base
        value = max(0.0, (base - state.equity) / base) if base > 0 else 0.0
        text = f"equity {state.equity:,.2f} vs {what} {base:,.2f}: loss"
        results.append(ratio_rule(rule, value, limit, limits.warn_at, text))
    return results


def _liquidity(state: PortfolioState, limits: RiskLimits, held: list[str]) -> RuleResult:
    known = {s: state.adv[s] for s in held if math.isfinite(state.adv.get(s, math.nan))}
    unknown = sorted(set(held) - set(known))
    if not known:
        message = f"no average daily volume known for {', '.join(unknown)}"
        return RuleResult("min_adv", "warn", None, limits.min_adv, message)
    symbol = min(known, key=known.get)
    adv = known[symbol]
    used = limits.min_adv / adv if adv > 0 else math.inf
    outcome = "block" if used > 1 else "warn" if used >= limits.warn_at or unknown else "pass"
    message = f"least liquid holding {symbol}: {adv:,.0f} a day vs minimum {limits.min_adv:,.0f}"
    if unknown:
        message += f"; unknown for {', '.join(unknown)}"
    return RuleResult("min_adv", outcome, adv, limits.min_adv, message, used)
