"""Risk page panels: the cached report, limit gauges, drawdown, stress, limits editor and the
kill switch."""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from app import charts, widgets
from app import format as fmt
from core.risk import (
    LIMIT_KEYS,
    DrawdownController,
    RiskError,
    RiskLimits,
    RiskReport,
    TradingState,
    drawdown_series,
    portfolio_risk,
)
from core.workstation import Workstation

FORM = "risk_limits_form"
SAVED = "_risk_limits_saved"
OUTCOME_COLOUR = {"pass": "green", "warn": "orange", "block": "red"}
OUTCOME_LABEL = {"pass": "OK", "warn": "near limit", "block": "breached"}
RATIO_LIMITS = [k for k in LIMIT_KEYS if k not in ("trading_hours", "min_adv", "warn_at")]
STATE_LABELS = {"active": "Active", "reducing_only": "Reducing only", "halted": "Halted"}


def log_version(ws: Workstation) -> int:
    """Id of the newest audit event: trades, limits and state changes all add one."""
    return ws.risk.log_version()


@st.cache_data(ttl=300, max_entries=16, show_spinner="Measuring the portfolio's risk…")
def _report(_ws: Workstation, name: str, horizon: int, version: int) -> RiskReport:
    return portfolio_risk(_ws, name, horizon=horizon)


def report(ws: Workstation, name: str, horizon: int) -> RiskReport:
    return _report(ws, name, horizon, log_version(ws))


def headline(r: RiskReport) -> None:
    if not r.var:
        st.info("No open positions: nothing at risk.")
        return
    h = r.horizon_days
    cols = st.columns(6)
    for col, key, label in zip(
        cols,
        ("var_95", "cvar_95", "var_99", "cvar_99"),
        ("VaR 95%", "CVaR 95%", "VaR 99%", "CVaR 99%"),
        strict=False,
    ):
        col.metric(
            f"{label} ({h}d)",
            f"{getattr(r, key):.2%}",
            widgets.amount(-getattr(r, key) * r.equity),
            delta_color="off",
            delta_arrow="off",
            help="Historical, on the current holdings; a loss as a fraction of equity",
        )
    cols[4].metric("Volatility (ann.)", f"{r.volatility:.2%}")
    cols[5].metric(
        f"Beta to {r.benchmark}",
        f"{r.beta:.2f}",
        f"corr. {r.correlation:.2f}",
        delta_color="off",
        delta_arrow="off",
    )
    st.caption(
        f"{r.n_observations} daily returns to {r.as_of:%Y-%m-%d}; VaR and CVaR are "
        "losses (positive fractions of equity) over the horizon."
    )


VAR_METHODS = {
    "historical": "Historical",
    "normal": "Normal",
    "student_t": "Student t",
    "monte_carlo": "Monte Carlo",
}


def var_table(r: RiskReport) -> None:
    frame = pd.DataFrame(r.var)
    frame["method"] = [VAR_METHODS.get(m, m) for m in frame["method"]]
    fmt.dataframe(
        frame,
        hide_index=True,
        height="content",
        key="risk_var",
        column_config={
            "method": "Method",
            "level": st.column_config.NumberColumn("Level", format="percent"),
            "var": st.column_config.NumberColumn("VaR", format="percent"),
            "cvar": st.column_config.NumberColumn("CVaR", format="percent"),
            "var_amount": st.column_config.NumberColumn("VaR amount", format="%,.0f"),
            "cvar_amount": st.column_config.NumberColumn("CVaR amount", format="%,.0f"),
        },
    )


def contributions_table(r: RiskReport) -> None:
    fmt.dataframe(
        pd.DataFrame(r.contributions),
        hide_index=True,
        key="risk_contributions",
        column_config={
            "symbol": "Symbol",
            "weight": st.column_config.NumberColumn("Weight", format="percent"),
            "volatility": st.column_config.NumberColumn("Own vol. (ann.)", format="percent"),
            "contribution": st.column_config.NumberColumn("Contribution", format="percent"),
            "share": st.column_config.ProgressColumn(
                "Share of risk", format="percent", min_value=0, max_value=1
            ),
        },
    )


GREEK_COLUMNS = {
    "underlying": "Underlying",
    "delta_shares": st.column_config.NumberColumn("Delta (shares)", format="%.1f"),
    "dollar_delta": st.column_config.NumberColumn("Dollar delta", format="%,.0f"),
    "dollar_gamma_1pct": st.column_config.NumberColumn("Dollar gamma (per 1 %)", format="%,.0f"),
    "vega_1pct": st.column_config.NumberColumn("Vega (per vol pt)", format="%,.2f"),
    "theta_day": st.column_config.NumberColumn("Theta (per day)", format="%,.2f"),
}


