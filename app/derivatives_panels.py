"""Derivatives page panels: the option pricer, the chain from a smile, the multi-leg builder,
the pip calculator and position sizer, and the futures calculator. All the math is
``core.derivatives``; these read widgets, call it and render."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from app import derivatives_charts as charts
from app import format as fmt
from app.param_form import param_inputs
from core import derivatives as d
from core.errors import InvalidInputError

PAIRS = ["EUR/USD", "GBP/USD", "USD/JPY", "EUR/GBP", "EUR/JPY", "AUD/USD", "USD/CHF", "USD/CAD"]
ACCOUNTS = ["USD", "EUR", "GBP", "JPY", "CHF", "CAD", "AUD"]
GREEK_UNITS = {
    "price": "per unit of the underlying",
    "delta": "∂V/∂S",
    "gamma": "∂²V/∂S²",
    "theta_per_year": "per year",
    "theta_per_day": "per calendar day (/365)",
    "theta_per_trading_day": "per trading day (/252)",
    "vega_per_1": "per 1.00 of volatility",
    "vega_per_1pct": "per 1 % of volatility",
    "rho_per_1": "per 1.00 of rate",
    "rho_per_1pct": "per 1 % of rate",
}
KINDS = ["vertical", "straddle", "strangle", "iron condor", "butterfly", "calendar"]
DEFAULT_STRIKES = {
    "vertical": "95, 105",
    "straddle": "100",
    "strangle": "90, 110",
    "iron condor": "80, 90, 110, 120",
    "butterfly": "90, 100, 110",
    "calendar": "100",
}


# -- option pricer -------------------------------------------------------------------------


def pricer_panel() -> None:
    """Price one option; its Greeks with units; the implied vol of a market price; price and
    delta against spot, vol and time."""
    left, right = st.columns([1, 2.6], gap="large")
    with left:
        params = d.PricerParams(**param_inputs(d.PricerParams, "dv_pr"))
    g = params.greeks()
    with right:
        # two rows of three: five abreast cut "-0.0259" on a 1280 px screen
        cols = [*st.columns(3), *st.columns(3)]
        cols[0].metric("Price", fmt.number(g.price, 4))
        cols[1].metric("Delta", fmt.number(g.delta, 4))
        cols[2].metric("Gamma", fmt.number(g.gamma, 4))
        cols[3].metric("Theta / day", fmt.number(g.theta_per_day, 4), help="per calendar day")
        cols[4].metric("Vega / 1 %", fmt.number(g.vega_per_1pct, 4), help="per 1 % of vol")
        cols[5].metric("Rho / 1 %", fmt.number(g.rho_per_1pct, 4), help="per 1 % of rate")
        rows = [
            {"greek": k, "value": fmt.number(v, 6), "unit": GREEK_UNITS[k]}
            for k, v in g.as_dict().items()
        ]
        fmt.dataframe(pd.DataFrame(rows), hide_index=True, height="content", key="dv_pr_greeks")
        implied_vol_view(params)
    sensitivity_charts(params)


def implied_vol_view(params: d.PricerParams) -> None:
    """A market price in, its implied volatility (or why there is none) out."""
    c1, c2 = st.columns([1, 2])
    price = c1.number_input("market price", 0.0, None, 5.0, format="%.4f", key="dv_pr_market")
    result = params.implied(price)
    if result.reason:
        c2.metric("Implied vol", fmt.MISSING)
        c2.caption(f"No implied volatility: {result.reason}.")
    else:
        c2.metric("Implied vol", fmt.pct(result.iv, 4))


def sensitivity_charts(params: d.PricerParams) -> None:
    """Price and delta as spot, volatility and time to expiry move (the rest held)."""
    p = params
    spots = np.linspace(0.5 * p.spot, 1.5 * p.spot, 121)
    vols = np.linspace(0.01, max(1.0, 2 * p.vol), 121)
    days = np.linspace(max(p.expiry_days, 1.0), 0.0, 121)
    figures = (
        (spots, p.greeks(spot=spots), "Against spot", "spot"),
        (vols, p.greeks(vol=vols), "Against volatility", "volatility (per √year)"),
        (days, p.greeks(expiry=days / d.DAYS_PER_YEAR), "Against time", "days to expiry"),
    )
    for col, (x, g, title, x_title) in zip(st.columns(3), figures, strict=True):
        fig = charts.price_delta_figure(x, g.price, g.delta, title, x_title)
        col.plotly_chart(fig, key=f"dv_pr_chart_{x_title.split()[0]}")
    st.caption("Each chart moves one input and holds the others; time runs down to expiry (0).")


# -- option chain --------------------------------------------------------------------------


def chain_panel() -> None:
    """An option chain priced from a user-set volatility smile."""
    left, right = st.columns([1, 2.6], gap="large")
    with left:
        market = d.OptionMarket(
            spot=st.number_input("spot", 0.01, None, 100.0, key="dv_ch_spot"),
            vol=0.2,
            rate=st.number_input("rate", -0.2, 1.0, 0.03, format="%.4f", key="dv_ch_rate"),
            dividend=st.number_input("dividend", -0.2, 1.0, 0.0, format="%.4f", key="dv_ch_div"),
        )
        days = st.number_input("expiry (days)", 1.0, 3650.0, 30.0, key="dv_ch_days")
        smile = d.SmileParams(**param_inputs(d.SmileParams, "dv_ch"))
        width = st.slider("strikes ± % of spot", 5, 60, 20, key="dv_ch_width")
        step = st.number_input("strike step", 0.01, None, 5.0, key="dv_ch_step")
    strikes = chain_strikes(market.spot, width / 100.0, step)
    chain = d.option_chain(market, strikes, days / d.DAYS_PER_YEAR, smile)
    with right:
        st.plotly_chart(
            charts.lines_figure(chain["strike"], {"vol": chain["vol"]}, "Smile", "strike", "σ"),
            key="dv_ch_smile",
        )
        fmt.dataframe(chain, hide_index=True, key="dv_ch_table", column_config=_chain_formats())
        st.caption(
            "σ(K) = atm + skew·k + curvature·k², k = ln(K/F)/√T, floored at min_vol; each row "
            "priced with BSM at its σ. call_iv inverts the call price (it equals vol)."
        )


def chain_strikes(spot: float, width: float, step: float) -> np.ndarray:
    """Strikes on a ``step`` grid covering spot × (1 ± width), at most 201."""
    low = max(step, np.floor(spot * (1 - width) / step) * step)
    high = np.ceil(spot * (1 + width) / step) * step
    return np.arange(low, high + step / 2, step)[:201]


def _chain_formats() -> dict:
    four = st.column_config.NumberColumn(format="%.4f")
    return {
        "call_price": four,
        "put_price": four,
        "call_delta": four,
        "put_delta": four,
        "gamma": four,
        "vega_per_1pct": four,
        "call_theta_per_day": four,
        "put_theta_per_day": four,
        "call_iv": st.column_config.NumberColumn(format="percent"),
    }


# -- multi-leg builder ---------------------------------------------------------------------


def build_strategy(kind: str, market, strikes, days, far_days, right, long, quantity, mult):
    """The strategy the builder's inputs describe (``core.derivatives`` builders)."""
    need = {"vertical": 2, "strangle": 2, "iron condor": 4, "butterfly": 3}.get(kind, 1)
    if len(strikes) != need:
        raise InvalidInputError(f"strikes: a {kind} takes {need}, got {len(strikes)}")
    t = days / d.DAYS_PER_YEAR
    common = {"quantity": quantity, "multiplier": mult}
    if kind == "vertical":
        return d.vertical(market, right, *strikes, t, bull=long, **common)
    if kind == "straddle":
        return d.straddle(market, strikes[0], t, long=long, **common)
    if kind == "strangle":
        return d.strangle(market, *strikes, t, long=long, **common)
    if kind == "iron condor":
        return d.iron_condor(market, strikes, t, short=long, **common)
    if kind == "butterfly":
        return d.butterfly(market, strikes, t, right, long=long, **common)
    return d.calendar(market, strikes[0], t, far_days / d.DAYS_PER_YEAR, right, long=long, **common)


