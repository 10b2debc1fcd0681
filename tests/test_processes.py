"""Worker processes: a finished child is reaped when probed, not left as a zombie."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from core._processes import process_alive

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")


def _state(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return None  # gone: reaped


def test_probing_a_finished_child_reaps_it():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 30
    while _state(child.pid) not in ("Z", None) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _state(child.pid) == "Z"  # exited, unreaped: a zombie under this process
    assert process_alive(child.pid) is False
    assert _state(child.pid) is None  # reaped: no zombie left
    child.returncode = 0  # reaped above; keep Popen from waiting on a pid that is gone


def test_a_running_child_is_alive_and_not_reaped():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert process_alive(child.pid) is True
        assert _state(child.pid) not in (None, "Z")
    finally:
        child.kill()
        child.wait()


def test_a_process_that_is_not_a_child_is_probed_by_signal():
    assert process_alive(1) is True  # init: not our child, alive