def greeks_panel(r: RiskReport) -> None:
    """Portfolio Greeks per underlying (shown when the portfolio holds options)."""
    greeks = r.greeks or {}
    if not any(p["symbol"] != p["underlying"] for p in greeks.get("positions", [])):
        return
    st.subheader("Greeks")
    frame = pd.DataFrame(
        [{"underlying": u, **values} for u, values in greeks["by_underlying"].items()]
    )
    fmt.dataframe(frame, hide_index=True, key="risk_greeks", column_config=GREEK_COLUMNS)
    total = greeks["total"]
    cols = st.columns(4)
    for col, key, label in zip(
        cols,
        ("dollar_delta", "dollar_gamma_1pct", "vega_1pct", "theta_day"),
        ("Dollar delta", "Dollar gamma / 1 %", "Vega / vol pt", "Theta / day"),
        strict=True,
    ):
        col.metric(label, f"{total[key]:,.2f}")
    st.caption(
        "Delta in shares of the underlying; dollar gamma is the change of dollar delta for a "
        "1 % move of the spot. Options without a market price are marked by Black-Scholes "
        "with the portfolio's volatility surface or the vol implied by their last trade."
    )


def enforcement_note(ws: Workstation, name: str) -> None:
    """Say whether the limits below stop manual orders (they do once saved)."""
    if ws.risk.limits_saved(name):
        st.caption(
            "These limits are enforced: the trade ticket, `portfolio trade` and paper "
            "sessions with risk checks refuse an order a rule blocks."
        )
    else:
        st.info(
            "These are the example defaults, shown for reference: they are not enforced "
            "on this portfolio's orders until saved under **Edit limits**. The kill switch "
            "always is.",
            icon=":material/info:",
        )


def limit_gauges(r: RiskReport) -> None:
    """One progress bar per rule, coloured by its outcome, and the table of numbers."""
    for u in r.limit_usage:
        colour, label = OUTCOME_COLOUR[u["outcome"]], OUTCOME_LABEL[u["outcome"]]
        title = f"**{u['rule'].replace('_', ' ')}** :{colour}-badge[{label}]"
        if u["used"] is None:
            st.markdown(f"{title} — {widgets.plain(u['message'])}")
            continue
        used = u["used"] if math.isfinite(u["used"]) else 1.0
        st.progress(min(max(used, 0.0), 1.0), text=f"{title} — {widgets.plain(u['message'])}")
    frame = pd.DataFrame(r.limit_usage).astype({"value": str, "limit": str})
    fmt.dataframe(
        frame,
        hide_index=True,
        height="content",
        key="risk_limits_table",
        column_config={
            "used": st.column_config.NumberColumn("Used", format="percent"),
            "message": st.column_config.TextColumn("Why", width="large"),
        },
    )


def drawdown_panel(ws: Workstation, name: str, r: RiskReport) -> None:
    d = r.drawdown
    cols = st.columns(4)
    cols[0].metric("Drawdown", f"{d['drawdown']:.2%}", help="Below the highest equity seen")
    cols[1].metric("Controller level", d["level"])
    cols[2].metric("Position scale", f"{d['scale']:g}")
    cols[3].metric("Worst drawdown", f"{d['max_drawdown']:.2%}")
    curve = ws.portfolios.equity_curve(name)["equity"]
    if len(curve) > 1:
        frame = drawdown_series(curve, d["warning"], d["critical"], d["critical_scale"])
        st.plotly_chart(
            charts.drawdown_bands_figure(frame, d["warning"], d["critical"]), key="risk_drawdown"
        )
    controller = DrawdownController()
    st.caption(
        f"Warning from {controller.warning:.0%}, critical from {controller.critical:.0%} "
        f"(positions scaled by {controller.critical_scale:g})."
    )


def stress_table(r: RiskReport) -> None:
    fmt.dataframe(
        pd.DataFrame(r.stress),
        hide_index=True,
        height="content",
        key="risk_stress",
        column_config={
            "scenario": "Scenario",
            "description": st.column_config.TextColumn("Mirrors", width="large"),
            "pnl": st.column_config.NumberColumn("P&L", format="%,.0f"),
            "return": st.column_config.NumberColumn("Return", format="percent"),
            "equity_after": st.column_config.NumberColumn("Equity after", format="%,.0f"),
        },
    )


