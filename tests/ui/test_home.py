from core.demo import DEMO_NAME


def test_home_shows_demo_portfolio_and_links(app):
    at = app()

    assert at.title[0].value == "Quant Workstation"
    assert at.subheader[0].value == DEMO_NAME
    metrics = {m.label: m.value for m in at.metric}
    # Demo equity on 2022-12-28 (last bundled close): cash 171.579 + Σ qty × close,
    # worked out from data/market/sp500_stocks_close.csv.gz by hand:
    # AAPL 4386×125.674 + JNJ 1471×174.085 + JPM 1938×129.575 + KO 4086×62.609
    # + MSFT 674×233.434 + PG 2059×149.133 = 1,778,621.286
    assert metrics["Equity (USD)"] == "1,778,793"
    assert metrics["Positions"] == "6"
    assert len(at.get("plotly_chart")) == 1
    links = [p.proto.page for p in at.get("page_link")]
    assert any(link == "portfolio-lab" for link in links)
    assert any(link == "market-data" for link in links)
    assert any(c.value.endswith(" 1 portfolio in this workstation.") for c in at.caption)


def test_home_lists_paper_sessions_with_a_link_to_the_console(app):
    from app.services import workstation
    from core.paper import FeedConfig, SessionConfig, SleeveConfig

    at = app()
    assert not [s for s in at.subheader if s.value == "Paper sessions"]  # none yet
    ws = workstation()
    ws.paper.create(
        "glance",
        SessionConfig(
            sleeves=(SleeveConfig(key="sma", strategy="sma_crossover"),),
            feed=FeedConfig(kind="synthetic", events=400),
        ),
    )
    ws.paper.worker("glance").run()
    at.run()
    table = next(d for d in at.dataframe if "session" in d.value.columns).value
    assert table.iloc[0]["session"] == "glance" and table.iloc[0]["status"] == "finished"
    assert table.iloc[0]["events"] == 400
    assert table.iloc[0]["fills"] == ws.paper.status("glance")["n_fills"]
    assert "paper" in [p.proto.page for p in at.get("page_link")]


def test_home_says_whether_the_api_runs_and_where(app, tmp_path, monkeypatch):
    import json
    import os

    status = tmp_path / "api-status.json"
    monkeypatch.setattr("core.api._status.STATUS_FILE", status)
    at = app()
    assert "Read-only API: not running" in " ".join(c.value for c in at.caption)
    record = {"host": "127.0.0.1", "port": 8765, "url": "http://127.0.0.1:8765"}
    status.write_text(
        json.dumps({**record, "pid": os.getpid(), "started_at": "2026-12-02T10:00:00"})
    )
    at.run()
    captions = " ".join(c.value for c in at.caption)
    assert (
        "Read-only API: running at http://127.0.0.1:8765 (since 2026-12-02T10:00:00 UTC)"
        in captions
    )
    # a record left by a server that was killed does not count
    status.write_text(json.dumps({**record, "pid": 2**22 + 12345, "started_at": "2026-12-02"}))
    at.run()
    assert "Read-only API: not running" in " ".join(c.value for c in at.caption)
