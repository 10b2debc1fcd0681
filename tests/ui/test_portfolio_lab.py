import json

from core.demo import DEMO_NAME
from tests.ui.plain_text import text


def _tab(at, label):
    return next(t for t in at.tabs if t.label == label)


def _create(at, name, cash=50_000.0):
    at.sidebar.text_input(key="create_name").set_value(name)
    at.sidebar.number_input(key="create_cash").set_value(cash)
    at.sidebar.button[0].click().run()  # the form's submit button
    assert not at.exception, at.exception
    return at


def test_lab_opens_on_demo_with_positions_and_exports(app):
    at = app("portfolio_lab")

    assert at.selectbox(key="lab_portfolio").value == DEMO_NAME
    positions = _tab(at, "Overview").dataframe[0].value
    assert sorted(positions["symbol"]) == ["AAPL", "JNJ", "JPM", "KO", "MSFT", "PG"]
    labels = [b.label for b in at.get("download_button")]
    assert {"Lab JSON", "CSV", "Excel"} <= set(labels)


def test_create_portfolio_then_trade_at_given_price(app):
    at = _create(app("portfolio_lab"), "Scratch", 50_000.0)
    assert at.selectbox(key="lab_portfolio").value == "Scratch"
    assert at.metric[1].value == "50,000.00"  # cash before any trade

    at.selectbox(key="ticket_symbol").set_value("MSFT").run()
    at.number_input(key="ticket_qty").set_value(10)
    at.number_input(key="ticket_price").set_value(200.0)
    at.number_input(key="ticket_commission").set_value(1.0)
    _tab(at, "Trade").button[0].click().run()

    assert not at.exception
    # 50,000 − 10 × 200 − 1 commission = 47,999
    assert at.metric[1].value == "47,999.00"
    trades = _tab(at, "Trades").dataframe[0].value
    assert list(trades["symbol"]) == ["MSFT"] and list(trades["price"]) == [200.0]


def test_overselling_shows_the_error_at_the_quantity_and_writes_nothing(app):
    at = _create(app("portfolio_lab"), "Scratch", 10_000.0)
    at.selectbox(key="ticket_symbol").set_value("AAPL").run()
    at.segmented_control(key="ticket_side").set_value("sell")
    at.number_input(key="ticket_qty").set_value(5)
    at.number_input(key="ticket_price").set_value(100.0)
    _tab(at, "Trade").button[0].click().run()

    errors = [text(e) for e in _tab(at, "Trade").error]
    assert any("cannot sell 5 AAPL" in e for e in errors)
    assert at.metric[1].value == "10,000.00"
    assert _tab(at, "Trades").info[0].value == "No trades yet."


def test_duplicate_name_error_is_shown_by_the_name_field(app):
    at = _create(app("portfolio_lab"), DEMO_NAME)
    assert any("already exists" in text(e) for e in at.sidebar.error)


def test_import_uploaded_lab_file_and_merge(app, tmp_path):
    at = app("portfolio_lab")
    from app.services import workstation

    document = workstation().export_portfolio(DEMO_NAME)
    raw = document.model_dump_json().encode()
    at.file_uploader(key="import_file").set_value(("demo.json", raw, "application/json"))
    at.text_input(key="import_name").set_value("Demo copy")
    at.button(key="import_button").click().run()
    assert not at.exception
    assert at.selectbox(key="lab_portfolio").value == "Demo copy"

    at.selectbox(key="merge_other").set_value(DEMO_NAME)
    at.text_input(key="merge_into").set_value("Doubled")
    at.button(key="merge_button").click().run()
    assert at.selectbox(key="lab_portfolio").value == "Doubled"
    # Merging a portfolio with its copy doubles every quantity and the cash.
    positions = _tab(at, "Overview").dataframe[0].value.set_index("symbol")
    assert positions.loc["AAPL", "quantity"] == 2 * 4386
    assert at.metric[1].value == f"{2 * 171.579:,.2f}"


def test_malformed_import_file_is_reported_and_nothing_is_written(app):
    at = app("portfolio_lab")
    before = at.selectbox(key="lab_portfolio").options
    bad = json.dumps({"format": "quant-workstation/portfolio", "version": 1, "name": "x"})
    at.file_uploader(key="import_file").set_value(("bad.json", bad.encode(), "application/json"))
    at.button(key="import_button").click().run()

    messages = [text(e) for e in at.error]
    assert any("starting_cash" in m and "invalid portfolio document" in m for m in messages)
    assert at.selectbox(key="lab_portfolio").options == before


def test_ticket_price_defaults_to_the_last_known_close(app):
    at = app("portfolio_lab")
    at.selectbox(key="ticket_symbol").set_value("KO").run()

    assert at.number_input(key="ticket_price").value == 62.609  # KO close 2022-12-28
    at.selectbox(key="ticket_symbol").set_value("SPX").run()
    assert at.number_input(key="ticket_price").value == 2506.850098  # SPX close 2018-12-31


