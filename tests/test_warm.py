"""Warm workers (core.warm): a forked worker is the worker a cold ``python -m core`` would be.

Each test checks the fork against the cold launch or against the database it wrote, not
against the launcher's own account of itself.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core import _processes, warm
from core.workstation import Workstation

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow  # the helper imports the workstation once per test (~4 s)


@pytest.fixture
def launcher():
    launcher = warm.WarmLauncher()
    assert launcher.wait_ready(120), "the helper did not finish importing"
    yield launcher
    launcher.close()


def _env(url: str, **extra: str) -> dict[str, str]:
    return {**os.environ, "WORKSTATION_DATABASE_URL": url, **extra}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_gone(pid: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while _processes.process_alive(pid):
        assert time.monotonic() < deadline, f"worker {pid} still runs"
        time.sleep(0.02)


def test_a_warm_worker_writes_what_a_cold_one_prints(launcher, tmp_path):
    url = f"sqlite:///{tmp_path}/w.db"
    Workstation.open(url, seed_demo=False).portfolios.create("alpha", 1234.5)
    cold = subprocess.run(
        [sys.executable, "-m", "core", "--json", "portfolio", "list"],
        cwd=ROOT,
        env=_env(url),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    log = tmp_path / "logs" / "warm.log"  # the folder does not exist yet
    pid = launcher.spawn(["--json", "portfolio", "list"], log, _env(url))
    assert pid is not None
    _wait_gone(pid)
    assert json.loads(log.read_text()) == json.loads(cold.stdout)


def test_the_worker_has_the_requested_environment_not_the_helpers(launcher, tmp_path):
    # the helper was started with this process's environment (demo seeding on by default);
    # the request turns seeding off and names the database: both must reach the worker
    url = f"sqlite:///{tmp_path}/env.db"
    env = _env(url, WORKSTATION_SEED_DEMO="0")
    pid = launcher.spawn(["portfolio", "create", "beta", "--cash", "10"], None, env)
    _wait_gone(pid)
    assert Workstation.open(url, seed_demo=False).portfolios.names() == ["beta"]


def test_a_worker_runs_in_its_own_session_outlives_the_helper_and_is_reaped(launcher, tmp_path):
    port = _free_port()
    env = _env(f"sqlite:///{tmp_path}/api.db", WORKSTATION_API_TOKEN="t" * 32)
    Workstation.open(env["WORKSTATION_DATABASE_URL"], seed_demo=False).close()
    pid = launcher.spawn(
        ["api", "--port", str(port), "--status-file", str(tmp_path / "s1.json")],
        tmp_path / "api.log",
        env,
    )
    try:
        deadline = time.monotonic() + 10  # the fork calls setsid() first thing
        while os.getsid(pid) != pid:
            assert time.monotonic() < deadline, "the worker is not a session leader"
            time.sleep(0.01)
        helper = launcher._process.pid
        assert os.getppid() != helper and pid != helper
        os.kill(pid, 15)
        _wait_gone(pid)
        # reaped by the kernel (the helper ignores SIGCHLD): no zombie entry is left
        deadline = time.monotonic() + 10
        while Path(f"/proc/{pid}").exists():
            assert time.monotonic() < deadline, "the finished worker is left as a zombie"
            time.sleep(0.05)
        survivor = launcher.spawn(
            ["api", "--port", str(port), "--status-file", str(tmp_path / "s2.json")],
            tmp_path / "api2.log",
            env,
        )
        launcher.close()  # the helper ends; its worker goes on
        time.sleep(0.5)
        assert _processes.process_alive(survivor)
    finally:
        for p in (pid, locals().get("survivor")):
            if p:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(p, 9)


def test_changed_code_restarts_the_helper_and_that_request_waits_for_it(launcher, monkeypatch):
    first = launcher._process.pid
    stamp = warm.code_stamp()
    monkeypatch.setattr(warm, "code_stamp", lambda: (stamp[0], stamp[1] + 1))
    pid = launcher.spawn(["--help"], None, dict(os.environ))
    assert launcher._process.pid != first  # a new helper imported the new code
    assert pid is not None  # and forked this worker once it had
    _wait_gone(pid)


def test_a_request_waits_for_a_helper_still_importing():
    launcher = warm.WarmLauncher(preload=("core.workstation",))
    try:
        launcher.start()
        assert not launcher.ready()
        pid = launcher.spawn(["--help"], None, dict(os.environ))
        assert pid is not None and launcher.ready()
        _wait_gone(pid)
    finally:
        launcher.close()


def test_a_helper_not_ready_within_the_wait_answers_none():
    launcher = warm.WarmLauncher(preload=("core.workstation",), ready_wait=0.0)
    try:
        launcher.start()
        assert launcher.spawn(["--help"], None, dict(os.environ)) is None  # start it cold
    finally:
        launcher.close()


class _Fake:
    def __init__(self, answer):
        self.answer, self.calls = answer, []

    def spawn(self, args, log_file, env):
        self.calls.append((args, log_file, env))
        return self.answer


def test_spawn_core_forks_through_the_launcher_with_the_cold_environment(monkeypatch, tmp_path):
    fake = _Fake(4242)
    monkeypatch.setattr(_processes, "_launcher", fake)
    pid = _processes.spawn_core(
        ["paper", "run"], tmp_path / "x.log", database_url="sqlite:///x.db", env={"A": "1"}
    )
    assert pid == 4242
    [(args, log, env)] = fake.calls
    assert args == ["paper", "run"] and log == tmp_path / "x.log"
    assert env == {
        **os.environ,
        "A": "1",
        "WORKSTATION_DATABASE_URL": "sqlite:///x.db",
        "WORKSTATION_WORKER_NICE": "10",
    }


def test_spawn_core_starts_cold_when_the_launcher_cannot(monkeypatch):
    monkeypatch.setattr(_processes, "_launcher", _Fake(None))
    pid = _processes.spawn_core(["--help"])
    _, status = os.waitpid(pid, 0)  # a child of this process: the cold path ran
    assert os.waitstatus_to_exitcode(status) == 0


def test_the_off_switch_and_a_second_install(monkeypatch):
    monkeypatch.setattr(_processes, "_launcher", None)
    monkeypatch.setenv(warm.OFF_SWITCH, "0")
    assert warm.install() is None and _processes.current_launcher() is None
    monkeypatch.setenv(warm.OFF_SWITCH, "1")
    first = warm.install()
    try:
        assert warm.install() is first and _processes.current_launcher() is first
    finally:
        first.close()
