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