def test_stress_tab_applies_the_scenario_shock_to_every_position(app):
    at = app("portfolio_lab")
    from core.whatif import STRESS_SCENARIOS

    at.selectbox(key="lab_stress").set_value("covid_2020").run()
    scenario = STRESS_SCENARIOS["covid_2020"]
    table = _tab(at, "Stress").dataframe[0].value.set_index("symbol")
    stock_shock = scenario.shock_for("stock")
    # P&L of each stock = its market value × the scenario's stock shock
    aapl = table.loc["AAPL"]
    assert abs(aapl["pnl"] - aapl["market_value"] * stock_shock) < 1e-6
    # Demo holdings on 2022-12-28, worth 1,778,621.29 in stocks (see test_home)
    expected = 1_778_621.286 * stock_shock
    shown = float(_tab(at, "Stress").metric[1].value.replace(",", ""))
    assert abs(shown - expected) <= 1


def test_kill_switch_blocks_the_ticket_and_the_reason_is_shown(app):
    from sqlalchemy import func, select

    from app.services import workstation
    from core.db import FillRow
    from core.risk import set_trading_state

    at = _create(app("portfolio_lab"), "Halted book", 50_000.0)
    ws = workstation()
    with ws.sessions.begin() as session:
        set_trading_state(session, "Halted book", "halted", reason="desk closed")
    at.selectbox(key="ticket_symbol").set_value("MSFT").run()
    at.number_input(key="ticket_qty").set_value(10)
    at.number_input(key="ticket_price").set_value(200.0)
    _tab(at, "Trade").button[0].click().run()
    assert not at.exception, at.exception
    assert any("blocked by pre-trade checks" in text(e) and "halted" in text(e) for e in at.error)
    with ws.sessions() as session:
        assert session.scalar(select(func.count()).select_from(FillRow)) == 8  # the demo's


def test_the_ticket_side_cannot_be_clicked_into_nothing(app):
    """Clicking the selected "buy" used to un-select it ("choose buy or sell" on submit)."""
    at = _create(app("portfolio_lab"), "Scratch", 10_000.0)
    side = at.segmented_control(key="ticket_side")
    assert side.proto.required and side.value == "buy"
    side.set_value(None).run()
    assert not at.exception, at.exception
    assert at.segmented_control(key="ticket_side").value == "buy"
    at.selectbox(key="ticket_symbol").set_value("MSFT").run()
    at.number_input(key="ticket_qty").set_value(2)
    at.number_input(key="ticket_price").set_value(100.0)
    _tab(at, "Trade").button[0].click().run()
    assert not [text(e) for e in _tab(at, "Trade").error]
    assert at.metric[1].value == "9,800.00"  # 10,000 − 2 × 100 bought


def test_ticket_and_import_keep_the_user_in_their_tab(app):
    """Choosing an instrument, Submit order and Import used to jump back to Overview."""
    at = _create(app("portfolio_lab"), "Scratch", 10_000.0)
    assert at.session_state["lab_view"] == "Overview"  # the tabs are a widget with state
    at.session_state["lab_view"] = "Trade"
    at.selectbox(key="ticket_symbol").set_value("KO").run()
    assert at.session_state["lab_view"] == "Trade"
    at.number_input(key="ticket_qty").set_value(1_000_000)  # refused: far beyond the cash
    _tab(at, "Trade").button[0].click().run()
    assert at.session_state["lab_view"] == "Trade"
    assert _tab(at, "Trade").error  # the refusal shows in the Trade tab

    at.session_state["lab_view"] = "Export · Import · Merge"
    bad = json.dumps({"format": "quant-workstation/portfolio", "version": 1, "name": "x"})
    at.file_uploader(key="import_file").set_value(("bad.json", bad.encode(), "application/json"))
    at.button(key="import_button").click().run()
    assert at.session_state["lab_view"] == "Export · Import · Merge"
    errors = [text(e) for e in _tab(at, "Export · Import · Merge").error]
    assert any("invalid portfolio document" in e for e in errors)


def test_manage_controls_are_bound_to_the_selected_portfolio(app):
    """Switching portfolio kept the other one's name in "New name" and its delete box ticked
    (Delete was then armed for a portfolio nobody confirmed)."""
    at = _create(app("portfolio_lab"), "Scratch", 10_000.0)
    assert at.text_input(key="rename_to").value == "Scratch"
    at.checkbox(key="delete_confirm").check().run()
    assert not at.button(key="delete_button").disabled
    at.selectbox(key="lab_portfolio").set_value(DEMO_NAME).run()
    assert not at.exception, at.exception
    assert at.text_input(key="rename_to").value == DEMO_NAME
    assert at.checkbox(key="delete_confirm").value is False
    assert at.button(key="delete_button").disabled
    assert at.text_input(key="merge_into").value == f"{DEMO_NAME} + merged"