def limits_form(ws: Workstation, name: str) -> None:
    """The editor of ``name``'s limits, always showing what is stored for ``name``."""
    current = ws.risk.limits(name)
    defaults = RiskLimits()
    switchable = [*RATIO_LIMITS, "min_adv"]
    hours = current.trading_hours or {}
    stored = {
        "lim_off": [k for k in switchable if getattr(current, k) is None],
        **{f"lim_{k}": float(_or(getattr(current, k), getattr(defaults, k))) for k in RATIO_LIMITS},
        "lim_min_adv": float(_or(current.min_adv, 100_000.0)),
        "lim_warn_at": float(current.warn_at),
        "lim_trading_hours": "; ".join(
            f"{k}={w.start:%H:%M}-{w.end:%H:%M}" for k, w in hours.items()
        ),
    }
    widgets.bind("risk_limits", (name, current.model_dump_json()), stored)
    widgets.field_error(FORM, "_form")
    with st.form(FORM):
        st.multiselect(
            "Rules switched off",
            switchable,
            format_func=lambda k: k.replace("_", " "),
            key="lim_off",
        )
        cols = st.columns(3)
        for i, key in enumerate(RATIO_LIMITS):
            cols[i % 3].number_input(
                f"{key.replace('_', ' ')} (fraction)",
                min_value=0.0,
                step=0.01,
                format="%.4f",
                key=f"lim_{key}",
            )
        cols[0].number_input(
            "min adv (shares a day)", min_value=0.0, step=1000.0, key="lim_min_adv"
        )
        cols[1].number_input(
            "warn at (fraction of a limit)",
            min_value=0.01,
            max_value=1.0,
            step=0.05,
            key="lim_warn_at",
        )
        cols[2].text_input("trading hours (class=HH:MM-HH:MM; …)", key="lim_trading_hours")
        if st.form_submit_button("Save limits"):
            if widgets.run_action(FORM, lambda: _save(ws, name, stored)):
                st.session_state[SAVED] = name  # shown here, in this tab, after the rerun
            st.rerun()
    if st.session_state.pop(SAVED, None) == name:
        st.toast("Limits saved", icon=":material/check_circle:")
        st.success(widgets.plain(f"Limits of {name} saved"))


def _or(value, fallback):
    return fallback if value is None else value


def _save(ws: Workstation, name: str, shown: dict) -> None:
    """Save the limits whose inputs differ from what the form showed, and only those: the
    others stay as stored (none enforced on a portfolio without saved limits)."""
    state = st.session_state
    pairs = []
    off, was_off = set(state["lim_off"]), set(shown["lim_off"])
    for key in [*RATIO_LIMITS, "min_adv", "warn_at"]:
        value, field = state[f"lim_{key}"], f"lim_{key}"
        if key in off:
            if key not in was_off:
                pairs.append(f"{key}=none")
        elif key in was_off or value != shown[field]:
            pairs.append(f"{key}={'none' if value is None else value}")
    hours = str(state["lim_trading_hours"])
    if hours.strip() != str(shown["lim_trading_hours"]).strip():
        pairs.append("trading_hours=none")
        for part in hours.split(";"):
            if part.strip():
                klass, sep, window = part.partition("=")
                if not sep:
                    raise RiskError(
                        f"trading hours: {part.strip()!r} must look like stock=09:30-16:00"
                    )
                pairs.append(f"trading_hours.{klass.strip()}={window.strip()}")
    if not pairs:
        raise RiskError("limits: nothing changed; edit a limit before saving")
    ws.risk.update_limits(name, pairs, actor="ui")


# How restrictive each state is: moving down this order lifts a restriction.
STRICTNESS = {"active": 0, "reducing_only": 1, "halted": 2}


def needs_confirmation(stored: str, chosen: str | None) -> bool:
    """Lifting a restriction (halted → reducing only or active, reducing only → active)."""
    return chosen is not None and STRICTNESS[chosen] < STRICTNESS[stored]


def kill_switch(ws: Workstation, name: str) -> None:
    """The trading state: active, reducing only, halted (audited with a reason).

    The control always shows ``name``'s stored state (re-read here, and reset whenever the
    portfolio or its stored state changes); Apply needs a different state, and lifting a
    restriction needs the confirmation box ticked.
    """
    state = ws.risk.trading_state(name).value
    choice_key, reason_key = f"risk_state_choice::{name}", f"risk_state_reason::{name}"
    widgets.bind("risk_state", (name, state), {choice_key: state, reason_key: ""})
    colour = {"active": "green", "reducing_only": "orange", "halted": "red"}[state]
    st.markdown(f"Trading state: :{colour}-badge[{STATE_LABELS[state]}]")
    cols = st.columns([2, 3, 1])
    choice = widgets.required_choice(
        cols[0],
        "Set trading state",
        [s.value for s in TradingState],
        key=choice_key,
        fallback=state,
        format_func=STATE_LABELS.get,
    )
    reason = cols[1].text_input("Reason (audited)", key=reason_key)
    confirmed = True
    if needs_confirmation(state, choice):
        confirmed = st.checkbox(  # a new box (unticked) for each portfolio, state and choice
            f"I confirm lifting the {STATE_LABELS[state].lower()} state: "
            f"{STATE_LABELS[choice].lower()} lets new orders through",
            key=f"risk_state_confirm::{name}::{state}::{choice}",
        )
    changed = choice is not None and choice != state
    clicked = cols[2].button(
        "Apply",
        key=f"risk_state_apply::{name}",
        type="primary",
        disabled=not (changed and confirmed),
        help=None if changed else "Choose a different state to apply",
    )
    if clicked and changed and confirmed:  # checked again: a disabled button is no guarantee
        try:
            ws.risk.set_trading_state(name, choice, actor="ui", reason=reason)
        except RiskError as exc:  # e.g. switched meanwhile by someone else to this state
            widgets.show_error(exc)
            return
        st.session_state["_flash"] = f"{name}: trading {STATE_LABELS[choice].lower()}"
        st.rerun()
