"""End to end in headless Chromium: open the app, create and start a paper session from the
console, and see a fill arrive. The server and the worker are real processes."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.harness import ARGS, CHROMIUM, ROOT, start_streamlit, stop

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="needs Debian's chromium (apt-get install chromium)"
)


@pytest.fixture
def server(tmp_path):
    env = {"WORKSTATION_DATABASE_URL": f"sqlite:///{tmp_path}/e2e.db"}
    process, url = start_streamlit(env)
    yield url, env["WORKSTATION_DATABASE_URL"]
    stop(process)
    # stop the session's worker if it is still trading
    subprocess.run(
        [
            sys.executable,
            "-m",
            "core",
            "--db",
            env["WORKSTATION_DATABASE_URL"],
            "paper",
            "stop",
            "--session",
            "browser session",
        ],
        cwd=ROOT,
        capture_output=True,
        timeout=60,
    )


@pytest.mark.timeout(240)
def test_start_a_session_in_the_browser_and_see_a_fill(server):
    url, db = server
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{url}/paper", timeout=60_000)
        page.get_by_text("No paper sessions yet").wait_for(timeout=60_000)
        page.get_by_label("Session name").fill("browser session")
        page.get_by_text("Synthetic market").click()
        page.get_by_role("button", name="Create session").click()
        # the worker starts, trades, and the live panel shows its first fills
        page.get_by_role("tab", name="Positions & orders").click(timeout=60_000)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            page.get_by_role("tab", name="Positions & orders").click()
            if (
                page.get_by_text("Recent fills").count()
                and not page.get_by_text("No fills yet.").count()
            ):
                break
            page.wait_for_timeout(1000)
        else:
            page.screenshot(path=str(ROOT / "e2e-failure.png"), full_page=True)
            pytest.fail("no fill appeared in the console within 120 s")
        equity = page.get_by_test_id("stMetric").filter(has_text="Equity").inner_text()
        browser.close()
    assert "Equity" in equity
    status = subprocess.run(
        [
            sys.executable,
            "-m",
            "core",
            "--db",
            db,
            "--json",
            "paper",
            "status",
            "--session",
            "browser session",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert status.returncode == 0, status.stderr
    import json

    assert json.loads(status.stdout)["n_fills"] > 0
