"""Click-to-result times in a real browser: the four flows of issue 12's "fast clicks".

Starts ``streamlit run app/main.py`` on a free port with a temporary database and drives
Debian's Chromium with Playwright through:

- **backtest**: "Run backtest" (SPX, defaults) → the "Final equity" metric is visible;
- **montecarlo**: "Run Monte Carlo" (10,000 paths) → "P(profit)" is visible;
- **paper**: "Create session" (synthetic feed, start now) → the live panel shows the worker's
  status, "running" (or "finished": the default synthetic session of 20,000 ticks at
  864,000× can end within 3 s of its start, before the page first shows it);
- **optimize**: "Start optimisation" (defaults) → the new job's status is past "queued".

Each repeat opens a new page (its own Streamlit session; one browser context, so static files
come from the browser's cache as they do for a user), loads it untimed until its script run
has finished, then times click → result with the page's own clock: from the ``pointerdown``
event to the first animation frame where the result is visible. Prints a markdown table
(seconds).

    python benchmarks/bench_clicks.py --repeats 3
    python benchmarks/bench_clicks.py --flows backtest,montecarlo --repeats 5
"""

from __future__ import annotations

import argparse
import os
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


IDLE = (
    "() => document.querySelector('[data-testid=stApp]')"
    "?.getAttribute('data-test-script-state') === 'notRunning'"
)
# In the page: the time of the first pointerdown from now on (the user's click)
ARM = """() => {
    window.__clickAt = null;
    document.addEventListener('pointerdown', () => {
        if (window.__clickAt === null) window.__clickAt = performance.now();
    }, {capture: true, once: true});
}"""
# In the page, every animation frame: is a visible element's text matching PATTERN there?
SHOWN = """([selector, pattern]) => {
    const re = new RegExp(pattern);
    const hit = [...document.querySelectorAll(selector)].some(
        e => e.offsetParent !== null && re.test(e.textContent));
    if (hit && window.__clickAt !== null) window.__doneAt = performance.now();
    return hit && window.__clickAt !== null;
}"""
METRIC = "[data-testid=stMetric]"


def wait_idle(page) -> None:
    """Until the page's script run has finished (Streamlit's own marker on the app element),
    then two animation frames (the browser has drawn what the run sent)."""
    page.wait_for_function(IDLE, timeout=TIMEOUT_MS)
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def _open(context, url: str, wait_text: str):
    """A new page (its own Streamlit session; the browser's cache is shared), loaded, idle."""
    page = context.new_page()
    page.goto(url, timeout=TIMEOUT_MS)
    page.get_by_text(wait_text).first.wait_for(timeout=TIMEOUT_MS)
    wait_idle(page)
    return page


# In the page: the selected job (the Job combobox's value) is not BEFORE and its status is
# past "queued"
NEW_JOB_RUNS = """([before]) => {
    const box = document.querySelector('input[aria-label="Job"]');
    const label = box ? box.value : '';
    const status = [...document.querySelectorAll('p')].find(
        e => e.offsetParent !== null && e.textContent.startsWith('Status:'));
    const hit = label !== '' && label !== before && status !== undefined
        && !status.textContent.includes('queued');
    if (hit && window.__clickAt !== null) window.__doneAt = performance.now();
    return hit && window.__clickAt !== null;
}"""


def timed_click(page, button, predicate: str, arg: list) -> float:
    """Seconds from the click reaching the page to ``predicate(arg)`` holding in it (checked
    every animation frame): both stamped by the page's own clock."""
    page.evaluate(ARM)
    button.click()
    page.wait_for_function(predicate, arg=arg, polling="raf", timeout=TIMEOUT_MS)
    return page.evaluate("() => (window.__doneAt - window.__clickAt) / 1000")


def flow_backtest(context, url: str, _db: str, _i: int) -> float:
    page = _open(context, f"{url}/backtest", "Run backtest")
    button = page.get_by_role("button", name="Run backtest")
    elapsed = timed_click(page, button, SHOWN, [METRIC, "Final equity"])
    page.close()
    return elapsed


def flow_montecarlo(context, url: str, _db: str, _i: int) -> float:
    page = _open(context, f"{url}/backtest", "Run backtest")
    page.get_by_role("button", name="Run backtest").click()
    page.get_by_test_id("stMetric").filter(has_text="Final equity").first.wait_for(
        timeout=TIMEOUT_MS
    )
    page.get_by_role("tab", name="Monte Carlo").click()
    button = page.get_by_role("button", name="Run Monte Carlo")
    button.wait_for(timeout=TIMEOUT_MS)
    wait_idle(page)
    # visible: the result shows in the Monte Carlo tab, where the user clicked
    elapsed = timed_click(page, button, SHOWN, [METRIC, r"P\(profit\)"])
    page.close()
    return elapsed


def flow_paper(context, url: str, db: str, i: int) -> float:
    # only the new session may show "running": stop and delete the previous ones
    for name in (f"bench {j}" for j in range(i)):
        core_cli(db, "paper", "stop", "--session", name)
        core_cli(db, "paper", "delete", "--session", name)
    page = _open(context, f"{url}/paper", "Create session")
    page.get_by_label("Session name").fill(f"bench {i}")
    page.get_by_text("Synthetic market").click()
    wait_idle(page)
    button = page.get_by_role("button", name="Create session")
    try:
        elapsed = timed_click(page, button, SHOWN, ["p, span", "(running|finished) · last"])
    except Exception:  # what the page and the session showed instead
        shown = page.get_by_test_id("stProgress").all_inner_texts()
        status = core_cli(db, "--json", "paper", "status", "--session", f"bench {i}").stdout
        print(f"paper #{i}: the page shows {shown}; paper status: {status[:300]}", file=sys.stderr)
        page.screenshot(path=str(ROOT / f"bench-paper-{i}.png"), full_page=True)
        raise
    page.close()
    core_cli(db, "paper", "stop", "--session", f"bench {i}")
    return elapsed


def flow_optimize(context, url: str, _db: str, _i: int) -> float:
    page = _open(context, f"{url}/optimize", "Start optimisation")
    box = page.get_by_role("combobox", name="Job")
    before = box.input_value() if box.count() else ""
    button = page.get_by_role("button", name="Start optimisation")
    elapsed = timed_click(page, button, NEW_JOB_RUNS, [before])
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
                context = browser.new_context(viewport={"width": 1400, "height": 1000})
                # warm the server (first page opens and seeds the database)
                _open(context, f"{url}/backtest", "Run backtest").close()
                for flow in flows:
                    run = globals()[f"flow_{flow}"]
                    results[flow] = []
                    for i in range(args.repeats):
                        try:
                            results[flow].append(run(context, url, db, i))
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