def strategy_inputs():
    """The builder's form; the market and the strategy."""
    kind = st.selectbox("strategy", KINDS, key="dv_st_kind")
    strikes = d.parse_strikes(
        st.text_input("strikes (ascending)", DEFAULT_STRIKES[kind], key=f"dv_st_k_{kind}")
    )
    right = st.radio("type", ["call", "put"], horizontal=True, key="dv_st_right")
    side = {"iron condor": ("short", "long")}.get(kind, ("long", "short"))
    if kind == "vertical":
        side = ("bull", "bear")
    long = st.radio("side", side, horizontal=True, key=f"dv_st_side_{kind}") == side[0]
    days = st.number_input("expiry (days)", 1.0, 3650.0, 30.0, key="dv_st_days")
    far = st.number_input("far expiry (days, calendar)", 2.0, 3650.0, 90.0, key="dv_st_far")
    quantity = st.number_input("quantity", 1.0, None, 1.0, key="dv_st_qty")
    mult = st.number_input("multiplier", 1.0, None, 100.0, key="dv_st_mult")
    market = d.OptionMarket(**param_inputs(d.OptionMarket, "dv_st"))
    return market, build_strategy(kind, market, strikes, days, far, right, long, quantity, mult)


def _extreme(value, unlimited: bool) -> str:
    return "unlimited" if unlimited else fmt.number(value)


