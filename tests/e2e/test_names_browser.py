"""In headless Chromium, as a person sees it: a portfolio name full of Markdown shows literally
(no bold, no link, no icon), and the toolbar offers no Deploy button."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.harness import ARGS, CHROMIUM, ROOT, start_streamlit, stop

NAME = "**bold** [x](http://evil) www.evil.com a@b.co :material/home: $x$ <b>h</b>"

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason="needs Debian's chromium (apt-get install chromium)"
    ),
]


@pytest.fixture
def server(tmp_path):
    env = {
        **os.environ,
        "WORKSTATION_DATABASE_URL": f"sqlite:///{tmp_path}/names.db",
        "WORKSTATION_SEED_DEMO": "0",
    }
    command = [sys.executable, "-m", "core", "portfolio", "create", NAME, "--cash", "1000"]
    subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True, timeout=120)
    process, url = start_streamlit(env)
    yield url
    stop(process)


@pytest.mark.timeout(180)
def test_a_markdown_name_shows_literally_and_there_is_no_deploy_button(server):
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(server, timeout=60_000)
        heading = page.locator("h3").first
        heading.wait_for(timeout=60_000)
        shown = heading.inner_text().replace("\u2060", "")  # word joiners are invisible
        links = [a.get_attribute("href") or "" for a in heading.locator("a").all()]
        bold = heading.locator("strong, b").count()
        icons = heading.locator("[data-testid='stIconMaterial']").count()
        deploy = page.get_by_text("Deploy", exact=True).count()
        browser.close()
    assert shown == NAME
    assert [link for link in links if not link.startswith("#")] == []  # only the header anchor
    assert bold == 0 and icons == 0
    assert deploy == 0
