"""The browser harness shared by the end-to-end tests and ``benchmarks/bench_clicks.py``.

Debian's Chromium with the flags this machine needs (no background networking: its
connections are refused here), and ``streamlit run app/main.py`` started from the repository
root (so ``.streamlit/config.toml`` is read, as in production) on a free loopback port.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

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


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_streamlit(env: dict[str, str], *, wait: float = 60.0) -> tuple[subprocess.Popen, str]:
    """The app served with ``env`` (its database, its settings); the process and its URL.

    Returns once the port accepts connections (or ``wait`` seconds have passed).
    """
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app/main.py", "--server.port", str(port)],
        cwd=ROOT,
        env={**os.environ, "WORKSTATION_WARM_WORKERS": "1", **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.3)
    return process, f"http://127.0.0.1:{port}"


def stop(process: subprocess.Popen) -> None:
    """End a server started by :func:`start_streamlit`."""
    process.terminate()
    process.wait(timeout=20)