def strategy_panel() -> None:
    """A multi-leg strategy: its legs, payoff diagram, breakevens, extremes and net Greeks."""
    left, right = st.columns([1, 2.6], gap="large")
    with left:
        market, strategy = strategy_inputs()
    a = d.analyze(strategy, market)
    with right:
        st.subheader(strategy.name)
        cols = st.columns(4)
        label = "Net debit" if a.net_premium >= 0 else "Net credit"
        cols[0].metric(label, fmt.number(abs(a.net_premium)))
        cols[1].metric("Max profit", _extreme(a.max_profit, a.max_profit_unlimited))
        cols[2].metric("Max loss", _extreme(a.max_loss, a.max_loss_unlimited))
        cols[3].metric("Breakevens", ", ".join(fmt.number(b) for b in a.breakevens) or "none")
        top = max(leg.strike for leg in strategy.legs)
        spots = np.linspace(0.5 * min(leg.strike for leg in strategy.legs), 1.5 * top, 301)
        fig = charts.payoff_figure(
            spots,
            d.pnl_at_expiry(strategy, spots, market),
            d.pnl_today(strategy, spots, market),
            a.breakevens,
            market.spot,
        )
        st.plotly_chart(fig, key="dv_st_payoff")
        legs = pd.DataFrame([leg.model_dump(exclude={"vol"}) for leg in strategy.legs])
        legs["expiry_days"] = legs.pop("expiry") * d.DAYS_PER_YEAR
        fmt.dataframe(
            legs,
            hide_index=True,
            key="dv_st_legs",
            column_config={"premium": st.column_config.NumberColumn(format="%.4f")},
        )
        greeks = pd.DataFrame([{"greek": k, "net": fmt.number(v, 4)} for k, v in a.greeks.items()])
        fmt.dataframe(greeks, hide_index=True, height="content", key="dv_st_greeks")
        exact = "exact (one expiry)" if a.exact else "on a grid (later legs valued with BSM)"
        st.caption(
            f"P&L for the whole position (× multiplier). At expiry = the front expiry; extremes "
            f"and breakevens {exact}. Net Greeks today; price = the position's value."
        )


# -- forex ---------------------------------------------------------------------------------


