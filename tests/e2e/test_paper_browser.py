"""End to end in headless Chromium: open the app, create and start a paper session from the
console, and see a fill arrive. The server and the worker are real processes."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="needs Debian's chromium (apt-get install chromium)"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    port = _free_port()
    env = {**os.environ, "WORKSTATION_DATABASE_URL": f"sqlite:///{tmp_path}/e2e.db"}
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app/main.py", "--server.port", str(port),
         "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.3)
    yield f"http://127.0.0.1:{port}", env["WORKSTATION_DATABASE_URL"]
    process.terminate()
    process.wait(timeout=20)
    # stop the session's worker if it is still trading
    subprocess.run([sys.executable, "-m", "core", "--db", env["WORKSTATION_DATABASE_URL"],
                    "paper", "stop", "--session", "browser session"], cwd=ROOT,
                   capture_output=True, timeout=60)


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
            if page.get_by_text("Recent fills").count() and not page.get_by_text(
                "No fills yet."
            ).count():
                break
            page.wait_for_timeout(1000)
        else:
            page.screenshot(path=str(ROOT / "e2e-failure.png"), full_page=True)
            pytest.fail("no fill appeared in the console within 120 s")
        equity = page.get_by_test_id("stMetric").filter(has_text="Equity").inner_text()
        browser.close()
    assert "Equity" in equity
    status = subprocess.run(
        [sys.executable, "-m", "core", "--db", db, "--json", "paper", "status", "--session",
         "browser session"], cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert status.returncode == 0, status.stderr
    import json

    assert json.loads(status.stdout)["n_fills"] > 0
