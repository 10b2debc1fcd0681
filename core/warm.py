"""Warm workers: a fork server that has already imported the workstation.

A worker (``paper run``, ``optimize-worker``, ``task-worker``, ``autopilot schedule``) is
``python -m core …`` in a new process. Most of its start-up is importing: pandas, SciPy,
SQLAlchemy, Alembic and the workstation's own modules take 3–4 s of CPU (``python -X
importtime -c "import core.workstation"``), and far more on a loaded machine. That is the
gap between "Create session" and a live panel that reads "running".

:class:`WarmLauncher` keeps one helper process (``python -m core._warm_server``) that imports
:data:`PRELOAD` once, then forks a worker per request. The fork runs the same
:func:`core.cli.main` a cold ``python -m core ARGS`` runs, in its own session, in the
repository root, with exactly the environment the cold launch would have had and its output
appended to the log file: only the start-up differs. The helper:

- reads requests (one JSON line each) on its standard input and answers the new pid on its
  standard output; it exits when its standard input closes, that is when the process that
  started it (the app server) ends, so it never outlives its owner;
- ignores ``SIGCHLD``, so the kernel reaps every worker it forked (no zombie), and a worker
  resets that before it runs (its own ``subprocess`` calls need their exit statuses);
- is restarted when the code it imported changed on disk (a worker never runs stale code).

A request that finds the helper still importing (the app has just started, or the code
changed) waits for it, up to :data:`READY_WAIT` seconds: the helper began importing before
the request came, so a cold start would finish no sooner. A launcher that is not ready by
then, has died or fails answers ``None`` and the caller starts the worker cold
(:func:`core._processes.spawn_core`). Only the
composition root turns it on (:func:`core.workstation.Workstation.open` with
``warm_workers=True``, done by the app); ``WORKSTATION_WARM_WORKERS=0`` turns it off.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import threading
from collections.abc import Mapping
from pathlib import Path

from core import _processes

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "core"
OFF_SWITCH = "WORKSTATION_WARM_WORKERS"
# what every worker imports (the CLI and its worker commands, the services they open)
PRELOAD = (
    "core.workstation",
    "core.cli",
    "core.cli._paper",
    "core.cli._optimize",
    "core.cli._tasks",
    "core.cli._autopilot",
)
REPLY_TIMEOUT = 10.0  # seconds to wait for a pid once the helper is ready
READY_WAIT = 20.0  # seconds a request waits for a helper still importing (then: a cold start)


def enabled(environ: Mapping[str, str] | None = None) -> bool:
    """False when ``WORKSTATION_WARM_WORKERS`` is ``0`` (or ``false``/``no``/``off``)."""
    value = (os.environ if environ is None else environ).get(OFF_SWITCH, "1")
    return value.strip().lower() not in {"0", "false", "no", "off"}


def code_stamp() -> tuple[int, int]:
    """(number of files, newest mtime in ns) of ``core/``'s Python files: changes when code does."""
    mtimes = [path.stat().st_mtime_ns for path in CORE.rglob("*.py")]
    return len(mtimes), max(mtimes, default=0)


class WarmLauncher:
    """Start ``python -m core ARGS`` by forking a helper that has already imported the code.

    Thread-safe (Streamlit runs each browser session in its own thread). See the module doc.

    Parameters
    ----------
    preload : tuple of str
        Modules the helper imports before it is ready.
    python : str
        The interpreter of the helper (this one by default).
    """

    def __init__(
        self,
        preload: tuple[str, ...] = PRELOAD,
        python: str = sys.executable,
        ready_wait: float = READY_WAIT,
    ):
        self.preload = preload
        self.python = python
        self.ready_wait = ready_wait
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None
        self._ready = False
        self._stamp: tuple[int, int] | None = None

    def start(self) -> None:
        """Start the helper if none runs (returns at once; it becomes ready in the background)."""
        with self._lock:
            self._ensure_started()

    def ready(self) -> bool:
        """True once the helper has imported everything and waits for requests."""
        with self._lock:
            return self._poll_ready()

    def wait_ready(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the helper to be ready; whether it is."""
        with self._lock:
            self._ensure_started()
            return self._wait_ready(timeout)

    def spawn(self, args: list[str], log_file: Path | None, env: Mapping[str, str]) -> int | None:
        """Fork ``python -m core ARGS`` with ``env``; its pid, or None to start it cold instead.

        A helper still importing (or restarted here because the code changed) is waited
        for, up to ``ready_wait`` seconds. None when it is not ready by then, has died or did
        not answer; the helper is then started or restarted for the next request.
        """
        request = {
            "args": list(args),
            "env": dict(env),
            "log": None if log_file is None else str(log_file),
            "cwd": str(ROOT),
        }
        with self._lock:
            if self._process is not None and self._stamp != code_stamp():
                self._stop()  # the code changed: a new helper imports the new code
            self._ensure_started()
            if not self._wait_ready(self.ready_wait):
                return None
            process = self._process
            try:
                process.stdin.write(json.dumps(request).encode() + b"\n")
                process.stdin.flush()
                readable, _, _ = select.select([process.stdout], [], [], REPLY_TIMEOUT)
                line = process.stdout.readline() if readable else b""
                return int(json.loads(line)["pid"])
            except (OSError, ValueError, KeyError, TypeError):
                self._stop()  # broken or silent: start cold now, a fresh helper next time
                return None

    def close(self) -> None:
        """Stop the helper (workers it forked keep running)."""
        with self._lock:
            self._stop()

    # -- internals (called with the lock held) -----------------------------------------------
    def _ensure_started(self) -> None:
        if self._process is not None and self._process.poll() is None:
            return
        self._stamp = code_stamp()
        self._ready = False
        self._process = subprocess.Popen(
            [self.python, "-m", "core._warm_server", *self.preload],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            bufsize=0,
        )

    def _wait_ready(self, timeout: float) -> bool:
        process = self._process
        if self._poll_ready() or process is None or process.stdout is None or timeout <= 0:
            return self._ready
        readable, _, _ = select.select([process.stdout], [], [], timeout)
        return bool(readable) and self._poll_ready()

    def _poll_ready(self) -> bool:
        process = self._process
        if process is None or process.poll() is not None:
            self._ready = False
            return False
        if not self._ready:
            readable, _, _ = select.select([process.stdout], [], [], 0)
            if readable:
                self._ready = process.stdout.readline() == b"ready\n"
                if not self._ready:
                    self._stop()
        return self._ready

    def _stop(self) -> None:
        process, self._process, self._ready = self._process, None, False
        if process is None:
            return
        for pipe in (process.stdin, process.stdout):
            if pipe is not None:
                pipe.close()  # EOF: the helper leaves its loop
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def install() -> WarmLauncher | None:
    """Start a launcher and route this process's workers through it; the launcher.

    Idempotent (a second call keeps the first launcher). None, and cold starts, when
    ``WORKSTATION_WARM_WORKERS=0``.
    """
    if not enabled():
        _processes.use_launcher(None)
        return None
    current = _processes.current_launcher()
    if isinstance(current, WarmLauncher):
        return current
    launcher = WarmLauncher()
    launcher.start()
    _processes.use_launcher(launcher)
    return launcher
