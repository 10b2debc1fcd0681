import numpy as np

from tests.ui.plain_text import text


def test_market_data_shows_spx_candles_and_the_catalogue(app):
    at = app("market_data")

    assert at.selectbox(key="md_symbol").value == "SPX"
    assert at.radio(key="md_style").options == ["Candles", "Line"]
    stats = {m.label: m.value for m in at.metric}
    assert stats["Last close"] == "2,506.85"  # SPX close on 2018-12-31 (arch sp500.csv.gz)
    catalogue = at.dataframe[0].value
    assert len(catalogue) == 27  # with the four SYNTHETIC FX pairs
    assert len(at.get("plotly_chart")) == 1


def test_a_synthetic_series_says_so_in_the_chart_and_the_catalogue(app):
    at = app("market_data")
    assert not at.warning  # SPX is market data
    catalogue = at.dataframe[0].value.set_index("symbol")
    assert set(catalogue.index[catalogue["synthetic"]]) == {"EURUSD", "USDJPY", "GBPUSD", "EURGBP"}
    assert catalogue.loc["EURUSD", "source"] == catalogue.loc["AAPL", "source"] == "bundled"
    at.selectbox(key="md_symbol").set_value("EURUSD").run()
    assert [text(w) for w in at.warning] == [
        "EURUSD: SYNTHETIC closes from a seeded generator, not market data (data/README.md). "
        "Portfolios holding other currencies are valued at these rates."
    ]


def test_close_only_symbol_is_drawn_as_a_line(app):
    at = app("market_data")
    at.selectbox(key="md_symbol").set_value("AAPL").run()

    assert at.radio(key="md_style").options == ["Line"]
    assert at.metric[0].value == "125.67"  # AAPL adjusted close on 2022-12-28


def test_upload_valid_csv_adds_the_symbol(app):
    at = app("market_data")
    csv = "Date,Open,High,Low,Close,Adj Close,Volume\n"
    csv += "1/3/2023,10,11,9.5,10.5,10.5,1000\n1/4/2023,10.5,12,10,11.5,11.5,1500\n"
    at.sidebar.file_uploader(key="upload_file").set_value(("nvda.csv", csv.encode(), "text/csv"))
    at.sidebar.text_input(key="upload_symbol").set_value("nvda")
    at.sidebar.button(key="upload_button").click().run()

    assert not at.exception
    assert at.selectbox(key="md_symbol").value == "NVDA"
    catalogue = at.dataframe[0].value.set_index("symbol")
    assert catalogue.loc["NVDA", "bars"] == 2
    np.testing.assert_equal(at.metric[0].value, "11.50")


def test_broken_csv_names_row_column_and_rule_and_stores_nothing(app):
    at = app("market_data")
    csv = "Date,Open,High,Low,Close,Volume\n2023-01-03,10,11,9.5,10.5,100\n"
    csv += "2023-01-04,10,9,8,9.5,100\n"
    at.sidebar.file_uploader(key="upload_file").set_value(("bad.csv", csv.encode(), "text/csv"))
    at.sidebar.text_input(key="upload_symbol").set_value("BAD")
    at.sidebar.button(key="upload_button").click().run()

    message = text(at.sidebar.error[0])
    assert "line 3" in message and "'High'" in message and "high ≥ max(open, close)" in message
    assert "BAD" not in list(at.dataframe[0].value["symbol"])
