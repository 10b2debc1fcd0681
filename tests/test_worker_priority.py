"""Spawned workers run at a lower CPU priority than the app that launched them (``nice``), so a
click stays quick while a worker trades or searches as fast as it can; a shell's command
keeps the shell's priority. And a click that starts a worker waits for its claim."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core import _processes
from core.paper import FeedConfig, SessionConfig, SleeveConfig

ROOT = Path(__file__).resolve().parents[1]


def _niceness_after(env: dict[str, str], calls: int = 1) -> int:
    code = (
        "import os; from core._processes import lower_priority\n"
        f"for _ in range({calls}): lower_priority()\n"
        "print(os.nice(0))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return int(out.stdout)


def test_the_level_is_absolute_and_a_shell_command_keeps_its_own():
    base = {k: v for k, v in os.environ.items() if k != _processes.NICE_ENV}
    mine = os.nice(0)
    assert _niceness_after(base) == mine  # not spawned by the workstation: unchanged
    spawned = {**base, _processes.NICE_ENV: "10"}
    # twice (a worker's own worker): still 10, not 20 (or 19, the floor)
    assert _niceness_after(spawned, calls=2) == max(10, mine)
    assert _niceness_after({**base, _processes.NICE_ENV: "junk"}) == mine  # never a failure


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("/autogroup-123 nice 10\n", 10),
        ("/autogroup-1 nice -5\n", -5),
        ("", None),  # a sandbox's empty file: no autogroup to read, not a crash
        ("/autogroup-9\n", None),
        ("nice ten\n", None),
    ],
)
def test_the_autogroup_level_is_read_or_reported_missing(tmp_path, content, expected):
    (tmp_path / "7").mkdir()
    (tmp_path / "7" / "autogroup").write_text(content)
    assert _processes.autogroup_nice(7, proc=tmp_path) == expected
    assert _processes.autogroup_nice(8, proc=tmp_path) is None  # no such process


def test_only_a_session_leader_lowers_its_autogroup():
    """The autogroup is the session's: a worker (its own session) lowers it; a process that
    shares its parent's session (a shell's command with the variable set) must not."""
    if _processes.autogroup_nice() is None:
        pytest.skip("no autogroup scheduling here")
    env = {**os.environ, _processes.NICE_ENV: "10"}
    code = (
        "from core._processes import lower_priority, autogroup_nice\n"
        "lower_priority(); print(autogroup_nice())"
    )
    run = dict(cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    leader = subprocess.run([sys.executable, "-c", code], start_new_session=True, **run)
    assert int(leader.stdout) == 10
    before = _processes.autogroup_nice()
    member = subprocess.run([sys.executable, "-c", code], **run)
    assert int(member.stdout) == before == _processes.autogroup_nice()


def test_spawn_core_hands_the_level_to_the_worker(monkeypatch, tmp_path):
    calls = []

    class Fake:
        def spawn(self, args, log_file, env):
            calls.append(env)
            return 7

    monkeypatch.setattr(_processes, "_launcher", Fake())
    _processes.spawn_core(["--help"])
    assert calls[0][_processes.NICE_ENV] == str(_processes.WORKER_NICE) == "10"
    # a caller may ask for another level
    _processes.spawn_core(["--help"], env={_processes.NICE_ENV: "3"})
    assert calls[1][_processes.NICE_ENV] == "3"


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_a_cold_spawned_paper_worker_runs_at_the_lower_priority(ws, db_url, monkeypatch):
    monkeypatch.setattr(_processes, "_launcher", None)  # the cold path: a new interpreter
    config = SessionConfig(
        sleeves=(SleeveConfig(key="s", strategy="sma_crossover"),),
        feed=FeedConfig(kind="synthetic", preset="equity", seed=1, events=100_000),
        speed=1.0,  # real time: the worker stays alive while it is measured
    )
    ws.paper.create("slow", config)
    pid = ws.paper.start_worker("slow", db_url, log_dir=None)
    try:
        assert ws.paper.wait_for_worker("slow", was="created", timeout=90) == "running"
        assert os.getpriority(os.PRIO_PROCESS, pid) == max(10, os.nice(0))
        if _processes.autogroup_nice() is not None:  # Linux with autogroup scheduling
            assert _processes.autogroup_nice(pid) == 10  # its session's group, not only itself
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


def _quick() -> SessionConfig:
    return SessionConfig(
        sleeves=(SleeveConfig(key="s", strategy="sma_crossover"),),
        feed=FeedConfig(kind="synthetic", preset="equity", seed=1, events=200),
    )


def test_wait_for_worker_returns_once_the_status_moves_on(ws, monkeypatch):
    ws.paper.create("w", _quick())
    now = [0.0]
    sleeps = []

    def sleep(seconds):  # the worker claims the session during the third wait
        sleeps.append(seconds)
        now[0] += seconds
        if len(sleeps) == 3:
            ws.paper.worker("w").writer.claim("w")

    monkeypatch.setattr(type(ws.paper), "worker_alive", lambda self, row: True)
    status = ws.paper.wait_for_worker(
        "w", was="created", timeout=3.0, poll=0.05, sleep=sleep, clock=lambda: now[0]
    )
    assert status == "running" and sleeps == [0.05] * 3


def test_wait_for_worker_gives_up_after_its_timeout(ws):
    ws.paper.create("w", _quick())
    now = [0.0]

    def sleep(seconds):
        now[0] += seconds

    start = time.monotonic()
    status = ws.paper.wait_for_worker(
        "w", was="created", timeout=1.0, poll=0.25, sleep=sleep, clock=lambda: now[0]
    )
    assert status == "created" and now[0] == 1.0  # four polls of 0.25 s, then the answer
    assert time.monotonic() - start < 1.0  # its clock and sleep were the ones given
