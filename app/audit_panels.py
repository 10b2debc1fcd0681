"""Audit page panels: the filtered log, chain verification, the compliance report."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pandas as pd
import streamlit as st

from app import format as fmt
from app.widgets import plain
from core.audit import report_to_csv, report_to_json
from core.workstation import Workstation

ALL = "All portfolios"
MAX_ROWS = 1000


def _kinds(ws: Workstation) -> list[str]:
    return ws.audit.kinds()


def log_table(ws: Workstation) -> None:
    # two rows: five abreast cut a date to "yyyy/m"
    cols = [*st.columns(3), *st.columns(3)]
    kinds = cols[0].multiselect("Kinds", _kinds(ws), key="audit_kinds")
    portfolio = cols[1].selectbox("Portfolio", [ALL, *ws.portfolios.names()], key="audit_portfolio")
    text = cols[2].text_input("Text", key="audit_text", placeholder="symbol, note, actor…")
    start = cols[3].date_input("From", value=None, key="audit_start")
    end = cols[4].date_input("To", value=None, key="audit_end")
    if start and end and start > end:
        st.error(f"From ({start}) is after To ({end}).")
        return
    events = ws.audit.events(
        kind=kinds or None,
        portfolio=None if portfolio == ALL else portfolio,
        start=start,
        end=end,
        text=text or None,
        limit=MAX_ROWS,
    )
    st.caption(f"{len(events)} events (newest first, at most {MAX_ROWS:,})")
    shown = events.assign(
        payload=events["payload"].map(lambda p: json.dumps(p, ensure_ascii=False)),
        hash=events["hash"].str[:12],
    ).drop(columns=["prev_hash"])
    fmt.dataframe(
        shown,
        hide_index=True,
        key="audit_table",
        column_config={
            "ts": st.column_config.DatetimeColumn("Time (UTC)", format="YYYY-MM-DD HH:mm:ss"),
            "payload": st.column_config.TextColumn("Payload", width="large"),
        },
    )


def verify_panel(ws: Workstation) -> None:
    if st.button("Verify the chain", key="audit_verify", icon=":material/fact_check:"):
        st.session_state["audit_verified"] = ws.audit.verify().to_dict()
    result = st.session_state.get("audit_verified")
    if result is None:
        st.caption("Recomputes every event's SHA-256 over its content and the previous hash.")
    elif result["ok"]:
        st.success(f"Chain intact: {result['n_events']} events verified.")
    else:
        st.error(plain(f"Chain broken at event {result['first_bad_id']}: {result['reason']}"))
        event = ws.audit.event(result["first_bad_id"])
        if event is not None:
            st.json(event.to_dict(), expanded=False)


def report_panel(ws: Workstation) -> None:
    today = datetime.now(UTC).date()
    cols = st.columns(2)
    start = cols[0].date_input("Report from", today - timedelta(days=30), key="audit_rep_start")
    end = cols[1].date_input("Report to", today, key="audit_rep_end")
    if start > end:
        st.error(f"Report from ({start}) is after report to ({end}).")
        return
    report = ws.audit.compliance(start, end)
    cols = st.columns(5)
    cols[0].metric("Events", report["n_events"])
    cols[1].metric(
        "Limit breaches",
        report["n_breaches"],
        f"{report['n_blocked']} blocked",
        delta_color="off",
        delta_arrow="off",
    )
    cols[2].metric("Fills", report["fills"]["count"])
    cols[3].metric("Notional traded", f"{report['fills']['notional']:,.0f}")
    cols[4].metric("Chain", "intact" if report["chain"]["ok"] else "broken")
    left, right = st.columns(2)
    with left:
        fmt.dataframe(
            pd.DataFrame(report["counts_by_kind"].items(), columns=["kind", "count"]),
            hide_index=True,
            key="audit_counts",
        )
    with right:
        fmt.dataframe(
            pd.DataFrame(report["largest_positions"]),
            hide_index=True,
            key="audit_positions",
            column_config={"market_value": st.column_config.NumberColumn("Value", format="%,.2f")},
        )
    if report["breaches"]:
        fmt.dataframe(pd.DataFrame(report["breaches"]), hide_index=True, key="audit_breaches")
    stem = f"compliance-{report['start']}-{report['end']}"
    d1, d2 = st.columns(2)
    d1.download_button(
        "Report (CSV)", report_to_csv(report), f"{stem}.csv", "text/csv", key="audit_dl_csv"
    )
    d2.download_button(
        "Report (JSON)",
        report_to_json(report),
        f"{stem}.json",
        "application/json",
        key="audit_dl_json",
    )
