"""Audit page on the seeded demo: the log with filters, verify (intact, then tampered), report."""

from __future__ import annotations

import os
import sqlite3

from core.demo import DEMO_NAME
from tests.ui.plain_text import text


def _tab(at, label):
    return next(t for t in at.tabs if t.label == label)


def test_log_and_filters(app):
    at = app("audit")
    log = _tab(at, "Log").dataframe[0].value
    # seeding: created, 6 buys, the XOM sale, the MSFT buy, the target weights
    assert list(log["kind"])[::-1] == [
        "portfolio_created",
        *["fill"] * 8,
        "target_weights_set",
    ]
    assert set(log["portfolio"]) == {DEMO_NAME}
    at.multiselect(key="audit_kinds").set_value(["fill"]).run()
    assert len(_tab(at, "Log").dataframe[0].value) == 8
    at.text_input(key="audit_text").set_value("xom").run()
    rows = _tab(at, "Log").dataframe[0].value
    # XOM was bought on the first day and sold in the rotation
    assert ['"side": "sell"' in p for p in rows["payload"]] == [True, False]


def test_verify_intact_then_tampered(app):
    at = app("audit")
    at.button(key="audit_verify").click().run()
    assert "Chain intact: 10 events verified." in [text(s) for s in at.success]

    path = os.environ["WORKSTATION_DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE audit_log SET actor = 'mallory' WHERE id = 4")
    at.button(key="audit_verify").click().run()
    assert text(at.error[0]).startswith("Chain broken at event 4: event 4 (fill)")


def test_compliance_report_counts_and_downloads(app):
    at = app("audit")
    report = _tab(at, "Compliance report")
    metrics = {m.label: m.value for m in report.metric}
    # the demo's events are logged today; its fills are dated 2019-2020, outside the range
    assert metrics["Events"] == "10" and metrics["Fills"] == "0"
    counts = report.dataframe[0].value.set_index("kind")["count"]
    assert counts.to_dict() == {"fill": 8, "portfolio_created": 1, "target_weights_set": 1}
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["Report (CSV)", "Report (JSON)"]
