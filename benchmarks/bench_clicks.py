"""Click-to-result times in a real browser: the four flows of issue 12's "fast clicks".

Starts ``streamlit run app/main.py`` on a free port with a temporary database and drives
Debian's Chromium with Playwright through:

- **backtest**: "Run backtest" (SPX, defaults) → the "Final equity" metric is visible;
- **montecarlo**: "Run Monte Carlo" (10,000 paths) → "P(profit)" is visible;
- **paper**: "Create session" (synthetic feed, start now) → the live panel shows "running";
- **optimize**: "Start optimisation" (defaults) → the new job's status is past "queued".

Each repeat opens a fresh browser page (its own Streamlit session), loads the page untimed,
then times click → result. Prints a markdown table (seconds).

    python benchmarks/bench_clicks.py --repeats 3
    python benchmarks/bench_clicks.py --flows backtest,montecarlo --repeats 5
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere
from tests.e2e.harness import ARGS, CHROMIUM, ROOT, start_streamlit

TIMEOUT_MS = 120_000
FLOWS = ("backtest", "montecarlo", "paper", "optimize")


def start_server(db_url: str) -> tuple[subprocess.Popen, str]:
    return start_streamlit({"WORKSTATION_DATABASE_URL": db_url})


def core_cli(db_url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "core", "--db", db_url, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _metric(page, label: str):
    return page.get_by_test_id("stMetric").filter(has_text=label).first


def _open(browser, url: str, wait_text: str):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(url, timeout=TIMEOUT_MS)
    page.get_by_text(wait_text).first.wait_for(timeout=TIMEOUT_MS)
    return page


def flow_backtest(browser, url: str, _db: str, _i: int) -> float:
    page = _open(browser, f"{url}/backtest", "Run backtest")
    button = page.get_by_role("button", name="Run backtest")
    t0 = time.perf_counter()
    button.click()
    _metric(page, "Final equity").wait_for(timeout=TIMEOUT_MS)
    elapsed = time.perf_counter() - t0
    page.close()
    return elapsed


def flow_montecarlo(browser, url: str, _db: str, _i: int) -> float:
    page = _open(browser, f"{url}/backtest", "Run backtest")
    page.get_by_role("button", name="Run backtest").click()
    _metric(page, "Final equity").wait_for(timeout=TIMEOUT_MS)
    page.get_by_role("tab", name="Monte Carlo").click()
    button = page.get_by_role("button", name="Run Monte Carlo")
    button.wait_for(timeout=TIMEOUT_MS)
    t0 = time.perf_counter()
    button.click()
    page.get_by_test_id("stMetric").filter(has_text="P(profit)").first.wait_for(
        state="attached", timeout=TIMEOUT_MS
    )  # attached: the rerun may show another tab (issue 12, "results where you look")
    elapsed = time.perf_counter() - t0
    page.close()
    return elapsed


def flow_paper(browser, url: str, db: str, i: int) -> float:
    # only the new session may show "running": stop and delete the previous ones
    for name in (f"bench {j}" for j in range(i)):
        core_cli(db, "paper", "stop", "--session", name)
        core_cli(db, "paper", "delete", "--session", name)
    page = _open(browser, f"{url}/paper", "Create session")
    page.get_by_label("Session name").fill(f"bench {i}")
    page.get_by_text("Synthetic market").click()
    button = page.get_by_role("button", name="Create session")
    t0 = time.perf_counter()
    button.click()
    page.get_by_text(re.compile(r"running · last")).first.wait_for(timeout=TIMEOUT_MS)
    elapsed = time.perf_counter() - t0
    page.close()
    core_cli(db, "paper", "stop", "--session", f"bench {i}")
    return elapsed


def _job_label(page) -> str:
    box = page.get_by_test_id("stSelectbox").filter(has_text="Job")
    return box.inner_text() if box.count() else ""


def flow_optimize(browser, url: str, _db: str, _i: int) -> float:
    page = _open(browser, f"{url}/optimize", "Start optimisation")
    page.wait_for_timeout(500)
    before = _job_label(page)
    button = page.get_by_role("button", name="Start optimisation")
    t0 = time.perf_counter()
    button.click()
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while time.monotonic() < deadline:
        label = _job_label(page)
        status = page.locator("p", has_text="Status:")
        text = status.first.inner_text() if status.count() else ""
        if label and label != before and text and "queued" not in text:
            break
        page.wait_for_timeout(50)
    else:
        raise TimeoutError("the job did not leave 'queued'")
    elapsed = time.perf_counter() - t0
    # untimed: let the job finish, so the next repeat's job is not queued behind it
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while time.monotonic() < deadline:
        status = page.locator("p", has_text="Status:")
        text = status.first.inner_text() if status.count() else ""
        if any(word in text for word in ("done", "failed", "cancelled")):
            break
        page.wait_for_timeout(500)
    page.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--flows", default=",".join(FLOWS))
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    flows = [f.strip() for f in args.flows.split(",") if f.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        db = f"sqlite:///{tmp}/bench.db"
        server, url = start_server(db)
        results: dict[str, list[float | None]] = {}
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                # warm the server (first page opens and seeds the database)
                _open(browser, f"{url}/backtest", "Run backtest").close()
                for flow in flows:
                    run = globals()[f"flow_{flow}"]
                    results[flow] = []
                    for i in range(args.repeats):
                        try:
                            results[flow].append(run(browser, url, db, i))
                        except Exception as exc:  # a timeout: report, keep going
                            print(f"{flow} #{i}: {type(exc).__name__}: {exc}", file=sys.stderr)
                            results[flow].append(None)
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=30)
            for i in range(args.repeats):
                core_cli(db, "paper", "stop", "--session", f"bench {i}")
    load = os.getloadavg()
    print(
        f"load average before/after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, "
        f"{os.cpu_count()} cores\n"
    )
    print("| flow | runs (s) | median (s) | max (s) |")
    print("|---|---|---|---|")
    for flow, times in results.items():
        ok = [t for t in times if t is not None]
        runs = ", ".join("timeout" if t is None else f"{t:.2f}" for t in times)
        med = f"{statistics.median(ok):.2f}" if ok else "—"
        top = f"{max(ok):.2f}" if ok else "—"
        print(f"| {flow} | {runs} | {med} | {top} |")


if __name__ == "__main__":
    main()