def fx_panel() -> None:
    """Pip size and value in the account currency, and a position sized from risk."""
    left, right = st.columns(2, gap="large")
    with left:
        st.subheader("Pip calculator")
        pair = d.CurrencyPair.parse(st.selectbox("pair", PAIRS, key="dv_fx_pair"))
        account = st.selectbox("account currency", ACCOUNTS, key="dv_fx_account")
        units = st.number_input("units (base currency)", 1.0, None, 100_000.0, key="dv_fx_units")
        price = st.number_input(f"{pair} price", 1e-6, None, 1.0, format="%.5f", key="dv_fx_px")
        conversion = None
        if account not in (pair.base, pair.quote):
            conversion = st.number_input(
                f"{account} per {pair.quote}", 1e-9, None, 1.0, format="%.6f", key="dv_fx_conv"
            )
        value = d.pip_value(pair, units, account, conversion, price)
        c1, c2, c3 = st.columns(3)
        c1.metric(f"Pip size ({pair.quote})", f"{value.pip_size:g}")
        c2.metric(f"Pip value ({account})", fmt.number(value.pip_value))
        c3.metric(f"Pip value ({pair.quote})", fmt.number(value.pip_value_quote))
        st.caption(
            f"Conversion {value.conversion:.6g} {account} per {pair.quote} (1 when the account "
            "is the quote currency, 1/price when it is the base)."
        )
    with right:
        st.subheader("Position sizer")
        sizer = d.SizerParams(**param_inputs(d.SizerParams, "dv_fx"))
        size = d.position_size(
            pair, sizer.equity, sizer.risk_pct, sizer.stop_pips, account, conversion, price
        )
        c1, c2, c3 = st.columns(3)
        c1.metric("Lots", fmt.number(size.lots))
        c2.metric("Units", fmt.number(size.units, 0))
        c3.metric(f"Loss at stop ({account})", fmt.number(size.risk_at_stop))
        st.caption(
            f"Risk {fmt.money(size.risk_amount, account)}; lots rounded down to 0.01 (1,000 units)."
        )


# -- futures -------------------------------------------------------------------------------


def _leverage(value: float) -> str:
    """``16.2×``; a dash when equity is gone (no finite leverage)."""
    text = fmt.number(value, 1)
    return text if text == fmt.MISSING else f"{text}×"


def futures_panel() -> None:
    """A contract's terms, a position's P&L and its margin against the broker's figures."""
    left, right = st.columns([1, 2.6], gap="large")
    with left:
        symbol = st.selectbox("contract", list(d.CONTRACTS), key="dv_fu_symbol")
        params = d.MarginParams(**param_inputs(d.MarginParams, "dv_fu"))
    spec = d.futures_spec(symbol)
    status = d.margin_status(
        spec,
        params.contracts,
        params.entry,
        params.price,
        params.deposit,
        params.initial_margin,
        params.maintenance_margin,
    )
    with right:
        st.subheader(f"{spec.symbol} — {spec.name}")
        cur = spec.currency
        rows = (
            (
                ("Multiplier", fmt.number(spec.multiplier, 0)),
                ("Tick size", f"{spec.tick_size:g}"),
                (f"Tick value ({cur})", fmt.number(spec.tick_value)),
            ),
            (
                (f"P&L ({cur})", fmt.number(status.pnl)),
                (f"Equity ({cur})", fmt.number(status.equity)),
                (f"Notional ({cur})", fmt.number(status.notional)),
            ),
            (
                (f"Initial required ({cur})", fmt.number(status.initial_required)),
                (f"Maintenance ({cur})", fmt.number(status.maintenance_required)),
                ("Leverage", _leverage(status.leverage)),
            ),
        )
        for row in rows:
            for col, (label, value) in zip(st.columns(3), row, strict=True):
                col.metric(label, value)
        if status.margin_call:
            st.error(
                f"Margin call: deposit {fmt.money(status.call_amount, spec.currency)} to "
                "restore the initial margin."
            )
        call = "—" if status.call_price is None else fmt.number(status.call_price)
        st.caption(
            f"{fmt.number(status.ticks, 1)} ticks from entry; margin call at {call}. Margins are "
            "per contract and set by the exchange and your broker — the defaults are examples, "
            "not current requirements."
        )
