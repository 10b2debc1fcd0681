"""In headless Chromium, the "Done when" of issue 12: controls show the stored truth of the
entity they edit, a required choice cannot be clicked into nothing, a new paper session is the
selected one, results stay in the tab where the user acted, the Optimize heatmap is ticked at
the grid's own values, and no page shows a raw float.

One server (and one database) serves the whole module; each test opens its own browser page,
so its own Streamlit session. Portfolios are set up with the CLI, as a user would.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.e2e.harness import ARGS, CHROMIUM, ROOT, start_streamlit, stop

playwright = pytest.importorskip("playwright.sync_api")
expect = playwright.expect
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason="needs Debian's chromium (apt-get install chromium)"
    ),
]

WAIT = 60_000  # ms: generous, another CI job may share the two cores
DEMO = "Demo — US large caps"


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """``python -m core ARGS`` on the test database."""
    return subprocess.run(
        [sys.executable, "-m", "core", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The app on a fresh database: the demo portfolio, "Alpha" (active) and "Bravo" (halted),
    and the demo's lab JSON export to import."""
    tmp = tmp_path_factory.mktemp("controls")
    env = {**os.environ, "WORKSTATION_DATABASE_URL": f"sqlite:///{tmp}/controls.db"}
    cli(env, "portfolio", "create", "Alpha", "--cash", "100000")  # migrates, seeds the demo
    export = subprocess.Popen(  # meanwhile (each command spends seconds importing)
        [sys.executable, "-m", "core", "portfolio", "export", DEMO, "--out", f"{tmp}/demo.json"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    cli(env, "portfolio", "create", "Bravo", "--cash", "50000")
    cli(env, "risk", "state", "halted", "--portfolio", "Bravo", "--reason", "e2e")
    assert export.wait(timeout=180) == 0
    process, url = start_streamlit(env)
    yield SimpleNamespace(url=url, env=env, tmp=tmp)
    stop(process)


@pytest.fixture(scope="module")
def browser():
    expect.set_options(timeout=WAIT)
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A page of its own (a new Streamlit session) for each test."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(WAIT)
    context.add_init_script(COUNT_RUNS)
    yield context.new_page()
    context.close()


# -- helpers -----------------------------------------------------------------------------------
# Counts the script runs that have ended (the app's data-test-script-state leaving "running"),
# so that a test waits for the rerun its own click caused, and notes the time of the last DOM
# change: the browser renders a run's elements for up to a second after the run has ended.
COUNT_RUNS = """
window.__runsEnded = 0;
window.__changed = performance.now();
new MutationObserver(records => {
  window.__changed = performance.now();
  for (const r of records) {
    if (r.attributeName === 'data-test-script-state' && r.oldValue === 'running') {
      window.__runsEnded++;
    }
  }
}).observe(document, {subtree: true, childList: true, characterData: true, attributes: true,
                      attributeOldValue: true});
"""
IDLE = """n => window.__runsEnded > n && performance.now() - window.__changed > 300
  && document.querySelector('[data-test-script-state]')
     .getAttribute('data-test-script-state') === 'notRunning'"""


def runs_ended(page) -> int:
    return page.evaluate("window.__runsEnded")


def open_page(page, server, path: str) -> None:
    """Open ``path`` in a new session and wait for its first run to finish."""
    page.goto(f"{server.url}/{path}", timeout=WAIT)
    wait_idle(page, 0)


def rerun(page, action) -> None:
    """Do ``action`` (a click that reruns the script) and wait until that run has finished."""
    before = runs_ended(page)
    action()
    wait_idle(page, before)


def wait_idle(page, runs: int) -> None:
    try:
        page.wait_for_function(IDLE, arg=runs, timeout=WAIT)
    except playwright.TimeoutError:
        state = page.evaluate(
            "() => [window.__runsEnded, performance.now() - window.__changed, document"
            ".querySelector('[data-test-script-state]').getAttribute('data-test-script-state')]"
        )
        pytest.fail(f"no finished run after {runs}: (runs ended, ms quiet, state) = {state}")


def settle(page) -> None:
    """Wait until no run is in progress (one that ends may be followed by another)."""
    wait_idle(page, -1)


def choose(page, label: str, option: str) -> None:
    """Pick ``option`` in the selectbox labelled ``label`` (typed: long lists are virtual)."""
    combo = page.get_by_role("combobox", name=label)
    combo.click()
    combo.fill(option)
    page.get_by_role("option", name=option, exact=True).click()


def tab(page, name: str):
    return page.get_by_role("tab", name=name, exact=True)


def active_tabs(page) -> list[str]:
    return page.get_by_role("tab").evaluate_all(
        "tabs => tabs.filter(t => t.getAttribute('aria-selected') === 'true')"
        ".map(t => t.innerText.trim())"
    )


def active_panel(page):
    """The tab panel on show (one per row of tabs; the tests' pages have one row)."""
    return page.locator("[role=tabpanel]:visible").first


def radio(page, group: str, option: str):
    return page.get_by_role("radiogroup", name=group).get_by_role("radio", name=option, exact=True)


def select_tab(page, name: str) -> None:
    """Click the tab ``name`` (its rerun keeps it) and wait for the page to be quiet."""
    tab(page, name).click()
    expect(tab(page, name)).to_have_attribute("aria-selected", "true")
    settle(page)


def shows_in_tab(page, name: str, what) -> None:
    """``what`` (a text or a locator inside the tab panel on show) is visible, and ``name`` is
    the one selected tab: the result appeared where the user acted."""
    locator = active_panel(page).get_by_text(what) if isinstance(what, str | re.Pattern) else what
    expect(locator.first).to_be_visible()
    assert active_tabs(page) == [name]


def shows_state(page, group: str, option: str) -> None:
    """The segmented control ``group`` has ``option``, and only it, selected."""
    expect(radio(page, group, option)).to_have_attribute("aria-checked", "true")
    assert checked(page, group) == [option]


def checked(page, group: str) -> list[str]:
    return (
        page.get_by_role("radiogroup", name=group)
        .get_by_role("radio")
        .evaluate_all(
            "rs => rs.filter(r => r.getAttribute('aria-checked') === 'true')"
            ".map(r => r.innerText.trim())"
        )
    )


# -- controls bound to the stored state --------------------------------------------------------
@pytest.mark.timeout(240)
def test_the_trading_state_control_shows_each_portfolios_stored_state_after_a_switch(page, server):
    open_page(page, server, "risk")
    expect(page.get_by_role("combobox", name="Portfolio")).to_have_value("Alpha")
    shows_state(page, "Set trading state", "Active")

    rerun(page, lambda: choose(page, "Portfolio", "Bravo"))
    expect(page.get_by_text("Trading state: Halted")).to_be_visible()
    shows_state(page, "Set trading state", "Halted")

    rerun(page, lambda: choose(page, "Portfolio", "Alpha"))
    expect(page.get_by_text("Trading state: Active")).to_be_visible()
    shows_state(page, "Set trading state", "Active")

    # changed behind the page's back (the CLI): the switch back shows the new stored state
    cli(server.env, "risk", "state", "reducing_only", "--portfolio", "Bravo", "--reason", "e2e")
    rerun(page, lambda: choose(page, "Portfolio", "Bravo"))
    expect(page.get_by_text("Trading state: Reducing only")).to_be_visible()
    shows_state(page, "Set trading state", "Reducing only")


@pytest.mark.timeout(240)
def test_a_required_choice_cannot_be_clicked_into_nothing(page, server):
    # the trading state: clicking the selected "Active" keeps it selected
    open_page(page, server, "risk")
    expect(page.get_by_role("combobox", name="Portfolio")).to_have_value("Alpha")
    shows_state(page, "Set trading state", "Active")
    radio(page, "Set trading state", "Active").click()
    reason = page.get_by_label("Reason (audited)")
    reason.fill("checking")
    rerun(page, lambda: reason.press("Enter"))  # a rerun after the click
    expect(reason).to_have_value("checking")
    shows_state(page, "Set trading state", "Active")
    expect(page.get_by_role("button", name="Apply")).to_be_disabled()  # nothing to apply

    # the lab ticket's side: clicking the selected "buy" keeps it, and the order goes through
    open_page(page, server, "portfolio-lab")
    select_tab(page, "Trade")
    shows_state(page, "Side", "buy")
    radio(page, "Side", "buy").click()
    shows_state(page, "Side", "buy")
    page.get_by_label("Quantity").fill("1")
    rerun(page, lambda: page.get_by_role("button", name="Submit order").click())
    expect(page.get_by_text("Filled: buy 1 ").first).to_be_visible()
    assert page.get_by_text("choose buy or sell").count() == 0
    shows_state(page, "Side", "buy")


@pytest.mark.timeout(240)
def test_a_new_paper_session_becomes_the_selected_one(page, server):
    open_page(page, server, "paper")
    expect(page.get_by_text("No paper sessions yet")).to_be_visible()
    session = page.get_by_role("combobox", name="Session")
    for name in ("first session", "second session"):
        if name == "second session":  # the form folds away once a session exists
            page.locator("summary").filter(has_text="New session").click()
        page.get_by_label("Session name").fill(name)
        start_now = page.get_by_role("checkbox", name="Start the worker now")
        if start_now.is_checked():  # no worker needed to select it (the form keeps the tick)
            page.get_by_test_id("stCheckbox").filter(has_text="Start the worker now").locator(
                "label"
            ).click()
        expect(start_now).not_to_be_checked()
        rerun(page, lambda: page.get_by_role("button", name="Create session").click())
        expect(page.get_by_text(f"Session {name} created").first).to_be_visible()
        expect(session).to_have_value(name)
    settle(page)
    expect(session).to_have_value("second session")


# -- results stay in their tab -----------------------------------------------------------------
@pytest.mark.timeout(300)
def test_backtest_monte_carlo_and_stress_results_stay_in_their_tabs(page, server):
    open_page(page, server, "backtest")
    rerun(page, lambda: page.get_by_role("button", name="Run backtest").click())
    expect(page.get_by_test_id("stMetric").filter(has_text="Final equity")).to_be_visible()

    select_tab(page, "Monte Carlo")
    rerun(page, lambda: page.get_by_role("button", name="Run Monte Carlo").click())
    shows_in_tab(page, "Monte Carlo", "P(profit)")

    select_tab(page, "Stress")
    scenario = page.get_by_role("combobox", name="Scenario")
    before = scenario.input_value()
    other = next(o for o in _options(page, "Scenario") if o not in (before, "Custom…"))
    rerun(page, lambda: page.get_by_role("option", name=other, exact=True).click())
    expect(scenario).to_have_value(other)
    shows_in_tab(page, "Stress", "Stressed final equity")


def _options(page, label: str) -> list[str]:
    """Open the selectbox ``label`` and list its options (left open)."""
    page.get_by_role("combobox", name=label).click()
    page.get_by_role("option").first.wait_for()
    return [o.strip() for o in page.get_by_role("option").all_inner_texts()]


@pytest.mark.timeout(300)
def test_portfolio_lab_instrument_order_and_import_stay_in_their_tabs(page, server):
    open_page(page, server, "portfolio-lab")
    select_tab(page, "Trade")
    price = page.get_by_label("Price (defaults to the last known price)")
    before = price.input_value()
    rerun(page, lambda: choose(page, "Instrument", "MSFT"))
    expect(price).not_to_have_value(before)  # MSFT's last price
    shows_in_tab(page, "Trade", price)

    page.get_by_label("Quantity").fill("2")
    rerun(page, lambda: page.get_by_role("button", name="Submit order").click())
    expect(page.get_by_text("Filled: buy 2 MSFT").first).to_be_visible()
    shows_in_tab(page, "Trade", page.get_by_role("button", name="Submit order"))

    # a refusal shows in the tab itself
    radio(page, "Side", "sell").click()
    page.get_by_label("Quantity").fill("1000000")
    rerun(page, lambda: page.get_by_role("button", name="Submit order").click())
    shows_in_tab(page, "Trade", active_panel(page).get_by_test_id("stAlertContentError"))

    select_tab(page, "Export · Import · Merge")
    upload = page.get_by_test_id("stFileUploaderDropzoneInput")
    rerun(page, lambda: upload.set_input_files(str(server.tmp / "demo.json")))
    page.get_by_label("Import as (optional new name)").fill("Imported demo")
    rerun(page, lambda: page.get_by_role("button", name="Import portfolio").click())
    shown = re.compile("Imported demo\u2060?\\.json")  # a word joiner keeps it from linking
    expect(page.get_by_text(shown).first).to_be_visible()
    expect(page.get_by_role("combobox", name="Portfolio")).to_have_value("Imported demo")
    shows_in_tab(page, "Export · Import · Merge", "Include trade history")


@pytest.mark.timeout(240)
def test_risk_save_limits_stays_in_its_tab(page, server):
    open_page(page, server, "risk")
    expect(page.get_by_role("combobox", name="Portfolio")).to_have_value("Alpha")
    select_tab(page, "Edit limits")
    field = page.get_by_label("max position weight (fraction)")
    field.fill("0.4500")
    rerun(page, lambda: page.get_by_role("button", name="Save limits").click())
    shows_in_tab(page, "Edit limits", "Limits of Alpha saved")
    expect(field).to_have_value("0.4500")  # the stored value, shown again


# -- the Optimize heatmap ----------------------------------------------------------------------
def _plotly_texts(chart, selector: str) -> list[str]:
    return [t.strip() for t in chart.locator(selector).all_text_contents()]


@pytest.mark.timeout(300)
def test_the_optimize_heatmap_is_ticked_at_the_grid_values_or_says_why_not(page, server):
    from core.optimize import SearchSpace
    from core.strategies import get_strategy

    open_page(page, server, "optimize")
    # the default grid also searches the bool long_short: three parameters, no heatmap
    page.get_by_role("button", name="Start optimisation").click()
    reason = page.get_by_text("No heatmap: the grid searched 3 parameters")
    expect(reason).to_be_visible(timeout=120_000)
    assert "fast, slow, long_short" in reason.inner_text()

    # untick "search both": the two-parameter grid gets its heatmap
    page.get_by_text("long short: search both").click()
    page.get_by_role("button", name="Start optimisation").click()
    expect(reason).to_have_count(0, timeout=120_000)
    chart = page.get_by_test_id("stPlotlyChart").filter(has_text="over the grid")
    chart.locator(".hm, .heatmaplayer").first.wait_for(state="attached", timeout=120_000)

    job = _latest_job(server)
    space = SearchSpace.from_params(
        get_strategy(job.strategy).Params,
        overrides=job.request.get("ranges"),
        fixed=job.request.get("fixed"),
    )
    values = {d.name: [f"{v:g}" for v in d.values()] for d in space.dimensions}
    surface = job.result["surface"]
    assert set(values) == {surface["x"], surface["y"]} == {"fast", "slow"}
    assert _plotly_texts(chart, ".xtick text") == values[surface["x"]]
    assert _plotly_texts(chart, ".ytick text") == values[surface["y"]]
    assert _plotly_texts(chart, ".xtitle") == [surface["x"]]
    assert _plotly_texts(chart, ".ytitle") == [surface["y"]]


def _latest_job(server):
    from core.config import Settings
    from core.workstation import Workstation

    ws = Workstation.open_read_only(Settings(database_url=server.env["WORKSTATION_DATABASE_URL"]))
    try:
        return ws.jobs.get(ws.jobs.list(1)[0].id)
    finally:
        ws.close()


# -- no raw float reprs ------------------------------------------------------------------------
RAW_FLOAT = re.compile(
    r"\d\.\d{8,}"  # 0.34956775200000006, -0.000000000005
    r"|(?<![0-9a-fA-F])\d(?:\.\d+)?[eE][-+]\d{2,3}(?![0-9A-Za-z])"  # 5e-05, 1.2E+10
    r"|(?<![\d.])[−-]0\.0+(?![0-9]*[1-9])"  # −0.00, -0.00 %
)

TEXTS = """() => {
  const out = [];
  const skip = 'script, style, [data-testid=stDataFrame]';
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT, {
    acceptNode: n => n.parentElement && n.parentElement.closest(skip)
      ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT,
  });
  while (walker.nextNode()) {
    const text = walker.currentNode.nodeValue.trim();
    if (text) out.push(text);
  }
  for (const input of document.querySelectorAll('input')) {
    if (input.value) out.push(input.value);
  }
  return out;
}"""


@pytest.mark.parametrize(
    ("text", "raw"),
    [
        ("0.34956775200000006", True),
        ("-0.000000000005", True),
        ("5e-05", True),
        ("−0.00", True),
        ("-0.00 %", True),
        ("-0.01 %", False),
        ("35.0 %", False),
        ("1,234.57", False),
        ("2010-01-04", False),
        ("job 3fe-12ab", False),
    ],
)
def test_the_raw_float_pattern(text, raw):
    assert bool(RAW_FLOAT.search(text)) is raw


# Date inputs whose text is wider than the box (two abreast in a narrow form read "1999/01/")
CUT_DATES = """() => [...document.querySelectorAll('[data-testid=stDateInputFieldsScroller]')]
  .filter(e => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1)
  .map(e => (e.querySelector('[role=group]')?.getAttribute('aria-label') || '?')
            + ': ' + e.textContent + ` (${e.scrollWidth} px in ${e.clientWidth})`)"""

# Metric values cut with an ellipsis (a label too long for its column read "bear me…")
CUT_METRICS = """() => [...document.querySelectorAll('[data-testid=stMetricValue] > div')]
  .filter(e => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1)
  .map(e => e.textContent + ` (${e.scrollWidth} px in ${e.clientWidth})`)"""


@pytest.mark.timeout(420)
def test_no_page_shows_a_raw_float(page, server):
    """Every page's text (visible or in a hidden tab or collapsed expander, chart labels, input
    values), in one browser session that has run a backtest (its result stays in the session)
    and a Monte Carlo (scanned before leaving the page: its result is the click's). Table
    cells are drawn on a canvas whose accessibility copy holds the raw values, so they are
    left out here: ``tests/ui/test_numbers.py`` checks, in AppTest, that every float column
    of every page has a ``st.column_config`` number format and that no text cell is raw.
    The same pass checks that no date input is too narrow to show its whole date."""
    from app.registry import PAGES

    page.set_viewport_size({"width": 1280, "height": 900})  # a laptop: where widths run out

    def scan(where: str) -> list[str]:
        raw = [f"{where}: {t!r}" for t in page.evaluate(TEXTS) if RAW_FLOAT.search(t)]
        raw += [f"{where}: metric cut: {m}" for m in page.evaluate(CUT_METRICS)]
        return raw + [f"{where}: date cut: {d}" for d in page.evaluate(CUT_DATES)]

    open_page(page, server, "backtest")
    rerun(page, lambda: page.get_by_role("button", name="Run backtest").click())
    expect(page.get_by_test_id("stMetric").filter(has_text="Final equity")).to_be_visible()
    select_tab(page, "Monte Carlo")
    rerun(page, lambda: page.get_by_role("button", name="Run Monte Carlo").click())
    expect(page.get_by_text("P(profit)")).to_be_visible()
    problems = scan("Backtest with Monte Carlo")
    for spec in PAGES:
        # the menu, not the URL: the session (and its backtest result) carries over
        page.get_by_test_id("stSidebarNav").get_by_role(
            "link", name=re.compile(rf"{re.escape(spec.title)}$")
        ).click()
        title = "Quant Workstation" if spec.url_path == "home" else spec.title
        page.locator("h1").filter(has_text=title).wait_for()
        settle(page)
        problems += scan(spec.title)
    assert not problems, "\n".join(problems)
